#include <attn/contract.hpp>

#include <cstddef>
#include <limits>

namespace attn {

matrix causal_mask(std::size_t n) {
  matrix m(n, n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      if (j > i) m(i, j) = -std::numeric_limits<float>::infinity();
    }
  }
  return m;
}

// S + Mask, as in the formula beta = score + Mask(i, j)
void apply_causal_mask(matrix_view S) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = i + 1; j < S.cols; ++j) {
      S(i, j) += -std::numeric_limits<float>::infinity();
    }
  }
}

}  // namespace attn
