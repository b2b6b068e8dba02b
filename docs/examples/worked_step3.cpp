// Step 3's worked example: the card's 4-token causal mask, and the mask applied to a
// score matrix (square and not), through the answer key.
#include <attn/attn.hpp>

#include "print.hpp"

int main() {
  //! [example]
  docs::print_matrix("attn::causal_mask(4)", attn::causal_mask(4), 1);

  attn::matrix S{{0.5f, 1.5f, -2.0f, 3.0f},
                 {-1.0f, 0.25f, 4.0f, -0.5f},
                 {2.0f, -3.0f, 1.0f, 0.75f},
                 {-0.125f, 2.5f, -1.5f, 6.0f}};
  attn::apply_causal_mask(S);  // query i keeps keys 0..i
  docs::print_matrix("S after attn::apply_causal_mask", S, 3);

  attn::matrix wide(2, 4, 1.0f);  // top-left aligned for any shape
  attn::apply_causal_mask(wide);
  docs::print_matrix("a 2 x 4 matrix of ones, masked", wide, 1);
  //! [example]
}
