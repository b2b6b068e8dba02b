#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace attn {

float scaled_score(std::span<const float> q, std::span<const float> k) {
  if (q.size() == 0 && k.size() == 0) {
    attn::invalid_input("attn::scaled_score", "d = 0; expected non-empty vectors");
  }
  if (q.size() != k.size()) {
    attn::invalid_input("attn::scaled_score", "q has " + std::to_string(q.size()) +
                                                  " elements but k has " + std::to_string(k.size()) +
                                                  "; expected equal lengths");
  }
  return attn::dot(q, k) / std::sqrt(static_cast<float>(q.size()));
}

void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  if (Q.cols != K.cols) {
    attn::invalid_input("attn::scores", "Q has d = " + std::to_string(Q.cols) + " but K has d = " +
                                            std::to_string(K.cols) + "; expected the same d");
  }
  if (S.rows != Q.rows || S.cols != K.rows) {
    attn::invalid_input("attn::scores", "S is " + std::to_string(S.rows) + " x " +
                                            std::to_string(S.cols) + " but Q has " +
                                            std::to_string(Q.rows) + " rows and K has " +
                                            std::to_string(K.rows) + " rows; expected S to be " +
                                            std::to_string(Q.rows) + " x " + std::to_string(K.rows));
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(Q.cols));
  for (std::size_t i = 0; i < Q.rows; ++i) {
    for (std::size_t j = 0; j < K.rows; ++j) {
      S(i, j) = attn::dot(Q.row(i), K.row(j)) * scale;
    }
  }
}

}  // namespace attn
