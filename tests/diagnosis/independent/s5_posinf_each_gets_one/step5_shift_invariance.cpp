#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>

namespace attn {

float log_sum_exp(std::span<const float> row) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  float hi = -inf;
  for (float x : row) {
    if (std::isnan(x)) return std::numeric_limits<float>::quiet_NaN();
    if (x > hi) hi = x;
  }
  if (hi == -inf) return -inf;
  if (hi == inf) return inf;
  float s = 0.0f;
  for (float x : row) s += std::exp(x - hi);
  return hi + std::log(s);
}

void stable_softmax(std::span<float> row) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  float hi = -inf;
  for (float x : row) {
    if (std::isnan(x)) {
      for (float& y : row) y = std::numeric_limits<float>::quiet_NaN();
      return;
    }
    if (x > hi) hi = x;
  }
  if (row.empty()) return;
  if (hi == -inf) {
    for (float& y : row) y = 0.0f;
    return;
  }
  if (hi == inf) {
    // the limit of an infinitely large score: it takes all the weight
    for (float& y : row) y = (y == inf) ? 1.0f : 0.0f;
    return;
  }
  float s = 0.0f;
  for (float& y : row) {
    y = std::exp(y - hi);
    s += y;
  }
  for (float& y : row) y /= s;
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  if (Q.cols != K.cols) {
    invalid_input("attn::attention_weights", "Q has " + std::to_string(Q.cols) +
                                                 " columns and K has " + std::to_string(K.cols) +
                                                 "; expected the same number");
  }
  if (Q.cols == 0) {
    invalid_input("attn::attention_weights", "d = 0; expected d >= 1");
  }
  if (A.rows != Q.rows || A.cols != K.rows) {
    invalid_input("attn::attention_weights", "A is " + std::to_string(A.rows) + " x " +
                                                 std::to_string(A.cols) + "; expected " +
                                                 std::to_string(Q.rows) + " x " +
                                                 std::to_string(K.rows));
  }
  attn::scores(Q, K, A);
  if (causal) attn::apply_causal_mask(A);
  for (std::size_t i = 0; i < A.rows; ++i) attn::stable_softmax(A.row(i));
}

}  // namespace attn
