#include <attn/contract.hpp>

#include <algorithm>
#include <cstddef>
#include <string>

namespace attn {

namespace {
std::string dims(std::size_t r, std::size_t c) { return std::to_string(r) + " x " + std::to_string(c); }
}  // namespace

void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  if (A.cols != V.rows)
    invalid_input("attn::attention_output",
                  "A is " + dims(A.rows, A.cols) + " but V is " + dims(V.rows, V.cols) +
                      "; expected V to have A.cols rows");
  if (O.rows != A.rows || O.cols != V.cols)
    invalid_input("attn::attention_output",
                  "O is " + dims(O.rows, O.cols) + "; expected " + dims(A.rows, V.cols));
  for (std::size_t i = 0; i < O.rows; ++i) {
    for (std::size_t c = 0; c < O.cols; ++c) {
      double acc = 0.0;
      for (std::size_t j = 0; j < A.cols; ++j) acc += double(A(i, j)) * double(V(j, c));
      O(i, c) = static_cast<float>(acc);
    }
  }
}

void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
               [[maybe_unused]] bool causal) {
  if (V.rows != K.rows)
    invalid_input("attn::attention", "V is " + dims(V.rows, V.cols) + " but K is " +
                                         dims(K.rows, K.cols) + "; expected one value per key");
  if (O.rows != Q.rows || O.cols != V.cols)
    invalid_input("attn::attention",
                  "O is " + dims(O.rows, O.cols) + "; expected " + dims(Q.rows, V.cols));
  matrix weights(Q.rows, K.rows);
  attn::attention_weights(Q, K, weights, false);
  attn::attention_output(weights, V, O);
}

}  // namespace attn
