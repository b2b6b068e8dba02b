// The kernel table of plain loops: always compiled, chosen only when the platform has
// no SIMD instruction set compiled in (and testable everywhere as "scalar").
#include <cmath>
#include <cstddef>
#include <limits>

#include "kernel_table.hpp"

namespace attn::ref::detail {
namespace {

float dot(const float* a, const float* b, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float max(const float* x, std::size_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) return x[i];
    m = x[i] > m ? x[i] : m;
  }
  return m;
}

float sum_exp_shifted(const float* x, float m, float* out, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float e = std::exp(x[i] - m);  // std::exp(-inf) = 0 exactly
    if (out != nullptr) out[i] = e;
    sum += e;
  }
  return sum;
}

void divide(float* x, float c, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) x[i] /= c;
}

void scale_add(float* y, float c, float w, const float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = c * y[i] + w * x[i];
}

void scaled_difference(const float* a, const float* g, float c, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] * (g[i] - c);
}

// Tiles of 1 x 1: q is one row of Q and the panels are the rows of K.
void score_tiles(const score_block& b) {
  if (b.rows == 0) return;
  for (std::size_t j = 0; j < b.cols; ++j) {
    b.S[j] = j < b.visible ? dot(b.q, b.k_panels + j * b.d, b.d) * b.scale : -std::numeric_limits<float>::infinity();
    if (b.row_max != nullptr && b.S[j] > *b.row_max) *b.row_max = b.S[j];
  }
}

// Panels of one key: K as it is, times `scale`.
bool pack_panels(const float* K, std::size_t rows, std::size_t d, float scale, float* panels) {
  bool exact = true;
  for (std::size_t i = 0; i < rows * d; ++i) {
    panels[i] = K[i] * scale;
    exact = exact && !(std::fabs(panels[i]) < 0x1p-126f && K[i] != 0.0f);
  }
  return exact;
}

}  // namespace

const kernel_table scalar_table = {.name = "scalar",
                                   .lanes = 1,
                                   .dot = &dot,
                                   .max = &max,
                                   .sum_exp_shifted = &sum_exp_shifted,
                                   .divide = &divide,
                                   .scale_add = &scale_add,
                                   .scaled_difference = &scaled_difference,
                                   .tile_rows = 1,
                                   .tile_cols = 1,
                                   .pack_panels = &pack_panels,
                                   .score_tiles = &score_tiles};

}  // namespace attn::ref::detail
