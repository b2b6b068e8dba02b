#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <limits>

namespace attn {

namespace {
float mask_value(std::size_t i, std::size_t j) {
  return j > i ? -std::numeric_limits<float>::infinity() : 0.0f;
}
}  // namespace

matrix causal_mask(std::size_t n) {
  matrix m(n, n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) m(i, j) = mask_value(i, j);
  return m;
}

void apply_causal_mask(matrix_view S) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = 0; j < S.cols; ++j) {
      if (j > i) {
        S(i, j) = mask_value(i, j);
      } else if (std::isnan(S(i, j))) {
        S(i, j) = mask_value(i, j);  // don't let a broken score through the mask
      }
    }
  }
}

}  // namespace attn
