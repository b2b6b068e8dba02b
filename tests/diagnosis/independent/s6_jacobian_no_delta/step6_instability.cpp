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
  if (samples == 0) {
    attn::invalid_input("attn::dot_variance", "samples = 0; expected at least 1");
  }
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(d, 0.0f), k(d, 0.0f);
  double sum = 0.0;
  for (std::size_t i = 0; i < samples; ++i) {
    for (std::size_t t = 0; t < d; ++t) q[t] = normal(gen);
    for (std::size_t t = 0; t < d; ++t) k[t] = normal(gen);
    const double v = attn::dot(q, k);
    sum += v * v;
  }
  return sum / static_cast<double>(samples);
}

float entropy(std::span<const float> a) {
  double h = 0.0;
  for (std::size_t j = 0; j < a.size(); ++j) {
    if (a[j] == 0.0f) continue;
    h += static_cast<double>(a[j]) * std::log(static_cast<double>(a[j]));
  }
  return static_cast<float>(-h);
}

// J = diag(a) - a a^T
void softmax_jacobian(std::span<const float> a, matrix_view J) {
  const std::size_t n = a.size();
  if (J.rows != n || J.cols != n) {
    attn::invalid_input("attn::softmax_jacobian", "J is " + std::to_string(J.rows) + " x " +
                                                      std::to_string(J.cols) + "; expected " +
                                                      std::to_string(n) + " x " + std::to_string(n));
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      J(i, j) = -a[i] * a[j];
    }
  }
}

}  // namespace attn
