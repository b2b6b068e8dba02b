// Step 2's worked example: the card's scaled score, then a whole score matrix, through
// the answer key's attn::scaled_score and attn::scores.
#include <attn/attn.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#include "print.hpp"

int main() {
  //! [example]
  const std::vector<float> q{2.0f, 0.5f, 1.0f, -1.5f};
  const std::vector<float> k{1.0f, 1.0f, -0.5f, 2.0f};
  const float qk = attn::dot(q, k);
  std::printf("d = %zu, q . k = %.4f, sqrt(d) = %.4f\n", q.size(), qk, std::sqrt(4.0));
  std::printf("attn::scaled_score(q, k) = %.4f\n", attn::scaled_score(q, k));
  std::printf("(dividing by d instead would give %.4f)\n", qk / 4.0);

  // Two queries (rows of Q) against three keys (rows of K): S is 2 x 3.
  const attn::matrix Q{{2.0f, 0.5f, 1.0f, -1.5f},
                       {1.0f, 1.0f, -0.5f, 2.0f}};
  const attn::matrix K{{1.0f, 1.0f, -0.5f, 2.0f},
                       {2.0f, 0.5f, 1.0f, -1.5f},
                       {1.0f, 0.0f, 0.0f, 0.0f}};
  attn::matrix S(Q.rows(), K.rows());
  attn::scores(Q, K, S);
  docs::print_matrix("S = Q K^T / sqrt(d)", S);
  //! [example]
}
