// solutions/step4_softmax.cpp -- answer key for step 4: softmax (the naive formula).
#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>

namespace attn {

//! [softmax]
void softmax(std::span<float> row) {
  // Naive on purpose: exp(s_j) overflows for s_j > ~88.7; step 5's stable_softmax fixes
  // that. A NaN anywhere makes the sum NaN, and so every weight: NaN in, NaN out.
  double sum = 0.0;
  for (float& s : row) {
    s = std::exp(s);  // exp(-inf) == 0: masked positions get weight exactly 0
    sum += s;
  }
  for (float& e : row) {
    e = static_cast<float>(e / sum);
  }
}
//! [softmax]

//! [softmax_rows]
void softmax_rows(matrix_view S) {
  // One row per query: each query's weights over the keys sum to 1.
  for (std::size_t i = 0; i < S.rows; ++i) {
    attn::softmax(S.row(i));
  }
}
//! [softmax_rows]

}  // namespace attn
