#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace attn {

float scaled_score(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size())
    invalid_input("attn::scaled_score", "q has " + std::to_string(q.size()) + " elements but k has " +
                                            std::to_string(k.size()) + "; expected equal lengths");
  if (q.size() == 0) invalid_input("attn::scaled_score", "d is 0; expected d >= 1");
  const float inv = 1.0f / std::sqrt(float(q.size()));
  return attn::dot(q, k) * inv;
}

void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  if (Q.cols != K.cols)
    invalid_input("attn::scores", "Q has " + std::to_string(Q.cols) + " columns, K has " +
                                      std::to_string(K.cols) + "; expected the same");
  if (Q.cols == 0) invalid_input("attn::scores", "d is 0; expected d >= 1");
  if (S.size() != Q.rows * K.rows)
    invalid_input("attn::scores", "S has " + std::to_string(S.size()) + " elements; expected " +
                                      std::to_string(Q.rows * K.rows));
  for (std::size_t i = 0; i < Q.rows; ++i) {
    auto qi = Q.row(i);
    for (std::size_t j = 0; j < K.rows; ++j) {
      S.data[i * S.cols + j] = attn::scaled_score(qi, K.row(j));
    }
  }
}

}  // namespace attn
