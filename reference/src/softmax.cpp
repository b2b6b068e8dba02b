// Steps 4-5 of the reference: softmax, log-sum-exp and the whole attention_weights
// pipeline. Every softmax here is the stable one (subtract the row max first).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <span>

#include <attn/reference.hpp>

#include "kernel_table.hpp"
#include "shapes.hpp"
#include "tiled.hpp"

namespace attn::ref {
namespace {

constexpr float infinity = std::numeric_limits<float>::infinity();
constexpr float quiet_nan = std::numeric_limits<float>::quiet_NaN();

// a_j = exp(x_j - m) / sum_l exp(x_l - m), m = max_l x_l, with the special rows of
// stable_softmax: NaN anywhere -> all NaN; all -inf -> all 0; +inf present -> the +inf
// entries share weight 1 equally (the limit of growing them together), the rest get 0.
// Returns the row max (NaN for a NaN row).
float softmax_in_place(const detail::kernel_table& kernels, float* x, std::size_t n) {
  if (n == 0) return -infinity;
  const float m = kernels.max(x, n);  // NaN if any x_j is NaN
  if (std::isnan(m)) {
    std::fill(x, x + n, quiet_nan);
  } else if (m == -infinity) {
    std::fill(x, x + n, 0.0f);
  } else if (m == infinity) {
    const auto count = static_cast<std::size_t>(std::count(x, x + n, infinity));
    const float share = 1.0f / static_cast<float>(count);
    std::transform(x, x + n, x, [share](float v) { return v == infinity ? share : 0.0f; });
  } else {
    // Every exponent is <= 0, so nothing overflows; the max term is exp(0) = 1, so sum >= 1.
    const float sum = kernels.sum_exp_shifted(x, m, x, n);
    kernels.divide(x, sum, n);
  }
  return m;
}

}  // namespace

void softmax(std::span<float> row) { ref::stable_softmax(row); }

void stable_softmax(std::span<float> row) {
  softmax_in_place(detail::active_kernels(), row.data(), row.size());
}

void softmax_rows(matrix_view S) {
  const detail::kernel_table& kernels = detail::active_kernels();
  for (std::size_t i = 0; i < S.rows; ++i) softmax_in_place(kernels, S.data + i * S.cols, S.cols);
}

float log_sum_exp(std::span<const float> row) {
  const detail::kernel_table& kernels = detail::active_kernels();
  if (row.empty()) return -infinity;
  const float m = kernels.max(row.data(), row.size());
  if (std::isnan(m)) return quiet_nan;
  if (std::isinf(m)) return m;  // +inf present, or every entry -inf
  return m + std::log(kernels.sum_exp_shifted(row.data(), m, nullptr, row.size()));
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  detail::check_score_shapes("attn::ref::attention_weights", Q, K, A, "A");
  // Fused: the scores (the dot product times 1/sqrt(d), exactly as scores() computes
  // them; folding 1/sqrt(d) into K instead would round subnormal keys to 0 and turn
  // (-inf) * k into NaN, as the fuzzer found) of one block of rows
  // (tile_rows of them) are computed into A by the register-blocked micro-kernel and turned
  // into weights while they are still in cache. Under the causal mask only the
  // tiles on or left of the diagonal are computed (about half the work); row i's softmax
  // runs over its visible prefix [0, i], padded to whole SIMD batches with -inf (weight
  // exactly 0, and never the max), and the rest of the row is written as 0: exactly what
  // masking with -inf and a softmax over the whole row give (a NaN row is NaN throughout).
  const detail::kernel_table& kernels = detail::active_kernels();
  const detail::packed_scores packed(kernels, Q, K, detail::inverse_sqrt(Q.cols));
  const std::size_t n_k = K.rows;
  const std::size_t lanes = kernels.lanes, tile_cols = kernels.tile_cols;
  const auto round_up = [](std::size_t x, std::size_t m) { return (x + m - 1) / m * m; };
  for (std::size_t b = 0; b < packed.blocks(); ++b) {
    const std::size_t first = b * packed.block_rows();
    const std::size_t last = std::min(first + packed.block_rows(), A.rows);
    // Whole tiles (the partial tile copies through a buffer) covering every padded prefix.
    const std::size_t cols = causal ? std::min(round_up(last, std::max(tile_cols, lanes)), n_k) : n_k;
    packed.compute(b, cols, A.data + first * A.cols, A.cols);
    for (std::size_t i = first; i < last; ++i) {
      float* row = A.data + i * A.cols;
      const std::size_t visible = causal ? std::min(i + 1, n_k) : n_k;
      const std::size_t padded = std::min(round_up(visible, lanes), cols);
      std::fill(row + visible, row + padded, -infinity);
      const float m = softmax_in_place(kernels, row, padded);
      if (std::isnan(m)) {
        std::fill(row + visible, row + n_k, quiet_nan);
      } else if (padded < n_k) {
        std::memset(row + padded, 0, (n_k - padded) * sizeof(float));  // +0.0f is all zero bits
      }
    }
  }
}

}  // namespace attn::ref
