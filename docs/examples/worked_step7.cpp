// Step 7's worked example: the hand-checkable causal average (all-zero scores, V = [1, 2, 3])
// and the card's three tokens, through the answer key.
#include <attn/attn.hpp>

#include <cstdio>

#include "print.hpp"

int main() {
  //! [example]
  // All-zero scores (Q = 0) under the causal mask: query i averages the values 0..i.
  const attn::matrix Q(3, 2, 0.0f);
  const attn::matrix K{{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 1.0f}};
  const attn::matrix V{{1.0f}, {2.0f}, {3.0f}};
  attn::matrix A(3, 3), O(3, 1);
  attn::attention_weights(Q, K, A, /*causal=*/true);
  attn::attention_output(A, V, O);
  docs::print_matrix("weights A", A);
  docs::print_matrix("values V", V);
  docs::print_matrix("outputs O = A V", O);

  // The same in one call, with two-dimensional values.
  const attn::matrix V2{{1.0f, 10.0f}, {2.0f, 20.0f}, {3.0f, 30.0f}};
  attn::matrix O2(3, 2);
  attn::attention(Q, K, V2, O2, /*causal=*/true);
  docs::print_matrix("attention(Q, K, V2, causal)", O2);
  //! [example]
}
