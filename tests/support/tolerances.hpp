// Every tolerance the tests use, with the error analysis it comes from. Nothing else in
// tests/ may invent a tolerance. Never loosen a bound to make a test pass: find out which
// side is wrong.
//
// Model (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., sec. 2.2):
// every float operation is fl(x op y) = (x op y)(1 + delta) with |delta| <= u = 2^-24
// (round to nearest, no underflow); a chain of n such factors is within gamma_n =
// n u / (1 - n u) of 1 (Lemma 3.1). Library functions are assumed accurate to
// kLibmUlps units in the last place: glibc's expf/logf are below 1 ULP, xsimd's exp is
// about 1.5 ULP on [-104, 0] (DESIGN.md, Known pitfalls); one ULP of a float is at most
// 2u relative. Results below FLT_MIN may be flushed to zero (xsimd's exp does), which
// costs at most FLT_MIN absolute.
//
// Each bound below is for ONE implementation against the exact result, given exact float
// inputs. A student's result and the reference's each carry such an error, so comparing
// the two uses `implementations = 2` (the default); comparing the reference with the
// double-precision oracle uses 1 (the oracle's own error, at most n 2^-53 relative, is far
// inside the kSecondOrder slack). Products of (1 + delta) factors are linearised; the
// factor kSecondOrder = 1.01 covers the dropped second-order terms, which are below 1% of
// the first-order ones whenever a bound is below 10^-2 (every bound here is far smaller).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

