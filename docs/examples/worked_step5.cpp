// Step 5's worked example: shift invariance (the card's true/false question), the naive
// softmax overflowing where the stable one does not, and the whole pipeline, through the
// answer key.
#include <attn/attn.hpp>

#include <cstdio>
#include <vector>

#include "print.hpp"

int main() {
  //! [example]
  std::vector<float> x{1.0f, 2.0f, 3.0f}, shifted{101.0f, 102.0f, 103.0f};
  attn::stable_softmax(x);
  attn::stable_softmax(shifted);
  docs::print_row("stable_softmax([1, 2, 3])      ", x);
  docs::print_row("stable_softmax([101, 102, 103])", shifted);

  std::vector<float> big{1000.0f, 1001.0f, 1002.0f}, naive = big, stable = big;
  attn::softmax(naive);  // step 4: exp(1000) overflows float, inf / inf = nan
  attn::stable_softmax(stable);
  docs::print_row("softmax([1000, 1001, 1002])       ", naive);
  docs::print_row("stable_softmax([1000, 1001, 1002])", stable);
  const float lse = attn::log_sum_exp(big);
  std::printf("log_sum_exp([1000, 1001, 1002]) = %s\n", docs::num(lse).c_str());

  // The whole pipeline for 3 tokens with d = 2, causal.
  const attn::matrix Q{{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 1.0f}};
  const attn::matrix K{{1.0f, 0.0f}, {0.0f, 1.0f}, {-1.0f, 1.0f}};
  attn::matrix A(3, 3);
  attn::attention_weights(Q, K, A, /*causal=*/true);
  docs::print_matrix("attention_weights(Q, K, causal)", A);
  //! [example]
}
