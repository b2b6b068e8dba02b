// The ground truth the reference is tested against: plain scalar loops in long double /
// double, written for obviousness rather than speed. Inputs are floats (exactly what the
// reference sees); results are doubles, matrices row-major in std::vector<double>.
// Special values follow the contract's rules (contract/include/attn/contract.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

namespace attn::test::oracle {

inline constexpr double inf = std::numeric_limits<double>::infinity();
inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// sum_i q_i k_i. Each float product is exact in double; the sum runs in long double.
inline double dot(std::span<const float> q, std::span<const float> k) {
  long double sum = 0.0L;
  for (std::size_t i = 0; i < q.size(); ++i) sum += static_cast<long double>(q[i]) * k[i];
  return static_cast<double>(sum);
}

/// q.k / sqrt(d).
inline double scaled_score(std::span<const float> q, std::span<const float> k) {
  return dot(q, k) / std::sqrt(static_cast<double>(q.size()));
}

/// S = Q K^T / sqrt(d) for row-major Q (n_q x d) and K (n_k x d).
inline std::vector<double> scores(std::span<const float> Q, std::span<const float> K,
                                  std::size_t n_q, std::size_t n_k, std::size_t d) {
  std::vector<double> S(n_q * n_k);
  for (std::size_t i = 0; i < n_q; ++i) {
    for (std::size_t j = 0; j < n_k; ++j) S[i * n_k + j] = scaled_score(Q.subspan(i * d, d), K.subspan(j * d, d));
  }
  return S;
}

/// Mask(i, j) = 0 for j <= i, -inf for j > i; n x n.
inline std::vector<double> causal_mask(std::size_t n) {
  std::vector<double> mask(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) mask[i * n + j] = -inf;
  }
  return mask;
}

/// Softmax of a row with the special rows of stable_softmax: NaN anywhere -> all NaN;
/// every entry -inf -> all 0; +inf present -> the +inf entries share 1 equally, the rest 0;
/// otherwise exp(x_j - m) / sum_l exp(x_l - m) in long double.
inline std::vector<double> softmax(std::span<const double> x) {
  const std::size_t n = x.size();
  std::vector<double> a(n, 0.0);
  if (n == 0) return a;
  if (std::any_of(x.begin(), x.end(), [](double v) { return std::isnan(v); })) return std::vector<double>(n, nan);
  const double m = *std::max_element(x.begin(), x.end());
  if (m == -inf) return a;
  if (m == inf) {
    const auto count = std::count(x.begin(), x.end(), inf);
    for (std::size_t j = 0; j < n; ++j) a[j] = x[j] == inf ? 1.0 / static_cast<double>(count) : 0.0;
    return a;
  }
  long double sum = 0.0L;
  for (const double v : x) sum += std::exp(static_cast<long double>(v) - m);
  for (std::size_t j = 0; j < n; ++j) a[j] = static_cast<double>(std::exp(static_cast<long double>(x[j]) - m) / sum);
  return a;
}

inline std::vector<double> softmax(std::span<const float> x) {
  const std::vector<double> wide(x.begin(), x.end());
  return softmax(std::span<const double>(wide));
}

/// log sum_j exp(x_j): -inf for an empty or all -inf row, +inf with +inf present, NaN with NaN.
inline double log_sum_exp(std::span<const float> x) {
  if (std::any_of(x.begin(), x.end(), [](float v) { return std::isnan(v); })) return nan;
  if (x.empty()) return -inf;
  const double m = *std::max_element(x.begin(), x.end());
  if (std::isinf(m)) return m;
  long double sum = 0.0L;
  for (const float v : x) sum += std::exp(static_cast<long double>(v) - m);
  return static_cast<double>(m + std::log(sum));
}

/// -sum_j a_j ln a_j with 0 ln 0 = 0; NaN propagates; 0 for an empty row.
inline double entropy(std::span<const float> a) {
  long double h = 0.0L;
  for (const float v : a) {
    if (v != 0.0f) h -= static_cast<long double>(v) * std::log(static_cast<long double>(v));
  }
  return static_cast<double>(h);
}

/// J(i, j) = a_i (delta_ij - a_j); n x n.
inline std::vector<double> softmax_jacobian(std::span<const float> a) {
  const std::size_t n = a.size();
  std::vector<double> J(n * n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      J[i * n + j] = static_cast<double>(a[i]) * ((i == j ? 1.0 : 0.0) - static_cast<double>(a[j]));
    }
  }
  return J;
}

/// The whole pipeline: softmax of each row of Q K^T / sqrt(d) (+ the causal mask).
inline std::vector<double> attention_weights(std::span<const float> Q, std::span<const float> K,
                                             std::size_t n_q, std::size_t n_k, std::size_t d,
                                             bool causal) {
  std::vector<double> A = scores(Q, K, n_q, n_k, d);
  for (std::size_t i = 0; i < n_q; ++i) {
    const std::span<double> row(A.data() + i * n_k, n_k);
    if (causal) std::fill(row.begin() + static_cast<std::ptrdiff_t>(std::min(i + 1, n_k)), row.end(), -inf);
    const std::vector<double> a = softmax(std::span<const double>(row));
    std::copy(a.begin(), a.end(), row.begin());
  }
  return A;
}

}  // namespace attn::test::oracle
