// A correct step 7 that must be accepted: the output column by column with a double
// accumulator (j innermost), and attention through a scores-mask-softmax pipeline of its own
// instead of attention_weights.
#include <attn/contract.hpp>

#include <cstddef>
#include <string>

namespace attn {

void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  if (A.cols != V.rows || O.rows != A.rows || O.cols != V.cols) {
    attn::invalid_input("attn::attention_output", "A, V and O do not fit: A is " + std::to_string(A.rows) + " x " +
                                                      std::to_string(A.cols) + "; expected V n_k x d_v, O n_q x d_v");
  }
  for (std::size_t i = 0; i < A.rows; ++i) {
    for (std::size_t c = 0; c < V.cols; ++c) {
      double sum = 0.0;
      for (std::size_t j = 0; j < A.cols; ++j) sum += static_cast<double>(A(i, j)) * V(j, c);
      O(i, c) = static_cast<float>(sum);
    }
  }
}

void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
  if (Q.cols != K.cols || Q.cols == 0 || V.rows != K.rows || O.rows != Q.rows || O.cols != V.cols) {
    attn::invalid_input("attn::attention", "Q, K, V or O has the wrong shape; expected Q n_q x d, K n_k x d (d >= 1), "
                                         "V n_k x d_v and O n_q x d_v");
  }
  matrix S(Q.rows, K.rows);
  attn::scores(Q, K, S);
  if (causal) attn::apply_causal_mask(S);
  for (std::size_t i = 0; i < S.rows(); ++i) attn::stable_softmax(S.row(i));
  attn::attention_output(S, V, O);
}

}  // namespace attn
