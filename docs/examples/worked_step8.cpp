// Step 8's worked example: the ALiBi slopes of 8 heads, the bias on zero scores, and the
// same causal weights from slope * (j - i) and slope * j, through the answer key.
#include <attn/attn.hpp>

#include <cstddef>
#include <cstdio>
#include <vector>

#include "print.hpp"

int main() {
  //! [example]
  const std::vector<float> slopes = attn::alibi_slopes(8);
  docs::print_row_sig("alibi_slopes(8)", slopes);

  attn::matrix relative(4, 4, 0.0f);  // equal content scores, to see the bias alone
  attn::add_alibi_bias(relative, 0.5f);
  docs::print_matrix("zero scores + 0.5 (j - i)", relative);

  attn::matrix absolute(4, 4, 0.0f);  // ALiBi's reference code: + slope * j
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t j = 0; j < 4; ++j) absolute(i, j) += 0.5f * static_cast<float>(j);
  }
  for (attn::matrix* S : {&relative, &absolute}) {
    attn::apply_causal_mask(*S);
    for (std::size_t i = 0; i < 4; ++i) attn::stable_softmax(S->row(i));
  }
  docs::print_matrix("causal weights with 0.5 (j - i)", relative);
  docs::print_matrix("causal weights with 0.5 j", absolute);
  //! [example]
}
