// solutions/step7_output.cpp -- answer key for step 7: the attention output.
#include <attn/contract.hpp>

#include <algorithm>
#include <cstddef>
#include <string>

namespace attn {
namespace {

std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

}  // namespace

//! [attention_output]
void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  if (A.cols != V.rows) {
    attn::invalid_input("attn::attention_output",
                        "A is " + shape(A.rows, A.cols) + " but V is " + shape(V.rows, V.cols) +
                            "; expected one row of V per column of A (n_k)");
  }
  if (O.rows != A.rows || O.cols != V.cols) {
    attn::invalid_input("attn::attention_output",
                        "O is " + shape(O.rows, O.cols) + " but A is " + shape(A.rows, A.cols) +
                            " and V is " + shape(V.rows, V.cols) + "; expected O to be " +
                            shape(A.rows, V.cols));
  }
  // o_i = sum_j A(i, j) v_j: row i of O is a weighted sum of the rows of V. The loop over
  // c is innermost so that V and O are read along their rows.
  for (std::size_t i = 0; i < O.rows; ++i) {
    std::fill(O.row(i).begin(), O.row(i).end(), 0.0f);  // O may hold anything: overwrite it
    for (std::size_t j = 0; j < A.cols; ++j) {
      const float a = A(i, j);
      for (std::size_t c = 0; c < O.cols; ++c) O(i, c) += a * V(j, c);
    }
  }
}
//! [attention_output]

//! [attention]
void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
               bool causal) {
  if (V.rows != K.rows) {
    attn::invalid_input("attn::attention", "K is " + shape(K.rows, K.cols) + " but V is " +
                                               shape(V.rows, V.cols) +
                                               "; expected one value row per key (n_k)");
  }
  if (O.rows != Q.rows || O.cols != V.cols) {
    attn::invalid_input("attn::attention", "O is " + shape(O.rows, O.cols) + " but Q is " +
                                               shape(Q.rows, Q.cols) + " and V is " +
                                               shape(V.rows, V.cols) + "; expected O to be " +
                                               shape(Q.rows, V.cols));
  }
  // The weights of step 5 (which checks Q and K), then their weighted sum of the values.
  attn::matrix A(Q.rows, K.rows);
  attn::attention_weights(Q, K, A, causal);
  if (!causal) {
    attn::attention_output(A, V, O);
    return;
  }
  // Under the causal mask query i reads keys and values 0..i only: a masked key contributes
  // nothing, whatever its value row holds (0 x NaN would be NaN). So row i of O is the
  // product of the visible part of row i of A with the first i + 1 rows of V.
  for (std::size_t i = 0; i < O.rows; ++i) {
    const std::size_t visible = std::min(K.rows, i + 1);
    attn::attention_output(const_matrix_view(A.row(i).data(), 1, visible),
                           const_matrix_view(V.data, visible, V.cols), matrix_view(O.row(i).data(), 1, O.cols));
  }
}
//! [attention]

}  // namespace attn
