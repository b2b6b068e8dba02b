// A correct step 5 that must be accepted: double accumulation with std::accumulate and
// std::max_element, log-sum-exp used to normalise (a_j = exp(x_j - L)), and a pipeline
// built from the student's earlier steps.
#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <span>
#include <string>

namespace attn {

float log_sum_exp(std::span<const float> row) {
  if (row.empty()) return -std::numeric_limits<float>::infinity();
  for (float x : row) {
    if (std::isnan(x)) return x;
  }
  const double m = *std::max_element(row.begin(), row.end());
  if (std::isinf(m)) return static_cast<float>(m);
  const double sum = std::accumulate(row.begin(), row.end(), 0.0,
                                     [m](double s, float x) { return s + std::exp(x - m); });
  return static_cast<float>(m + std::log(sum));
}

void stable_softmax(std::span<float> row) {
  if (row.empty()) return;
  if (std::any_of(row.begin(), row.end(), [](float x) { return std::isnan(x); })) {
    std::fill(row.begin(), row.end(), std::numeric_limits<float>::quiet_NaN());
    return;
  }
  const double m = *std::max_element(row.begin(), row.end());
  if (m == -std::numeric_limits<double>::infinity()) {
    std::fill(row.begin(), row.end(), 0.0f);
    return;
  }
  if (m == std::numeric_limits<double>::infinity()) {
    const auto count = static_cast<double>(std::count(row.begin(), row.end(), std::numeric_limits<float>::infinity()));
    for (float& x : row) x = std::isinf(x) && x > 0 ? static_cast<float>(1.0 / count) : 0.0f;
    return;
  }
  const double sum = std::accumulate(row.begin(), row.end(), 0.0,
                                     [m](double s, float x) { return s + std::exp(x - m); });
  const double L = m + std::log(sum);
  for (float& x : row) x = static_cast<float>(std::exp(x - L));
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  if (Q.cols != K.cols || Q.cols == 0 || A.rows != Q.rows || A.cols != K.rows) {
    attn::invalid_input("attn::attention_weights", "shapes Q " + std::to_string(Q.rows) + " x " +
                                                       std::to_string(Q.cols) + ", K " + std::to_string(K.rows) +
                                                       " x " + std::to_string(K.cols) + ", A " +
                                                       std::to_string(A.rows) + " x " + std::to_string(A.cols) +
                                                       "; expected A n_q x n_k");
  }
  attn::scores(Q, K, A);
  if (causal) attn::apply_causal_mask(A);
  for (std::size_t i = 0; i < A.rows; ++i) stable_softmax(A.row(i));
}

}  // namespace attn
