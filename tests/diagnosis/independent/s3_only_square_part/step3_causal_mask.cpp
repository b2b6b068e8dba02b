#include <attn/contract.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>

namespace attn {

matrix causal_mask(std::size_t n) {
  const float inf = std::numeric_limits<float>::infinity();
  matrix out(n, n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) out(i, j) = -inf;
  return out;
}

void apply_causal_mask(matrix_view S) {
  const float inf = std::numeric_limits<float>::infinity();
  // the mask is n x n; stay inside the square part so we never index out of range
  const std::size_t n = std::min(S.rows, S.cols);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) S(i, j) = -inf;
}

}  // namespace attn
