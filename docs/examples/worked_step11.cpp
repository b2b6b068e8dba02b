// Step 11's worked example: the stub's one query and two keys, then the card's three tokens
// under the causal mask, through the answer key; dQ checked against a central difference of
// the forward pass.
#include <attn/attn.hpp>

#include <cstdio>

#include "print.hpp"

int main() {
  //! [example]
  // One query at q = 0, keys 1 and -1, values 1 and 3, dO = 1 (d = d_v = 1, no mask).
  const attn::matrix Q{{0.0f}}, K{{1.0f}, {-1.0f}}, V{{1.0f}, {3.0f}}, dO{{1.0f}};
  attn::matrix dQ(1, 1), dK(2, 1), dV(2, 1);
  attn::attention_backward(Q, K, V, dO, false, dQ, dK, dV);
  docs::print_matrix("dQ", dQ);
  docs::print_matrix("dK", dK);
  docs::print_matrix("dV", dV);
  // dQ against (O(q + h) - O(q - h)) / 2h, the forward pass of step 7 (a float difference).
  const float h = 1.0f / 64;
  attn::matrix up(1, 1), down(1, 1);
  attn::attention(attn::matrix{{h}}, K, V, up, false);
  attn::attention(attn::matrix{{-h}}, K, V, down, false);
  std::printf("central difference of O at q = 0: %s\n", docs::num((up(0, 0) - down(0, 0)) / (2 * h)).c_str());

  // The card's three tokens: Q = 0 (every score 0), causal, dO = 1 for every query.
  const attn::matrix Q3(3, 2, 0.0f), K3{{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 1.0f}};
  const attn::matrix V3{{1.0f}, {2.0f}, {3.0f}}, dO3{{1.0f}, {1.0f}, {1.0f}};
  attn::matrix dQ3(3, 2), dK3(3, 2), dV3(3, 1);
  attn::attention_backward(Q3, K3, V3, dO3, true, dQ3, dK3, dV3);
  docs::print_matrix("dV (causal, Q = 0)", dV3);
  docs::print_matrix("dQ (causal, Q = 0)", dQ3);
  //! [example]
}
