#include <attn/contract.hpp>

#include <algorithm>
#include <cstddef>
#include <string>

namespace attn {

void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  if (A.cols != V.rows) {
    attn::invalid_input("attn::attention_output", "A is " + std::to_string(A.rows) + " x " +
                                                      std::to_string(A.cols) + " but V is " +
                                                      std::to_string(V.rows) + " x " +
                                                      std::to_string(V.cols) +
                                                      "; expected A.cols == V.rows");
  }
  if (O.rows != A.rows || O.cols != V.cols) {
    attn::invalid_input("attn::attention_output", "O is " + std::to_string(O.rows) + " x " +
                                                      std::to_string(O.cols) + "; expected " +
                                                      std::to_string(A.rows) + " x " +
                                                      std::to_string(V.cols));
  }
  for (std::size_t i = 0; i < A.rows; ++i)
    for (std::size_t j = 0; j < A.cols; ++j)
      for (std::size_t c = 0; c < V.cols; ++c) O(i, c) += A(i, j) * V(j, c);
}

void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
               bool causal) {
  if (V.rows != K.rows) {
    attn::invalid_input("attn::attention", "V has " + std::to_string(V.rows) + " rows but K has " +
                                               std::to_string(K.rows) + "; expected equal");
  }
  if (O.rows != Q.rows || O.cols != V.cols) {
    attn::invalid_input("attn::attention", "O is " + std::to_string(O.rows) + " x " +
                                               std::to_string(O.cols) + "; expected " +
                                               std::to_string(Q.rows) + " x " +
                                               std::to_string(V.cols));
  }
  matrix A(Q.rows, K.rows);
  attn::attention_weights(Q, K, A, causal);
  attn::attention_output(A, V, O);
}

}  // namespace attn