namespace attn::test::tol {

inline constexpr double u = 0x1p-24;                  ///< unit roundoff of float
inline constexpr double flt_min = 0x1p-126;          ///< smallest normal float
inline constexpr double eta = 0x1p-149;              ///< smallest subnormal float
inline constexpr double kLibmUlps = 2.0;             ///< assumed accuracy of exp and log
inline constexpr double eps_exp = kLibmUlps * 2 * u; ///< relative error of one exp call
inline constexpr double eps_log = kLibmUlps * 2 * u; ///< relative error of one log call
inline constexpr double kSecondOrder = 1.01;         ///< slack for dropped O(u^2) terms

/// gamma_n = n u / (1 - n u) (Higham, eq. 3.8).
constexpr double gamma(std::size_t n) {
  const double nu = static_cast<double>(n) * u;
  return nu / (1.0 - nu);
}

/// Absolute error from gradual underflow: each of `ops` operations may lose eta/2.
constexpr double underflow(std::size_t ops) { return static_cast<double>(ops) * eta; }

/// Step 1. |fl(q.k) - q.k| <= gamma_d sum_i |q_i k_i| for ANY summation order, with or
/// without FMA, with float or double accumulators (Higham, eq. 3.5 and sec. 3.1: each
/// product passes through at most d roundings).
inline double dot(std::size_t d, double sum_abs_products, int implementations = 2) {
  return implementations * (gamma(d) * sum_abs_products + underflow(2 * d));
}

/// Step 2. The dot product, a square root, and a division (or a reciprocal and a product,
/// or q_i / sqrt(d) scaled first): at most d + 3 roundings on each term, so
/// |fl(s) - s| <= gamma_{d+3} sum_i |q_i k_i| / sqrt(d).
inline double scaled_score(std::size_t d, double sum_abs_products, int implementations = 2) {
  const double root = std::sqrt(static_cast<double>(std::max<std::size_t>(d, 1)));
  return implementations * (gamma(d + 3) * sum_abs_products / root + underflow(2 * d + 3));
}

/// The exponent error of exp(x_j - c) for a shift c: fl(x_j - c) = (x_j - c)(1 + delta)
/// perturbs the exponent by |x_j - c| u. An implementation may shift by c = 0 (naive) or
/// c = max_l x_l (stable); the bound takes the larger of the two.
inline double shift_error(float x, double row_max) {
  if (!std::isfinite(x) || !std::isfinite(row_max)) return 0.0;
  return std::max(std::fabs(static_cast<double>(x)), std::fabs(x - row_max)) * u;
}

/// Steps 4-5. Softmax weights a_j = e_j / sum_l e_l, e_j = exp(x_j - c).
/// e_j carries theta_j <= eps_exp + shift_error_j; the sum of n terms adds gamma_{n-1}
/// and inherits the a-weighted mean of theta; the division adds u. So
///   |fl(a_j) - a_j| <= a_j [theta_j + sum_l a_l theta_l + gamma_n + u] + 2 FLT_MIN,
/// the last term for results flushed to zero (with the max shift the sum is >= 1).
/// `x` is the row passed in, `a` the expected weights; returns one absolute bound per entry.
inline std::vector<double> softmax_row(std::span<const float> x, std::span<const float> a,
                                       int implementations = 2) {
  const std::size_t n = x.size();
  double m = -std::numeric_limits<double>::infinity();
  for (float v : x) m = std::max(m, static_cast<double>(v));
  double mean_theta = 0.0;
  for (std::size_t l = 0; l < n; ++l) mean_theta += std::fabs(a[l]) * (eps_exp + shift_error(x[l], m));
  std::vector<double> bound(n);
  for (std::size_t j = 0; j < n; ++j) {
    const double rel = eps_exp + shift_error(x[j], m) + mean_theta + gamma(n) + u;
    bound[j] = implementations * (kSecondOrder * std::fabs(a[j]) * rel + 2 * flt_min);
  }
  return bound;
}

/// Step 5. log-sum-exp L = c + log S, S = sum_j exp(x_j - c) (Blanchard, Higham and
/// Higham 2021, sec. 3). S carries sigma <= sum_l a_l theta_l + gamma_n (as softmax_row);
/// log S then errs by sigma / (1 - sigma) plus eps_log |log S|, where |log S| <= ln n for the
/// max shift and = |L| for no shift; adding c costs u |L|.
inline double log_sum_exp(std::span<const float> x, std::span<const float> weights, double L,
                          int implementations = 2) {
  const std::size_t n = x.size();
  double m = -std::numeric_limits<double>::infinity();
  for (float v : x) m = std::max(m, static_cast<double>(v));
  double sigma = gamma(n);
  for (std::size_t l = 0; l < n; ++l) sigma += std::fabs(weights[l]) * (eps_exp + shift_error(x[l], m));
  const double log_s = std::max(std::log(static_cast<double>(std::max<std::size_t>(n, 1))), std::fabs(L));
  return implementations * kSecondOrder * (sigma + eps_log * log_s + u * std::fabs(L) + 2 * flt_min);
}

/// Step 6. Entropy H = -sum a_j ln a_j with a_j in [0, 1]: every term has the same sign, so
/// with one log (eps_log), one product (u) and n - 1 additions (gamma_{n-1}) per term,
/// |fl(H) - H| <= (eps_log + gamma_n) sum_j |a_j ln a_j|.
inline double entropy(std::span<const float> a, int implementations = 2) {
  double s = 0.0;
  for (float v : a) s += (v > 0.0f) ? std::fabs(v * std::log(static_cast<double>(v))) : 0.0;
  return implementations * kSecondOrder * ((eps_log + gamma(a.size())) * s + underflow(3 * a.size()));
}

/// Step 6. Jacobian entry J_ij = a_i delta_ij - a_i a_j, computed as a product and a
/// difference, or as a_i (1 - a_i) on the diagonal: at most 3 roundings on each of the two
/// terms, |fl(J_ij) - J_ij| <= gamma_3 (delta_ij a_i + a_i a_j).
inline double jacobian(float a_i, float a_j, bool diagonal, int implementations = 2) {
  const double ai = std::fabs(a_i), aj = std::fabs(a_j);
  return implementations * (gamma(3) * ((diagonal ? ai : 0.0) + ai * aj) + underflow(3));
}

/// Step 5. Attention weights from scores with error: if every score of a row is off by at
/// most E (each implementation errs by scaled_score(), so two differ by up to twice that),
/// the weights change by a factor in [exp(-2E), exp(2E)], since
/// a'_j / a_j = exp(D_j) / sum_l a_l exp(D_l). Add the softmax rounding of the row on top.
/// `beta` is the expected (masked, scaled) score row, `a` the expected weights and
/// `score_error` the largest scaled_score() bound of the row (for the given implementations).
inline std::vector<double> attention_row(std::span<const float> beta, std::span<const float> a,
                                         double score_error, int implementations = 2) {
  std::vector<double> bound = softmax_row(beta, a, implementations);
  const double factor = std::expm1(2.0 * score_error);
  for (std::size_t j = 0; j < a.size(); ++j) bound[j] += kSecondOrder * std::fabs(a[j]) * factor;
  return bound;
}

/// Step 6. One sample of the variance estimator squares a computed dot product x^ with
/// |x^ - x| <= e (dot()): |x^2 - x^2| = |x^ - x| |x^ + x| <= (2|x| + e) e. The square, the
/// sum over samples and the mean are taken in double (2^-53 per operation, far inside
/// kSecondOrder).
inline double squared_dot(double x, double e) { return kSecondOrder * (2 * std::fabs(x) + e) * e; }

/// Step 6, statistics rather than rounding: the Monte Carlo estimate (1/N) sum_s (q_s.k_s)^2
/// of Var[q.k] = d with standard normal components has standard deviation
/// sqrt((E[(q.k)^4] - d^2) / N) = d sqrt((2 + 6/d) / N), since E[(q.k)^4] = 3 d^2 + 6 d.
/// Six standard deviations: a correct estimator fails about once in 10^9 runs.
inline double variance_estimate(std::size_t d, std::size_t samples) {
  if (d == 0) return 0.0;
  const double dd = static_cast<double>(d);
  return 6.0 * dd * std::sqrt((2.0 + 6.0 / dd) / static_cast<double>(samples));
}

/// The same estimator for scaled scores q.k / sqrt(d): every sample is divided by d, so
/// the mean (1) and its standard deviation both scale by 1/d.
inline double scaled_variance_estimate(std::size_t d, std::size_t samples) {
  return d == 0 ? 0.0 : variance_estimate(d, samples) / static_cast<double>(d);
}

/// A number quoted on the cards to `decimals` decimal places is within half a unit of
/// its last place.
constexpr double card(int decimals) {
  double unit = 1.0;
  for (int i = 0; i < decimals; ++i) unit /= 10.0;
  return unit / 2.0;
}

}  // namespace attn::test::tol
