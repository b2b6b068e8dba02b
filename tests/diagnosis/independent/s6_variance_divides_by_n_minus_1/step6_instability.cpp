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
  if (samples == 0) invalid_input("attn::dot_variance", "samples = 0; expected at least 1");
  std::mt19937_64 g(seed);
  std::normal_distribution<float> n01(0.0f, 1.0f);
  std::vector<float> q(d), k(d);
  double ss = 0.0;
  for (std::size_t s = 0; s < samples; ++s) {
    for (float& x : q) x = n01(g);
    for (float& x : k) x = n01(g);
    const double v = attn::dot(q, k);
    ss += v * v;
  }
  // unbiased sample variance
  return ss / static_cast<double>(samples - 1);
}

float entropy(std::span<const float> a) {
  double h = 0.0;
  for (float x : a) {
    if (x == 0.0f) continue;
    h += -static_cast<double>(x) * std::log(static_cast<double>(x));
  }
  return static_cast<float>(h);
}

void softmax_jacobian(std::span<const float> a, matrix_view J) {
  if (J.rows != a.size() || J.cols != a.size()) {
    invalid_input("attn::softmax_jacobian", "J is " + std::to_string(J.rows) + " x " +
                                                std::to_string(J.cols) + " but a has " +
                                                std::to_string(a.size()) +
                                                " entries; expected a square n x n J");
  }
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < a.size(); ++j)
      J(i, j) = a[i] * (static_cast<float>(i == j) - a[j]);
}

}  // namespace attn
