// Step 6 of the reference: why attention training goes unstable. Scalar code: these are
// diagnostics, not hot loops.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <attn/errors.hpp>
#include <attn/reference.hpp>

#include "shapes.hpp"

namespace attn::ref {

double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
  if (samples == 0) {
    invalid_input("attn::ref::dot_variance", "samples is 0 (d = " + std::to_string(d) +
                                                 "); expected at least one sample");
  }
  std::mt19937_64 engine(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(d), k(d);
  double sum_of_squares = 0.0;
  for (std::size_t s = 0; s < samples; ++s) {
    for (float& x : q) x = normal(engine);
    for (float& x : k) x = normal(engine);
    const double score = ref::dot(q, k);
    sum_of_squares += score * score;  // E[q.k] = 0, so the mean square is the variance
  }
  return sum_of_squares / static_cast<double>(samples);
}

// H(a) = -sum_j a_j ln a_j, accumulated in double; 0 ln 0 = 0 (the limit), NaN propagates.
float entropy(std::span<const float> a) {
  double h = 0.0;
  for (const float x : a) {
    if (x == 0.0f) continue;
    const double v = x;
    h -= v * std::log(v);
  }
  return static_cast<float>(h);
}

// J(i, j) = a_i (delta_ij - a_j).
void softmax_jacobian(std::span<const float> a, matrix_view J) {
  const std::size_t n = a.size();
  if (J.rows != n || J.cols != n) {
    invalid_input("attn::ref::softmax_jacobian", "J is " + detail::shape(J.rows, J.cols) +
                                                     " but a has " + std::to_string(n) +
                                                     " elements; expected J to be " +
                                                     detail::shape(n, n));
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const float delta = i == j ? 1.0f : 0.0f;
      J(i, j) = a[i] * (delta - a[j]);
    }
  }
}

}  // namespace attn::ref
