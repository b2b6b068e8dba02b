#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>

namespace attn {

float log_sum_exp(std::span<const float> row) {
  float m = -std::numeric_limits<float>::infinity();
  for (float x : row) m = std::max(m, x);
  // empty, all -inf, or some +inf: exp(x - m) would be inf - inf
  if (std::isinf(m)) return m;
  double s = 0.0;
  for (float x : row) s += std::exp(static_cast<double>(x) - static_cast<double>(m));
  return static_cast<float>(static_cast<double>(m) + std::log(s));
}

void stable_softmax(std::span<float> row) {
  const std::size_t n = row.size();
  if (n == 0) return;
  for (std::size_t j = 0; j < n; ++j) {
    if (std::isnan(row[j])) {
      for (std::size_t t = 0; t < n; ++t) row[t] = std::numeric_limits<float>::quiet_NaN();
      return;
    }
  }
  float m = row[0];
  for (std::size_t j = 1; j < n; ++j)
    if (row[j] > m) m = row[j];
  if (m == -std::numeric_limits<float>::infinity()) {
    for (std::size_t j = 0; j < n; ++j) row[j] = 0.0f;
    return;
  }
  if (m == std::numeric_limits<float>::infinity()) {
    std::size_t k = 0;
    for (std::size_t j = 0; j < n; ++j) k += (row[j] == m) ? 1 : 0;
    for (std::size_t j = 0; j < n; ++j) row[j] = (row[j] == m) ? 1.0f / static_cast<float>(k) : 0.0f;
    return;
  }
  double s = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    row[j] = std::exp(row[j] - m);
    s += row[j];
  }
  for (std::size_t j = 0; j < n; ++j) row[j] = static_cast<float>(row[j] / s);
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  if (Q.cols != K.cols) {
    invalid_input("attn::attention_weights", "Q is " + std::to_string(Q.rows) + " x " +
                                                 std::to_string(Q.cols) + " but K is " +
                                                 std::to_string(K.rows) + " x " +
                                                 std::to_string(K.cols) + "; expected equal d");
  }
  if (Q.cols == 0) {
    invalid_input("attn::attention_weights", "d = 0; expected at least 1");
  }
  if (A.rows != Q.rows || A.cols != K.rows) {
    invalid_input("attn::attention_weights", "A is " + std::to_string(A.rows) + " x " +
                                                 std::to_string(A.cols) + "; expected " +
                                                 std::to_string(Q.rows) + " x " +
                                                 std::to_string(K.rows));
  }
  attn::scores(Q, K, A);
  if (causal) {
    attn::apply_causal_mask(A);
  }
  for (std::size_t i = 0; i < A.rows; ++i) {
    attn::stable_softmax(A.row(i));
  }
}

}  // namespace attn
