// A correct step 5 that must be accepted: everything in float (float accumulators, float
// log), multiplication by the reciprocal of the sum, and a pipeline that computes its own
// scores with a reversed float sum instead of calling attn::scores.
#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>

namespace attn {
namespace {

constexpr float inf = std::numeric_limits<float>::infinity();

bool any_nan(std::span<const float> row) {
  return std::any_of(row.begin(), row.end(), [](float x) { return x != x; });
}

}  // namespace

float log_sum_exp(std::span<const float> row) {
  if (any_nan(row)) return std::numeric_limits<float>::quiet_NaN();
  float m = -inf;
  for (float x : row) m = std::max(m, x);
  if (m == inf || m == -inf) return m;
  float sum = 0.0f;
  for (float x : row) sum += std::exp(x - m);
  return m + std::log(sum);
}

void stable_softmax(std::span<float> row) {
  if (any_nan(row)) {
    std::fill(row.begin(), row.end(), std::numeric_limits<float>::quiet_NaN());
    return;
  }
  float m = -inf;
  for (float x : row) m = std::max(m, x);
  if (m == -inf) {
    std::fill(row.begin(), row.end(), 0.0f);
    return;
  }
  if (m == inf) {
    float count = 0.0f;
    for (float x : row) count += (x == inf) ? 1.0f : 0.0f;
    for (float& x : row) x = (x == inf) ? 1.0f / count : 0.0f;
    return;
  }
  float sum = 0.0f;
  for (float& x : row) {
    x = std::exp(x - m);
    sum += x;
  }
  const float inv = 1.0f / sum;
  for (float& x : row) x *= inv;
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  if (Q.cols != K.cols || Q.cols == 0 || A.rows != Q.rows || A.cols != K.rows) {
    attn::invalid_input("attn::attention_weights",
                        "Q is " + std::to_string(Q.rows) + " x " + std::to_string(Q.cols) + ", K is " +
                            std::to_string(K.rows) + " x " + std::to_string(K.cols) + ", A is " +
                            std::to_string(A.rows) + " x " + std::to_string(A.cols) +
                            "; expected equal d >= 1 and A n_q x n_k");
  }
  const float inv_root = 1.0f / std::sqrt(static_cast<float>(Q.cols));
  for (std::size_t i = 0; i < Q.rows; ++i) {
    for (std::size_t j = 0; j < K.rows; ++j) {
      if (causal && j > i) {
        A(i, j) = -inf;
        continue;
      }
      float sum = 0.0f;
      for (std::size_t t = Q.cols; t-- > 0;) sum += Q(i, t) * K(j, t);
      A(i, j) = sum * inv_root;
    }
    stable_softmax(A.row(i));
  }
}

}  // namespace attn
