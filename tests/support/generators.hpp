// Random inputs for the property tests, all drawn from attn::test::rng(salt) so that every
// failure reproduces from the seed the run prints; the sizes that reach every SIMD tail;
// and guarded storage that notices a write outside a view.
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

#include "support/seed.hpp"
#include "support/tolerances.hpp"

namespace attn::test {

/// Lengths that hit every tail of an 4-, 8- or 16-lane SIMD loop (and of its 2x unrolled
/// version): 0..17, 31..33, 63..65, 127..129, 255..257, and a few large ones.
inline std::vector<std::size_t> tail_sizes() {
  std::vector<std::size_t> sizes;
  for (std::size_t n = 0; n <= 17; ++n) sizes.push_back(n);
  for (std::size_t centre : {32u, 64u, 128u, 256u}) {
    for (std::size_t n = centre - 1; n <= centre + 1; ++n) sizes.push_back(n);
  }
  for (std::size_t n : {1000u, 4099u, 65537u}) sizes.push_back(n);
  return sizes;
}

/// Shorter list for two- and three-dimensional sweeps (n_q x n_k x d).
inline std::vector<std::size_t> small_tail_sizes() {
  return {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33};
}

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

/// A rows x cols output with a band of sentinels before and after it: writes outside the
/// view show up in intact() as changed sentinels.
class guarded_matrix {
 public:
  static constexpr std::size_t kGuard = 19;  // odd, so the view starts unaligned
  static constexpr float kSentinel = 12345.678f;

  guarded_matrix(std::size_t rows, std::size_t cols, float fill)
      : rows_(rows), cols_(cols), storage_(kGuard + rows * cols + kGuard, kSentinel) {
    for (std::size_t k = 0; k < rows * cols; ++k) storage_[kGuard + k] = fill;
  }
  matrix_view view() { return {storage_.data() + kGuard, rows_, cols_}; }
  const_matrix_view view() const { return {storage_.data() + kGuard, rows_, cols_}; }
  /// No element outside the view changed.
  bool intact() const {
    for (std::size_t k = 0; k < kGuard; ++k) {
      if (storage_[k] != kSentinel || storage_[storage_.size() - 1 - k] != kSentinel) return false;
    }
    return true;
  }

 private:
  std::size_t rows_, cols_;
  std::vector<float> storage_;
};

/// sum_t |q_t k_t| in double: the scale of the dot product's rounding error (tol::dot).
/// "3 x 4", for messages about shapes.
inline std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

/// Doubles rounded to float (expected values in the precision under test).
inline std::vector<float> to_floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

/// sum_t |q_t k_t|, what the bounds of dot products take (tolerances.hpp).
using tol::sum_abs_products;

}  // namespace attn::test
