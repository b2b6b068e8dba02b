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
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(d), k(d);
  double sum_sq = 0.0;
  for (std::size_t s = 0; s < samples; ++s) {
    for (auto& x : q) x = normal(gen);
    for (auto& x : k) x = normal(gen);
    const double p = attn::dot(q, k);
    sum_sq += p * p;
  }
  return sum_sq / static_cast<double>(samples);
}

float entropy(std::span<const float> a) {
  double h = 0.0;
  for (float p : a) {
    if (p == 0.0f) continue;
    h -= static_cast<double>(p) * std::log2(static_cast<double>(p));
  }
  return static_cast<float>(h);
}

void softmax_jacobian(std::span<const float> a, matrix_view J) {
  const std::size_t n = a.size();
  if (J.rows != n || J.cols != n)
    attn::invalid_input("attn::softmax_jacobian", "J is " + std::to_string(J.rows) + " x " +
                                                      std::to_string(J.cols) + " but n = " +
                                                      std::to_string(n) + "; expected n x n");
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) J(i, j) = a[i] * ((i == j ? 1.0f : 0.0f) - a[j]);
}

}  // namespace attn
