// Step 4's worked example: the card's three scores [1, 2, 3] for the query at position 2,
// and a masked score matrix turned into weights row by row, through the answer key.
#include <attn/attn.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#include "print.hpp"

int main() {
  //! [example]
  std::vector<float> row{1.0f, 2.0f, 3.0f};  // query 2 against keys 0, 1, 2
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
  std::printf("exp: %.4f %.4f %.4f, sum %.4f\n", e1, e2, e3, e1 + e2 + e3);
  attn::softmax(row);
  docs::print_row("attn::softmax([1, 2, 3])", row);
  std::printf("weight of position 1: %.4f; the row sums to %.4f\n", row[1],
              row[0] + row[1] + row[2]);

  attn::matrix S{{1.0f, 2.0f, 3.0f},
                 {1.0f, 2.0f, 3.0f},
                 {1.0f, 2.0f, 3.0f}};
  attn::apply_causal_mask(S);
  attn::softmax_rows(S);  // masked scores (-inf) get weight exactly 0
  docs::print_matrix("attn::softmax_rows(causally masked S)", S);
  //! [example]
}
