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
  if (q.empty()) attn::invalid_input("attn::scaled_score", "d = 0; expected d > 0");
  return attn::dot(q, k) / std::sqrt(static_cast<float>(q.size()));
}

void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  if (Q.cols != K.cols) {
    attn::invalid_input("attn::scores", "Q.cols = " + std::to_string(Q.cols) + " but K.cols = " +
                                            std::to_string(K.cols) + "; expected equal");
  }
  if (Q.cols == 0) attn::invalid_input("attn::scores", "d = 0; expected d > 0");
  if (S.rows != Q.rows || S.cols != K.rows) {
    attn::invalid_input("attn::scores", "S is " + std::to_string(S.rows) + " x " +
                                            std::to_string(S.cols) + "; expected " +
                                            std::to_string(Q.rows) + " x " + std::to_string(K.rows));
  }
  // scale by the square root of the number of keys we compare against
  const double root = std::sqrt(static_cast<double>(K.rows));
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = 0; j < S.cols; ++j) {
      S(i, j) = static_cast<float>(attn::dot(Q.row(i), K.row(j)) / root);
    }
  }
}

}  // namespace attn
