// The ground truth the reference is tested against: plain scalar loops in long double /
// double, written for obviousness rather than speed. Inputs are floats (exactly what the
// reference sees); results are doubles, matrices row-major in std::vector<double>.
// Special values follow the contract's rules (contract/include/attn/contract.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include <attn/matrix.hpp>

#include "support/tolerances.hpp"

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

/// The exact gradients of the attention backward pass (step 11), row-major in the outputs'
/// shapes, and the weights A (n_q x n_k, 0 where masked) they come from.
struct gradients {
  std::vector<double> dQ, dK, dV, A;
};

/// dV = A^T dO, dA = dO V^T, dS_ij = A_ij (dA_ij - <dA_i, A_i>), dQ = dS K / sqrt(d),
/// dK = dS^T Q / sqrt(d), from attention_weights() above, summed in long double over the keys
/// each query sees (a masked key is not read).
inline gradients attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                                    const_matrix_view dO, bool causal) {
  const std::size_t nq = Q.rows, nk = K.rows, d = Q.cols, dv = V.cols;
  gradients e{{}, {}, {}, attention_weights(std::span<const float>(Q.data, nq * d),
                                            std::span<const float>(K.data, nk * d), nq, nk, d, causal)};
  std::vector<long double> dQ(nq * d, 0.0L), dK(nk * d, 0.0L), dV(nk * dv, 0.0L), dA(nk);
  const long double root = std::sqrt(static_cast<long double>(d));
  for (std::size_t i = 0; i < nq; ++i) {
    const std::size_t n = causal ? std::min(nk, i + 1) : nk;
    std::fill(e.A.begin() + static_cast<std::ptrdiff_t>(i * nk + n), e.A.begin() + static_cast<std::ptrdiff_t>((i + 1) * nk), 0.0);
    long double c = 0.0L;
    for (std::size_t j = 0; j < n; ++j) {
      dA[j] = 0.0L;
      for (std::size_t t = 0; t < dv; ++t) dA[j] += static_cast<long double>(dO(i, t)) * V(j, t);
      c += e.A[i * nk + j] * dA[j];
    }
    for (std::size_t j = 0; j < n; ++j) {
      const long double a = e.A[i * nk + j], ds = a * (dA[j] - c) / root;
      for (std::size_t t = 0; t < dv; ++t) dV[j * dv + t] += a * dO(i, t);
      for (std::size_t t = 0; t < d; ++t) {
        dQ[i * d + t] += ds * K(j, t);
        dK[j * d + t] += ds * Q(i, t);
      }
    }
  }
  e.dQ.assign(dQ.begin(), dQ.end());
  e.dK.assign(dK.begin(), dK.end());
  e.dV.assign(dV.begin(), dV.end());
  return e;
}

/// What attn::dot_variance(d, samples, seed) computes, from its documented draws (for each
/// sample q, then k: d standard normal floats each, from one std::mt19937_64(seed)) with
/// every dot product exact: `value`, the mean of their squares; and `bound`, how far a float
/// computation of the same draws may be from it (each dot product's rounding, tol::dot,
/// through its square, tol::squared_dot, averaged). samples > 0.
struct variance_estimate {
  double value;
  double bound;
};
inline variance_estimate dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(d), k(d);
  double sum = 0.0, bound = 0.0;
  for (std::size_t s = 0; s < samples; ++s) {
    for (float& x : q) x = normal(engine);
    for (float& x : k) x = normal(engine);
    const double x = dot(q, k);
    sum += x * x;
    bound += tol::squared_dot(x, tol::dot(d, tol::sum_abs_products(q, k), 1));
  }
  const double n = static_cast<double>(samples);
  return {sum / n, bound / n};
}

}  // namespace attn::test::oracle
