#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace attn {

float scaled_score(std::span<const float> q, std::span<const float> k) {
  const std::size_t d = q.size();
  if (d != k.size())
    attn::invalid_input("attn::scaled_score", "q has " + std::to_string(d) + " elements but k has " +
                                                  std::to_string(k.size()) +
                                                  "; expected equal lengths");
  if (d == 0) attn::invalid_input("attn::scaled_score", "d = 0; expected a positive dimension");
  return attn::dot(q, k) / std::sqrt(static_cast<float>(d));
}

void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  const std::size_t nq = Q.rows, nk = K.rows, d = Q.cols;
  if (K.cols != d)
    attn::invalid_input("attn::scores", "Q is " + std::to_string(nq) + " x " + std::to_string(d) +
                                            " but K is " + std::to_string(nk) + " x " +
                                            std::to_string(K.cols) + "; expected equal columns");
  if (d == 0) attn::invalid_input("attn::scores", "d = 0; expected a positive dimension");
  // one row per key, one column per query: S = K Q^T
  if (S.rows != nk || S.cols != nq)
    attn::invalid_input("attn::scores", "S is " + std::to_string(S.rows) + " x " +
                                            std::to_string(S.cols) + "; expected " +
                                            std::to_string(nk) + " x " + std::to_string(nq));
  for (std::size_t j = 0; j < nk; ++j) {
    for (std::size_t i = 0; i < nq; ++i) {
      S(j, i) = attn::scaled_score(Q.row(i), K.row(j));
    }
  }
}

}  // namespace attn
