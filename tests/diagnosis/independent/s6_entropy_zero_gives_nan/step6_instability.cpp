#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace attn {

double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
  if (samples == 0) {
    invalid_input("attn::dot_variance", "samples = 0; expected at least 1");
  }
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> q(d);
  std::vector<float> k(d);
  double total = 0.0;
  for (std::size_t n = 0; n < samples; ++n) {
    for (std::size_t t = 0; t < d; ++t) q[t] = dist(rng);
    for (std::size_t t = 0; t < d; ++t) k[t] = dist(rng);
    const float qk = attn::dot(q, k);
    total += static_cast<double>(qk) * static_cast<double>(qk);
  }
  return total / static_cast<double>(samples);
}

float entropy(std::span<const float> a) {
  return -std::accumulate(a.begin(), a.end(), 0.0f,
                          [](float acc, float p) { return acc + p * std::log(p); });
}

void softmax_jacobian(std::span<const float> a, matrix_view J) {
  if (J.rows != a.size() || J.cols != a.size()) {
    invalid_input("attn::softmax_jacobian", "J is " + std::to_string(J.rows) + " x " +
                                                std::to_string(J.cols) + " for n = " +
                                                std::to_string(a.size()) + "; expected n x n");
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < a.size(); ++j) {
      J(i, j) = (i == j) ? a[i] * (1.0f - a[i]) : -a[i] * a[j];
    }
  }
}

}  // namespace attn
