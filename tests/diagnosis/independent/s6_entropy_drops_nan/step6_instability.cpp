#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace attn {

double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
  if (samples == 0) attn::invalid_input("attn::dot_variance", "samples = 0; expected at least 1");
  std::mt19937_64 engine(seed);
  std::normal_distribution<float> z(0.0f, 1.0f);
  std::vector<float> q(d), k(d);
  double acc = 0.0;
  for (std::size_t s = 0; s < samples; ++s) {
    for (float& v : q) v = z(engine);
    for (float& v : k) v = z(engine);
    const double x = static_cast<double>(attn::dot(q, k));
    acc += x * x;
  }
  return acc / static_cast<double>(samples);
}

float entropy(std::span<const float> a) {
  float h = 0.0f;
  for (float p : a) {
    if (!(p > 0.0f)) continue;  // 0 ln 0 = 0 (and log of anything <= 0 is undefined)
    h -= p * std::log(p);
  }
  return h;
}

void softmax_jacobian(std::span<const float> a, matrix_view J) {
  const std::size_t n = a.size();
  if (J.rows != n || J.cols != n) {
    attn::invalid_input("attn::softmax_jacobian", "J is " + std::to_string(J.rows) + " x " +
                                                      std::to_string(J.cols) + " but a has " +
                                                      std::to_string(n) +
                                                      " weights; expected J to be n x n");
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const float delta = (i == j) ? 1.0f : 0.0f;
      J(i, j) = a[i] * (delta - a[j]);
    }
  }
}

}  // namespace attn
