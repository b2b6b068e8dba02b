#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace attn {

namespace {

std::string shape(std::size_t r, std::size_t c) { return std::to_string(r) + " x " + std::to_string(c); }

}  // namespace

float scaled_score(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    invalid_input("attn::scaled_score", "q has " + std::to_string(q.size()) +
                                            " elements but k has " + std::to_string(k.size()) +
                                            "; expected equal lengths");
  }
  if (q.empty()) {
    invalid_input("attn::scaled_score", "q and k are empty (d = 0); expected d >= 1");
  }
  const double d = static_cast<double>(q.size());
  return static_cast<float>(static_cast<double>(attn::dot(q, k)) / std::sqrt(d));
}

void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  // shape first, then the dimension
  if (S.rows != Q.rows || S.cols != K.rows) {
    invalid_input("attn::scores", "S is " + shape(S.rows, S.cols) + " but Q has " +
                                      std::to_string(Q.rows) + " rows and K has " +
                                      std::to_string(K.rows) + " rows; expected S to be " +
                                      shape(Q.rows, K.rows));
  }
  if (Q.cols != K.cols) {
    invalid_input("attn::scores", "Q is " + shape(Q.rows, Q.cols) + " but K is " +
                                      shape(K.rows, K.cols) + "; expected equal column counts");
  }
  if (Q.cols == 0) {
    invalid_input("attn::scores", "d = 0; expected d >= 1");
  }
  const double inv_root_d = 1.0 / std::sqrt(static_cast<double>(Q.cols));
  for (std::size_t i = 0; i < S.rows; ++i) {
    const std::span<const float> qi = Q.row(i);
    std::span<float> out = S.row(i);
    for (std::size_t j = 0; j < out.size(); ++j) {
      out[j] = static_cast<float>(static_cast<double>(attn::dot(qi, K.row(j))) * inv_root_d);
    }
  }
}

}  // namespace attn
