#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace attn {

double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
  if (samples == 0) {
    attn::invalid_input("attn::dot_variance", "samples = 0; expected at least 1");
  }
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(d), k(d);
  auto draw = [&] { return normal(gen); };
  double sum = 0.0;
  for (std::size_t s = 0; s < samples; ++s) {
    std::generate(q.begin(), q.end(), draw);
    std::generate(k.begin(), k.end(), draw);
    sum += attn::dot(q, k);
  }
  const double mean = sum / static_cast<double>(samples);
  return mean * mean;
}

float entropy(std::span<const float> a) {
  float h = 0.0f;
  for (float w : a) {
    if (w != 0.0f) h -= w * std::log(w);
  }
  return h;
}

void softmax_jacobian(std::span<const float> a, matrix_view J) {
  const std::size_t n = a.size();
  if (J.rows != n || J.cols != n) {
    attn::invalid_input("attn::softmax_jacobian",
                        "J is " + std::to_string(J.rows) + " x " + std::to_string(J.cols) +
                            " but n = " + std::to_string(n) + "; expected n x n");
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      J(i, j) = (i == j) ? a[i] - a[i] * a[j] : -a[i] * a[j];
    }
  }
}

}  // namespace attn
