#include <attn/contract.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <span>

namespace attn {

void apply_causal_mask(matrix_view S) {
  constexpr float minus_inf = -std::numeric_limits<float>::infinity();
  // row i keeps columns 0..i; everything from column i + 1 on is the future
  const std::size_t last = std::min(S.rows, S.cols);
  for (std::size_t i = 0; i < last; ++i) {
    std::span<float> r = S.row(i);
    std::fill(r.begin() + static_cast<std::ptrdiff_t>(i) + 1, r.end(), minus_inf);
  }
}

matrix causal_mask(std::size_t n) {
  matrix m(n, n, 0.0f);
  if (n > 0) attn::apply_causal_mask(m);
  return m;
}

}  // namespace attn
