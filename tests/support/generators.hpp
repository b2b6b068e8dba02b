// Random inputs for the property tests, all drawn from attn::test::rng(salt) so that every
// failure reproduces from the seed the run prints (the sizes that reach every SIMD tail:
// support/lengths.hpp); and guarded storage that notices a write outside a view.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <attn/matrix.hpp>

#include "support/lengths.hpp"
#include "support/placed.hpp"
#include "support/seed.hpp"
#include "support/tolerances.hpp"

namespace attn::test {

/// n floats uniform in [lo, hi).
inline std::vector<float> uniform_row(std::mt19937_64& gen, std::size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

/// n standard normal floats (the model of step 6: q and k with unit-variance components).
inline std::vector<float> gaussian_row(std::mt19937_64& gen, std::size_t n, float sigma = 1.0f) {
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

/// n floats of random sign with magnitudes 10^e, e uniform in [-decades, decades]: wide
/// ranges and heavy cancellation.
inline std::vector<float> wide_row(std::mt19937_64& gen, std::size_t n, int decades) {
  std::uniform_real_distribution<float> exponent(static_cast<float>(-decades), static_cast<float>(decades));
  std::bernoulli_distribution negative(0.5);
  std::vector<float> v(n);
  for (float& x : v) {
    const float magnitude = std::pow(10.0f, exponent(gen));
    x = negative(gen) ? -magnitude : magnitude;
  }
  return v;
}

/// n floats on a 1/16 grid in [lo, hi]: adding an integer c with |x + c| < 2^19 is exact
/// in float, so shift invariance can be tested without rounding the shift.
inline std::vector<float> grid_row(std::mt19937_64& gen, std::size_t n, int lo, int hi) {
  std::uniform_int_distribution<int> dist(lo * 16, hi * 16);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(dist(gen)) / 16.0f;
  return v;
}

/// A rows x cols matrix uniform in [lo, hi).
inline matrix uniform_matrix(std::mt19937_64& gen, std::size_t rows, std::size_t cols, float lo, float hi) {
  matrix m(rows, cols);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float& x : m.elements()) x = dist(gen);
  return m;
}

/// A rows x cols matrix of standard normal entries.
inline matrix gaussian_matrix(std::mt19937_64& gen, std::size_t rows, std::size_t cols) {
  matrix m(rows, cols);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& x : m.elements()) x = dist(gen);
  return m;
}

/// A rows x cols output with sentinels before and after it (support/placed.hpp, three
/// floats off alignment, so the view starts unaligned): writes outside the view show up in
/// intact() as changed sentinels.
class guarded_matrix {
 public:
  guarded_matrix(std::size_t rows, std::size_t cols, float fill)
      : rows_(rows), cols_(cols), buffer_(rows * cols, fill, 3) {}
  matrix_view view() { return {buffer_.data(), rows_, cols_}; }
  const_matrix_view view() const { return {buffer_.data(), rows_, cols_}; }
  /// No element outside the view changed.
  bool intact() const { return buffer_.fences_intact(); }

 private:
  std::size_t rows_, cols_;
  placed buffer_;
};

/// "3 x 4", for messages about shapes.
inline std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

/// Doubles rounded to float (expected values in the precision under test).
inline std::vector<float> to_floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

/// sum_t |q_t k_t|, what the bounds of dot products take (tolerances.hpp).
using tol::sum_abs_products;

}  // namespace attn::test
