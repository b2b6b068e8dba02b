// Steps 1-3 of the reference: the dot product, the scaled scores and the causal mask.
#include <cmath>
#include <limits>
#include <span>
#include <string>

#include <attn/errors.hpp>
#include <attn/reference.hpp>

#include "kernel_table.hpp"
#include "shapes.hpp"

namespace attn::ref {

float dot(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    invalid_input("attn::ref::dot", "q has " + std::to_string(q.size()) + " elements but k has " +
                                        std::to_string(k.size()) + "; expected equal lengths");
  }
  return detail::active_kernels().dot(q.data(), k.data(), q.size());
}

// The scale is applied as a division by the correctly rounded sqrt(d) (float), not as a
// multiplication by 1/sqrt(d): one rounding after the dot product instead of two.
float scaled_score(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    invalid_input("attn::ref::scaled_score", "q has " + std::to_string(q.size()) +
                                                 " elements but k has " + std::to_string(k.size()) +
                                                 "; expected equal lengths");
  }
  if (q.empty()) {
    invalid_input("attn::ref::scaled_score", "q and k are empty, so d = 0; expected d >= 1 to divide by sqrt(d)");
  }
  return ref::dot(q, k) / std::sqrt(static_cast<float>(q.size()));
}

void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  detail::check_score_shapes("attn::ref::scores", Q, K, S, "S");
  const detail::kernel_table& kernels = detail::active_kernels();
  const std::size_t d = Q.cols;
  const float sqrt_d = std::sqrt(static_cast<float>(d));
  for (std::size_t i = 0; i < Q.rows; ++i) {
    for (std::size_t j = 0; j < K.rows; ++j) {
      S(i, j) = kernels.dot(Q.data + i * d, K.data + j * d, d) / sqrt_d;
    }
  }
}

matrix causal_mask(std::size_t n) {
  matrix mask(n, n, 0.0f);
  ref::apply_causal_mask(mask.view());
  return mask;
}

void apply_causal_mask(matrix_view S) {
  constexpr float masked = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = i + 1; j < S.cols; ++j) S(i, j) = masked;
  }
}

}  // namespace attn::ref
