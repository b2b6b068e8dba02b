// Step 12's worked example: the layer norm of the card's row [1, 2, 3, 6] and its backward
// pass, then what QK-layernorm does to the scores of queries and keys that have grown large,
// through the answer key.
#include <attn/attn.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "print.hpp"

int main() {
  //! [example]
  const attn::matrix X{{1.0f, 2.0f, 3.0f, 6.0f}};
  const std::vector<float> gain(4, 1.0f);
  attn::matrix Y(1, 4);
  attn::layer_norm(X, gain, Y);
  docs::print_row("layer_norm([1, 2, 3, 6])", Y.row(0));
  const attn::matrix dY{{1.0f, 0.0f, 0.0f, 0.0f}};
  attn::matrix dX(1, 4);
  std::vector<float> dgain(4);
  attn::layer_norm_backward(X, gain, dY, dX, dgain);
  docs::print_row("dX for dY = [1, 0, 0, 0]", dX.row(0));
  docs::print_row("dgain", dgain);

  // Queries and keys whose weights have grown: entries of size about 30, d = 8.
  const attn::matrix Q{{30, -12, 25, 4, -28, 17, 9, -22}, {-20, 31, -5, 26, 11, -30, 18, 2}};
  const attn::matrix K{{28, -10, 22, 6, -25, 15, 12, -24}, {3, 29, -27, 14, -8, 21, -19, 5}};
  attn::matrix S(2, 2), Qn(2, 8), Kn(2, 8), Sn(2, 2);
  attn::scores(Q, K, S);
  const std::vector<float> ones(8, 1.0f);
  attn::layer_norm(Q, ones, Qn);
  attn::layer_norm(K, ones, Kn);
  attn::scores(Qn, Kn, Sn);
  docs::print_matrix("scores of the raw Q, K", S, 1);
  docs::print_matrix("scores after QK-layernorm (gamma = 1)", Sn);
  std::printf("bound max|gamma_Q| max|gamma_K| sqrt(d) = %s\n", docs::num(std::sqrt(8.0)).c_str());
  std::vector<float> a_raw(S.row(0).begin(), S.row(0).end()), a_norm(Sn.row(0).begin(), Sn.row(0).end());
  attn::stable_softmax(a_raw);
  attn::stable_softmax(a_norm);
  docs::print_row_sig("query 0's weights, raw", a_raw);
  docs::print_row("query 0's weights, after QK-layernorm", a_norm);
  //! [example]
}
