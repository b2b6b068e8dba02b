// A correct step 7 that must be accepted: the output column by column with a double
// accumulator (j innermost), and attention through a scores-mask-softmax pipeline of its own
// instead of attention_weights.
#include <attn/contract.hpp>

#include <cstddef>
#include <string>

namespace attn {
namespace {

std::string dims(const_matrix_view M) { return std::to_string(M.rows) + " x " + std::to_string(M.cols); }

}  // namespace

void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  if (A.cols != V.rows || O.rows != A.rows || O.cols != V.cols) {
    attn::invalid_input("attn::attention_output", "A, V and O do not fit: A is " + dims(A) + ", V is " + dims(V) +
                                                      ", O is " + dims(O) + "; expected V n_k x d_v, O n_q x d_v");
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
    attn::invalid_input("attn::attention", "Q " + dims(Q) + ", K " + dims(K) + ", V " + dims(V) + " or O " + dims(O) +
                                               " has the wrong shape; expected Q n_q x d, K n_k x d (d >= 1), "
                                               "V n_k x d_v and O n_q x d_v");
  }
  matrix S(Q.rows, K.rows);
  attn::scores(Q, K, S);
  if (causal) attn::apply_causal_mask(S);
  for (std::size_t i = 0; i < S.rows(); ++i) attn::stable_softmax(S.row(i));
  if (!causal) {
    attn::attention_output(S, V, O);
    return;
  }
  // Under the causal mask query i reads value rows 0..i only (a masked key contributes
  // nothing, NaN or not): its row of weights cut to i + 1 columns, times the first i + 1 rows.
  for (std::size_t i = 0; i < S.rows(); ++i) {
    const std::size_t seen = i + 1 < K.rows ? i + 1 : K.rows;
    matrix a(1, seen);
    for (std::size_t j = 0; j < seen; ++j) a(0, j) = S(i, j);
    attn::attention_output(a, const_matrix_view(V.data, seen, V.cols), matrix_view(O.data + i * O.cols, 1, O.cols));
  }
}

}  // namespace attn
