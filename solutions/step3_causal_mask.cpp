// solutions/step3_causal_mask.cpp -- answer key for step 3: the causal mask.
#include <attn/contract.hpp>

#include <cstddef>
#include <limits>

namespace attn {

//! [causal_mask]
matrix causal_mask(std::size_t n) {
  matrix mask(n, n, 0.0f);
  // The mask is what apply_causal_mask does to a matrix of zeros.
  attn::apply_causal_mask(mask.view());
  return mask;
}
//! [causal_mask]

//! [apply_causal_mask]
void apply_causal_mask(matrix_view S) {
  constexpr float minus_inf = -std::numeric_limits<float>::infinity();
  // Row i is query i: it may see keys 0..i (the diagonal included), never j > i. The
  // bounds come from S itself, so non-square shapes stay inside the view.
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = i + 1; j < S.cols; ++j) {
      S(i, j) = minus_inf;
    }
  }
}
//! [apply_causal_mask]

}  // namespace attn
