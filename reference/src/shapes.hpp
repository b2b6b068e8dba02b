// Shape checks shared by the reference functions; each names the function that failed.
#pragma once

#include <string>
#include <string_view>

#include <attn/errors.hpp>
#include <attn/matrix.hpp>

namespace attn::ref::detail {

inline std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

/// Q: n_q x d and K: n_k x d with d >= 1, S: n_q x n_k (scores, attention_weights).
inline void check_score_shapes(std::string_view function, const_matrix_view Q,
                               const_matrix_view K, const_matrix_view S, std::string_view out) {
  if (Q.cols != K.cols) {
    invalid_input(function, "Q is " + shape(Q.rows, Q.cols) + " but K is " + shape(K.rows, K.cols) +
                                "; expected the same number of columns d");
  }
  if (Q.cols == 0) {
    invalid_input(function, "Q is " + shape(Q.rows, Q.cols) + " and K is " + shape(K.rows, K.cols) +
                                ", so d = 0; expected d >= 1 to divide by sqrt(d)");
  }
  if (S.rows != Q.rows || S.cols != K.rows) {
    invalid_input(function, std::string(out) + " is " + shape(S.rows, S.cols) + " but Q is " +
                                shape(Q.rows, Q.cols) + " and K is " + shape(K.rows, K.cols) +
                                "; expected " + std::string(out) + " to be " +
                                shape(Q.rows, K.rows) + " (n_q x n_k)");
  }
}

/// V: n_k x d_v with n_k = `keys` (the rows of A or K), O: n_q x d_v with n_q = `queries`
/// (attention_output, attention, streaming_attention). `keys_name` says where n_k comes from.
inline void check_value_shapes(std::string_view function, std::size_t queries, std::size_t keys,
                               std::string_view keys_name, const_matrix_view V, const_matrix_view O) {
  if (V.rows != keys) {
    invalid_input(function, "V is " + shape(V.rows, V.cols) + " but " + std::string(keys_name) +
                                " gives n_k = " + std::to_string(keys) +
                                "; expected V to have one row per key");
  }
  if (O.rows != queries || O.cols != V.cols) {
    invalid_input(function, "O is " + shape(O.rows, O.cols) + " but there are " +
                                std::to_string(queries) + " queries and V is " +
                                shape(V.rows, V.cols) + "; expected O to be " +
                                shape(queries, V.cols) + " (n_q x d_v)");
  }
}

}  // namespace attn::ref::detail
