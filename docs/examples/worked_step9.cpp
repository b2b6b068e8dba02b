// Step 9's worked example: the online softmax of [1, 3, 2] push by push, a merge of two
// parts, and streaming attention against two passes for several block sizes, through the
// answer key.
#include <attn/attn.hpp>

#include <cstddef>
#include <cstdio>
#include <vector>

#include "print.hpp"

int main() {
  //! [example]
  const std::vector<float> x{1.0f, 3.0f, 2.0f};
  attn::online_softmax state;  // {max -inf, sum 0}
  for (const float v : x) {
    attn::push(state, v);
    std::printf("push %.0f: max = %.0f, sum = %.6f\n", v, state.max, state.sum);
  }
  std::vector<float> w;
  for (const float v : x) w.push_back(attn::weight(state, v));
  docs::print_row("weights", w);

  attn::online_softmax left, right;  // [1] | [3, 2], merged
  attn::push(left, 1.0f);
  attn::push(right, 3.0f);
  attn::push(right, 2.0f);
  const attn::online_softmax merged = attn::merge(left, right);
  std::printf("merge({%.0f, %.6f}, {%.0f, %.6f}) = {%.0f, %.6f}\n", left.max, left.sum, right.max, right.sum,
              merged.max, merged.sum);

  // Streaming attention equals two passes, whatever the block size.
  const attn::matrix Q{{1.0f, 0.0f}, {0.0f, 2.0f}, {1.0f, 1.0f}};
  const attn::matrix K{{1.0f, 1.0f}, {-1.0f, 2.0f}, {3.0f, 0.0f}};
  const attn::matrix V{{1.0f, 0.0f}, {0.0f, 1.0f}, {2.0f, 2.0f}};
  attn::matrix two_pass(3, 2);
  attn::attention(Q, K, V, two_pass, /*causal=*/true);
  docs::print_matrix("attention (two passes)", two_pass);
  for (const std::size_t block : {1u, 2u, 3u}) {
    attn::matrix O(3, 2);
    attn::streaming_attention(Q, K, V, O, /*causal=*/true, block);
    std::printf("block %zu: ", block);
    docs::print_row("row 2", O.row(2));
  }
  //! [example]
}
