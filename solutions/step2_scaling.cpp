// solutions/step2_scaling.cpp -- answer key for step 2: scaling by 1/sqrt(d).
#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace attn {
namespace {

std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

}  // namespace

//! [scaled_score]
float scaled_score(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    attn::invalid_input("attn::scaled_score", "q has " + std::to_string(q.size()) +
                                                  " elements but k has " +
                                                  std::to_string(k.size()) +
                                                  "; expected equal lengths");
  }
  if (q.empty()) {
    // 1/sqrt(0) is a division by zero: refuse rather than return inf or NaN.
    attn::invalid_input("attn::scaled_score",
                        "q and k are empty (d = 0); expected d >= 1 so that 1/sqrt(d) is defined");
  }
  // sqrt(d), not d: Var[q.k] = d, so this brings the score's spread back to about 1.
  return attn::dot(q, k) / std::sqrt(static_cast<float>(q.size()));
}
//! [scaled_score]

//! [scores]
void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  if (Q.cols != K.cols) {
    attn::invalid_input("attn::scores", "Q is " + shape(Q.rows, Q.cols) + " but K is " +
                                            shape(K.rows, K.cols) +
                                            "; expected the same number of columns d");
  }
  if (Q.cols == 0) {
    attn::invalid_input("attn::scores", "Q is " + shape(Q.rows, Q.cols) + " and K is " +
                                            shape(K.rows, K.cols) +
                                            " (d = 0); expected d >= 1 so that 1/sqrt(d) is defined");
  }
  // Rows of S are queries, columns are keys: n_q x n_k, never the transpose.
  if (S.rows != Q.rows || S.cols != K.rows) {
    attn::invalid_input("attn::scores", "S is " + shape(S.rows, S.cols) + " but Q has " +
                                            std::to_string(Q.rows) + " rows and K has " +
                                            std::to_string(K.rows) + " rows; expected S to be " +
                                            shape(Q.rows, K.rows));
  }
  for (std::size_t i = 0; i < Q.rows; ++i) {
    for (std::size_t j = 0; j < K.rows; ++j) {
      S(i, j) = attn::scaled_score(Q.row(i), K.row(j));
    }
  }
}
//! [scores]

}  // namespace attn
