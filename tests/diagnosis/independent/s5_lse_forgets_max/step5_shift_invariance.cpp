#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>

namespace attn {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();

bool has_nan(std::span<const float> r) {
  for (float x : r)
    if (std::isnan(x)) return true;
  return false;
}

float row_max(std::span<const float> r) {
  float m = -kInf;
  for (float x : r)
    if (x > m) m = x;
  return m;
}
}  // namespace

float log_sum_exp(std::span<const float> row) {
  if (has_nan(row)) return std::numeric_limits<float>::quiet_NaN();
  const float m = row_max(row);
  if (std::isinf(m)) return m;  // empty / all -inf -> -inf, any +inf -> +inf
  double sum = 0.0;
  for (float x : row) sum += std::exp(static_cast<double>(x) - m);
  return static_cast<float>(std::log(sum));
}

void stable_softmax(std::span<float> row) {
  if (row.empty()) return;
  if (has_nan(row)) {
    for (float& x : row) x = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  const float m = row_max(row);
  if (m == -kInf) {
    for (float& x : row) x = 0.0f;
    return;
  }
  if (m == kInf) {
    std::size_t count = 0;
    for (float x : row)
      if (x == kInf) ++count;
    for (float& x : row) x = (x == kInf) ? 1.0f / static_cast<float>(count) : 0.0f;
    return;
  }
  double sum = 0.0;
  for (float& x : row) {
    x = std::exp(x - m);
    sum += x;
  }
  for (float& x : row) x = static_cast<float>(x / sum);
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  if (Q.cols != K.cols)
    attn::invalid_input("attn::attention_weights", "Q has " + std::to_string(Q.cols) +
                                                       " columns but K has " + std::to_string(K.cols) +
                                                       "; expected equal d");
  if (Q.cols == 0) attn::invalid_input("attn::attention_weights", "d = 0; expected d >= 1");
  if (A.rows != Q.rows || A.cols != K.rows)
    attn::invalid_input("attn::attention_weights",
                        "A is " + std::to_string(A.rows) + " x " + std::to_string(A.cols) +
                            "; expected " + std::to_string(Q.rows) + " x " + std::to_string(K.rows));
  attn::scores(Q, K, A);
  if (causal) attn::apply_causal_mask(A);
  for (std::size_t i = 0; i < A.rows; ++i) attn::stable_softmax(A.row(i));
}

}  // namespace attn
