// Steps 4-5 of the reference: softmax, log-sum-exp and the whole attention_weights
// pipeline. Every softmax here is the stable one (subtract the row max first).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>

#include <attn/reference.hpp>

#include "kernel_table.hpp"
#include "shapes.hpp"

namespace attn::ref {
namespace {

constexpr float infinity = std::numeric_limits<float>::infinity();
constexpr float quiet_nan = std::numeric_limits<float>::quiet_NaN();

// a_j = exp(x_j - m) / sum_l exp(x_l - m), m = max_l x_l, with the special rows of
// stable_softmax: NaN anywhere -> all NaN; all -inf -> all 0; +inf present -> the +inf
// entries share weight 1 equally (the limit of growing them together), the rest get 0.
void softmax_in_place(const detail::kernel_table& kernels, float* x, std::size_t n) {
  if (n == 0) return;
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
  ref::scores(Q, K, A);
  if (causal) ref::apply_causal_mask(A);
  ref::softmax_rows(A);
}

}  // namespace attn::ref
