#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>

namespace attn {

namespace {

struct row_stats {
  bool nan = false;
  float max = -std::numeric_limits<float>::infinity();
  std::size_t pos_inf = 0;
};

// one scan: NaN seen?, the max of the rest, and how many +inf
row_stats scan(std::span<const float> xs) {
  row_stats st;
  for (std::size_t j = 0; j < xs.size(); ++j) {
    const float x = xs[j];
    if (x != x) {
      st.nan = true;
      break;
    }
    if (x == std::numeric_limits<float>::infinity()) ++st.pos_inf;
    if (x > st.max) st.max = x;
  }
  return st;
}

}  // namespace

float log_sum_exp(std::span<const float> row) {
  const row_stats st = scan(row);
  if (st.nan) return std::numeric_limits<float>::quiet_NaN();
  if (st.pos_inf > 0) return std::numeric_limits<float>::infinity();
  if (st.max == -std::numeric_limits<float>::infinity()) return st.max;  // empty or all -inf
  float total = 0.0f;
  for (std::size_t j = 0; j < row.size(); ++j) total += std::exp(row[j] - st.max);
  return st.max + std::log(total);
}

void stable_softmax(std::span<float> row) {
  const std::size_t n = row.size();
  if (n == 0) return;
  const row_stats st = scan(row);
  if (st.nan) {
    for (std::size_t j = 0; j < n; ++j) row[j] = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  if (st.pos_inf > 0) {
    const float share = 1.0f / static_cast<float>(st.pos_inf);
    for (std::size_t j = 0; j < n; ++j)
      row[j] = row[j] == std::numeric_limits<float>::infinity() ? share : 0.0f;
    return;
  }
  if (st.max == -std::numeric_limits<float>::infinity()) {
    for (std::size_t j = 0; j < n; ++j) row[j] = 0.0f;
    return;
  }
  float total = 0.0f;
  for (std::size_t j = 0; j < n; ++j) {
    row[j] = std::exp(row[j] - st.max);
    total += row[j];
  }
  const float inv = 1.0f / total;  // total >= 1
  for (std::size_t j = 0; j < n; ++j) row[j] *= inv;
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  if (A.rows != Q.rows || A.cols != K.rows) {
    attn::invalid_input("attn::attention_weights",
                        "A is " + std::to_string(A.rows) + " x " + std::to_string(A.cols) +
                            " but Q has " + std::to_string(Q.rows) + " rows and K has " +
                            std::to_string(K.rows) + "; expected A to be " +
                            std::to_string(Q.rows) + " x " + std::to_string(K.rows));
  }
  if (Q.cols == 0 || K.cols != Q.cols) {
    attn::invalid_input("attn::attention_weights",
                        "Q has d = " + std::to_string(Q.cols) + ", K has d = " +
                            std::to_string(K.cols) + "; expected the same d >= 1");
  }
  attn::scores(Q, K, A);
  if (causal) attn::apply_causal_mask(A);
  for (std::size_t i = 0; i < A.rows; ++i) attn::stable_softmax(A.row(i));
}

}  // namespace attn
