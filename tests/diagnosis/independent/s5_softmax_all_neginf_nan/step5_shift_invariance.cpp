#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <ranges>
#include <span>
#include <string>

namespace attn {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool any_nan(std::span<const float> xs) {
  return std::ranges::any_of(xs, [](float x) { return std::isnan(x); });
}

}  // namespace

float log_sum_exp(std::span<const float> row) {
  if (any_nan(row)) return kNaN;
  if (row.empty()) return -kInf;
  const float m = std::ranges::max(row);
  if (m == -kInf || m == kInf) return m;
  double total = 0.0;
  for (float x : row) total += std::exp(double(x) - double(m));
  return float(double(m) + std::log(total));
}

void stable_softmax(std::span<float> row) {
  if (row.empty()) return;
  if (any_nan(row)) {
    std::ranges::fill(row, kNaN);
    return;
  }
  const float m = std::ranges::max(row);
  if (m == kInf) {
    const auto winners = std::ranges::count(row, kInf);
    const float share = 1.0f / static_cast<float>(winners);
    for (float& x : row) x = (x == kInf) ? share : 0.0f;
    return;
  }
  double total = 0.0;
  for (float& x : row) {
    x = std::exp(x - m);
    total += x;
  }
  for (float& x : row) x = float(x / total);
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  if (Q.cols != K.cols || Q.cols == 0) {
    attn::invalid_input("attn::attention_weights",
                        "Q has d = " + std::to_string(Q.cols) + " and K has d = " +
                            std::to_string(K.cols) + "; expected the same d >= 1");
  }
  if (A.rows != Q.rows || A.cols != K.rows) {
    attn::invalid_input("attn::attention_weights",
                        "A is " + std::to_string(A.rows) + " x " + std::to_string(A.cols) +
                            "; expected " + std::to_string(Q.rows) + " x " + std::to_string(K.rows));
  }
  attn::scores(Q, K, A);
  if (causal) attn::apply_causal_mask(A);
  for (std::size_t i = 0; i < A.rows; ++i) attn::stable_softmax(A.row(i));
}

}  // namespace attn
