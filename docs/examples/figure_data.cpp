// The numbers behind the docs' pictures, from the reference (attn::ref), as CSV on stdout:
//
//   figure_data heatmap [d] [n] [seed]   causal attention weights of n random tokens, scaled
//                                        (beta = q.k / sqrt(d)) and unscaled (beta = q.k):
//                                        lines "scaled|unscaled,d,i,j,weight"
//   figure_data saturation               softmax(t [1, 2, 3]) for t in [0, 12]: max weight,
//                                        entropy / ln 3, ||J||_F and trace J per t
//
// docs/plots.py draws them. Same arguments, same numbers.
#include <attn/attn.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

int heatmap(std::size_t d, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  attn::matrix Q(n, d), K(n, d), A(n, n);
  for (float& x : Q.elements()) x = normal(gen);
  for (float& x : K.elements()) x = normal(gen);
  std::printf("scaling,d,i,j,weight\n");
  for (const bool scaled : {true, false}) {
    attn::matrix Qs = Q;  // unscaled: sqrt(d) q through the same pipeline gives beta = q.k
    if (!scaled) {
      for (float& x : Qs.elements()) x *= std::sqrt(static_cast<float>(d));
    }
    attn::ref::attention_weights(Qs, K, A, /*causal=*/true);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        std::printf("%s,%zu,%zu,%zu,%.6g\n", scaled ? "scaled" : "unscaled", d, i, j, A(i, j));
      }
    }
  }
  return 0;
}

int saturation() {
  std::printf("t,max_weight,entropy_ratio,jacobian_norm,jacobian_trace\n");
  attn::matrix J(3, 3);
  for (int step = 0; step <= 120; ++step) {
    const float t = static_cast<float>(step) / 10.0f;
    std::vector<float> a{t * 1.0f, t * 2.0f, t * 3.0f};
    attn::ref::stable_softmax(a);
    attn::ref::softmax_jacobian(a, J);
    double frobenius = 0;
    for (const float x : J.elements()) frobenius += static_cast<double>(x) * x;
    std::printf("%.1f,%.6g,%.6g,%.6g,%.6g\n", t, a[2], attn::ref::entropy(a) / std::log(3.0),
                std::sqrt(frobenius), J(0, 0) + J(1, 1) + J(2, 2));
  }
  return 0;
}

std::size_t arg(int argc, char** argv, int i, std::size_t fallback) {
  return argc > i ? static_cast<std::size_t>(std::strtoull(argv[i], nullptr, 10)) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view what = argc > 1 ? argv[1] : "";
  if (what == "heatmap") return heatmap(arg(argc, argv, 2, 64), arg(argc, argv, 3, 16), arg(argc, argv, 4, 7));
  if (what == "saturation") return saturation();
  std::fprintf(stderr, "usage: figure_data heatmap [d] [n] [seed] | figure_data saturation\n");
  return 2;
}
