#include <attn/contract.hpp>

#include <cstddef>
#include <limits>

namespace attn {

void apply_causal_mask(matrix_view S) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = i; j < S.cols; ++j) {
      S(i, j) = neg_inf;
    }
  }
}

matrix causal_mask(std::size_t n) {
  matrix m(n, n);
  attn::apply_causal_mask(m.view());
  return m;
}

}  // namespace attn
