// solutions/step6_instability.cpp -- answer key for step 6: why attention training goes
// unstable.
#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace attn {

//! [dot_variance]
double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
  if (samples == 0) {
    attn::invalid_input("attn::dot_variance",
                        "samples = 0; expected at least 1 sample to average over");
  }
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(d);
  std::vector<float> k(d);
  // E[q.k] = 0 is known, so the mean of the squares is the variance; squares of values
  // around sqrt(d) summed many times want a double accumulator.
  double sum_of_squares = 0.0;
  for (std::size_t s = 0; s < samples; ++s) {
    for (float& x : q) x = normal(gen);
    for (float& x : k) x = normal(gen);
    const double qk = attn::dot(q, k);
    sum_of_squares += qk * qk;
  }
  return sum_of_squares / static_cast<double>(samples);
}
//! [dot_variance]

//! [entropy]
float entropy(std::span<const float> a) {
  double h = 0.0;
  for (float x : a) {
    // lim x ln x = 0 as x -> 0, but 0 * log(0) = 0 * -inf = NaN. NaN == 0 is false, so a
    // NaN weight is not skipped and propagates.
    if (x == 0.0f) continue;
    const double xd = x;
    h -= xd * std::log(xd);  // natural log: entropy in nats, ln n for n uniform weights
  }
  return static_cast<float>(h);
}
//! [entropy]

//! [softmax_jacobian]
void softmax_jacobian(std::span<const float> a, matrix_view J) {
  const std::size_t n = a.size();
  if (J.rows != n || J.cols != n) {
    attn::invalid_input("attn::softmax_jacobian",
                        "J is " + std::to_string(J.rows) + " x " + std::to_string(J.cols) +
                            " but a has " + std::to_string(n) + " elements; expected J to be " +
                            std::to_string(n) + " x " + std::to_string(n));
  }
  // d a_j / d s_l = a_j (delta_jl - a_l): raising s_j raises a_j (the diagonal term) and
  // takes weight from everyone else. a_j (1 - a_j) keeps accuracy when a_j is near 1.
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t l = 0; l < n; ++l) {
      const float delta = (j == l) ? 1.0f : 0.0f;
      J(j, l) = a[j] * (delta - a[l]);
    }
  }
}
//! [softmax_jacobian]

}  // namespace attn
