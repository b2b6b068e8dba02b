// A correct step 2 that must be accepted: each query is multiplied by 1/sqrt(d) first
// and the scaled terms summed in float, in reverse order.
#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace attn {
namespace {

float prescaled(std::span<const float> q, std::span<const float> k) {
  const float inv_root = 1.0f / std::sqrt(static_cast<float>(q.size()));
  float sum = 0.0f;
  for (std::size_t t = q.size(); t-- > 0;) sum += (q[t] * inv_root) * k[t];
  return sum;
}

}  // namespace

float scaled_score(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size() || q.empty()) {
    attn::invalid_input("attn::scaled_score", "q has " + std::to_string(q.size()) + " elements and k has " +
                                                  std::to_string(k.size()) + "; expected equal lengths d >= 1");
  }
  return prescaled(q, k);
}

void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  if (Q.cols != K.cols || Q.cols == 0 || S.rows != Q.rows || S.cols != K.rows) {
    attn::invalid_input("attn::scores", "Q is " + std::to_string(Q.rows) + " x " + std::to_string(Q.cols) +
                                            ", K is " + std::to_string(K.rows) + " x " + std::to_string(K.cols) +
                                            ", S is " + std::to_string(S.rows) + " x " + std::to_string(S.cols) +
                                            "; expected d >= 1 and S n_q x n_k");
  }
  for (std::size_t i = 0; i < Q.rows; ++i) {
    for (std::size_t j = 0; j < K.rows; ++j) S(i, j) = prescaled(Q.row(i), K.row(j));
  }
}

}  // namespace attn
