// A correct step 6 that must be accepted: a double normal distribution and a double dot
// product for the variance, a float entropy summed in reverse, and the Jacobian's
// diagonal as a_i - a_i a_i.
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
  std::mt19937_64 gen(seed ^ 0x9e3779b97f4a7c15ull);
  std::normal_distribution<double> normal;
  double total = 0.0;
  for (std::size_t s = 0; s < samples; ++s) {
    double qk = 0.0;
    for (std::size_t t = 0; t < d; ++t) qk += normal(gen) * normal(gen);
    total += qk * qk;
  }
  return total / static_cast<double>(samples);
}

float entropy(std::span<const float> a) {
  float h = 0.0f;
  for (std::size_t j = a.size(); j-- > 0;) {
    if (a[j] != 0.0f) h -= a[j] * std::log(a[j]);
  }
  return h;
}

void softmax_jacobian(std::span<const float> a, matrix_view J) {
  const std::size_t n = a.size();
  if (J.rows != n || J.cols != n) {
    attn::invalid_input("attn::softmax_jacobian", "J is " + std::to_string(J.rows) + " x " + std::to_string(J.cols) +
                                                      "; expected " + std::to_string(n) + " x " + std::to_string(n));
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) J(i, j) = i == j ? a[i] - a[i] * a[i] : -(a[i] * a[j]);
  }
}

}  // namespace attn
