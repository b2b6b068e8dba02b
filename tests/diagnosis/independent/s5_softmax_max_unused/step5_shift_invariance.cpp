#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>

namespace attn {

float log_sum_exp(std::span<const float> row) {
  const float inf = std::numeric_limits<float>::infinity();
  if (std::any_of(row.begin(), row.end(), [](float v) { return std::isnan(v); }))
    return std::numeric_limits<float>::quiet_NaN();
  if (row.empty()) return -inf;
  const float m = *std::max_element(row.begin(), row.end());
  if (m == inf || m == -inf) return m;
  float acc = 0.0f;
  for (float v : row) acc += std::exp(v - m);
  return m + std::log(acc);
}

void stable_softmax(std::span<float> row) {
  const float inf = std::numeric_limits<float>::infinity();
  if (row.empty()) return;
  if (std::any_of(row.begin(), row.end(), [](float v) { return std::isnan(v); })) {
    std::fill(row.begin(), row.end(), std::numeric_limits<float>::quiet_NaN());
    return;
  }
  const float m = *std::max_element(row.begin(), row.end());
  if (m == -inf) {
    std::fill(row.begin(), row.end(), 0.0f);
    return;
  }
  if (m == inf) {
    const auto n_inf = std::count(row.begin(), row.end(), inf);
    for (float& v : row) v = (v == inf) ? 1.0f / static_cast<float>(n_inf) : 0.0f;
    return;
  }
  float acc = 0.0f;
  for (float& v : row) {
    v = std::exp(v);
    acc += v;
  }
  for (float& v : row) v /= acc;
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  const std::string who = "attn::attention_weights";
  if (Q.cols != K.cols)
    invalid_input(who, "Q.cols = " + std::to_string(Q.cols) + " but K.cols = " +
                           std::to_string(K.cols) + "; expected them equal");
  if (Q.cols == 0) invalid_input(who, "d = 0; expected d > 0");
  if (A.rows != Q.rows || A.cols != K.rows)
    invalid_input(who, "A is " + std::to_string(A.rows) + " x " + std::to_string(A.cols) +
                           "; expected " + std::to_string(Q.rows) + " x " + std::to_string(K.rows));
  attn::scores(Q, K, A);
  if (causal) attn::apply_causal_mask(A);
  for (std::size_t r = 0; r < A.rows; ++r) attn::stable_softmax(A.row(r));
}

}  // namespace attn
