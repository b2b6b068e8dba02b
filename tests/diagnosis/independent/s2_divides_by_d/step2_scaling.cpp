#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace attn {

float scaled_score(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    attn::invalid_input("attn::scaled_score", "q has " + std::to_string(q.size()) +
                                                  " elements but k has " + std::to_string(k.size()) +
                                                  "; expected equal lengths");
  }
  if (q.empty()) {
    attn::invalid_input("attn::scaled_score", "d = 0; expected d >= 1");
  }
  const float d = static_cast<float>(q.size());
  return attn::dot(q, k) / d;  // normalise by the dimension
}

void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  if (Q.cols != K.cols) {
    attn::invalid_input("attn::scores", "Q has " + std::to_string(Q.cols) + " columns but K has " +
                                            std::to_string(K.cols) + "; expected equal d");
  }
  if (Q.cols == 0) {
    attn::invalid_input("attn::scores", "d = 0; expected d >= 1");
  }
  if (S.rows != Q.rows || S.cols != K.rows) {
    attn::invalid_input("attn::scores", "S is " + std::to_string(S.rows) + " x " +
                                            std::to_string(S.cols) + " but Q has " +
                                            std::to_string(Q.rows) + " rows and K has " +
                                            std::to_string(K.rows) + " rows; expected S to be " +
                                            std::to_string(Q.rows) + " x " + std::to_string(K.rows));
  }
  for (std::size_t i = 0; i < Q.rows; ++i)
    for (std::size_t j = 0; j < K.rows; ++j) S(i, j) = attn::scaled_score(Q.row(i), K.row(j));
}

}  // namespace attn
