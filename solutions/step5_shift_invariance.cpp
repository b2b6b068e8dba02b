// solutions/step5_shift_invariance.cpp -- answer key for step 5: shift invariance and the
// stable softmax.
#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>

namespace attn {
namespace {

constexpr float infinity = std::numeric_limits<float>::infinity();
constexpr float quiet_nan = std::numeric_limits<float>::quiet_NaN();

// Checked on its own because a max loop hides NaN: every comparison with NaN is false, so
// std::max(m, x) keeps m when x is NaN (and keeps NaN when m is NaN).
bool has_nan(std::span<const float> row) {
  return std::any_of(row.begin(), row.end(), [](float x) { return std::isnan(x); });
}

// The largest entry of a NaN-free row; -inf for an empty row (the max of nothing).
float max_of(std::span<const float> row) {
  float m = -infinity;
  for (float x : row) {
    if (x > m) m = x;
  }
  return m;
}

std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

}  // namespace

//! [log_sum_exp]
float log_sum_exp(std::span<const float> row) {
  if (has_nan(row)) return quiet_nan;
  const float m = max_of(row);
  // m = -inf (empty or all -inf) and m = +inf are already the answer; the formula below
  // would compute x - m = inf - inf = NaN for them.
  if (std::isinf(m)) return m;
  // Every exponent is <= 0 and the largest term is exp(0) = 1, so the sum lies in [1, n]:
  // no overflow, and log never sees 0.
  double sum = 0.0;
  for (float x : row) {
    sum += std::exp(static_cast<double>(x) - static_cast<double>(m));
  }
  return static_cast<float>(static_cast<double>(m) + std::log(sum));
}
//! [log_sum_exp]

//! [stable_softmax]
void stable_softmax(std::span<float> row) {
  if (row.empty()) return;
  if (has_nan(row)) {
    std::fill(row.begin(), row.end(), quiet_nan);
    return;
  }
  const float m = max_of(row);
  if (m == -infinity) {
    // A query with nothing to attend to (every key masked) gets no weight at all.
    std::fill(row.begin(), row.end(), 0.0f);
    return;
  }
  if (m == infinity) {
    // The limit of adding the same c -> inf to all those scores: they stay equal, so the
    // +inf entries share the weight equally and every finite score's weight goes to 0.
    const auto n_inf = std::count(row.begin(), row.end(), infinity);
    const float share = 1.0f / static_cast<float>(n_inf);
    for (float& x : row) x = (x == infinity) ? share : 0.0f;
    return;
  }
  // softmax(x - m) = softmax(x), and with m subtracted every exponent is <= 0.
  double sum = 0.0;
  for (float& x : row) {
    x = std::exp(x - m);
    sum += x;
  }
  for (float& e : row) {
    e = static_cast<float>(e / sum);
  }
}
//! [stable_softmax]

//! [attention_weights]
void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  // The same checks as attn::scores, repeated so the message names this function.
  if (Q.cols != K.cols) {
    attn::invalid_input("attn::attention_weights",
                        "Q is " + shape(Q.rows, Q.cols) + " but K is " + shape(K.rows, K.cols) +
                            "; expected the same number of columns d");
  }
  if (Q.cols == 0) {
    attn::invalid_input("attn::attention_weights",
                        "Q is " + shape(Q.rows, Q.cols) + " and K is " + shape(K.rows, K.cols) +
                            " (d = 0); expected d >= 1 so that 1/sqrt(d) is defined");
  }
  if (A.rows != Q.rows || A.cols != K.rows) {
    attn::invalid_input("attn::attention_weights",
                        "A is " + shape(A.rows, A.cols) + " but Q has " + std::to_string(Q.rows) +
                            " rows and K has " + std::to_string(K.rows) +
                            " rows; expected A to be " + shape(Q.rows, K.rows));
  }
  attn::scores(Q, K, A);
  if (causal) attn::apply_causal_mask(A);
  for (std::size_t i = 0; i < A.rows; ++i) {
    attn::stable_softmax(A.row(i));
  }
}
//! [attention_weights]

}  // namespace attn
