#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>

namespace attn {

namespace {

const float INF = std::numeric_limits<float>::infinity();

// NaN if the row holds NaN, else the max (-inf for an empty row)
float nan_aware_max(std::span<const float> xs) {
  float m = -INF;
  for (float x : xs) {
    if (std::isnan(x)) return x;
    if (x > m) m = x;
  }
  return m;
}

}  // namespace

float log_sum_exp(std::span<const float> row) {
  const float m = nan_aware_max(row);
  if (std::isnan(m) || std::isinf(m)) return m;
  double acc = 0.0;
  for (float x : row) acc += std::exp(static_cast<double>(x - m));
  return m + static_cast<float>(std::log(acc));
}

void stable_softmax(std::span<float> row) {
  if (row.empty()) return;
  const float m = nan_aware_max(row);
  if (std::isnan(m)) {
    for (float& x : row) x = m;
    return;
  }
  if (m == -INF) {
    for (float& x : row) x = 0.0f;
    return;
  }
  if (m == INF) {
    float n = 0.0f;
    for (float x : row) n += (x == INF) ? 1.0f : 0.0f;
    for (float& x : row) x = (x == INF) ? 1.0f / n : 0.0f;
    return;
  }
  double acc = 0.0;
  for (float& x : row) {
    x = std::exp(x - m);
    acc += x;
  }
  for (float& x : row) x = static_cast<float>(x / acc);
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  if (Q.cols != K.cols) {
    invalid_input("attn::attention_weights", "Q has d = " + std::to_string(Q.cols) +
                                                 " but K has d = " + std::to_string(K.cols) +
                                                 "; expected equal");
  }
  if (Q.cols == 0) invalid_input("attn::attention_weights", "d = 0; expected d >= 1");
  if (A.rows != Q.rows || A.cols != K.rows) {
    invalid_input("attn::attention_weights", "A is " + std::to_string(A.rows) + " x " +
                                                 std::to_string(A.cols) + " but expected " +
                                                 std::to_string(Q.rows) + " x " +
                                                 std::to_string(K.rows));
  }
  attn::scores(Q, K, A);
  for (std::size_t i = 0; i < A.rows; ++i) attn::stable_softmax(A.row(i));
  if (causal) attn::apply_causal_mask(A);  // hide the future keys
}

}  // namespace attn
