// Every tolerance the tests use, with the error analysis it comes from. Nothing else in
// tests/ may invent a tolerance. Never loosen a bound to make a test pass: find out which
// side is wrong.
//
// Model (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., sec. 2.2):
// every float operation is fl(x op y) = (x op y)(1 + delta) with |delta| <= u = 2^-24
// (round to nearest, no underflow); a chain of n such factors is within gamma_n =
// n u / (1 - n u) of 1 (Lemma 3.1). Library functions are assumed accurate to
// kLibmUlps units in the last place: glibc's expf/logf are below 1 ULP, xsimd's exp is
// about 1.5 ULP on [-104, 0] (measured: tests/reference/test_reference_exp.cpp); one ULP
// of a float is at most 2u relative. Results below FLT_MIN may be flushed to zero (xsimd's exp does), which
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
#include <utility>
#include <vector>

#include <attn/matrix.hpp>

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
/// `exact`, when given, is the oracle's weights in double: the factor applies to a_j itself,
/// and a weight below the float range rounds to 0 in `a` (the fuzzer found scores near 1e9,
/// whose float spacing is 64, where an exact weight of 3e-72 may legitimately come out as
/// 1.6e-28: within 3e-72 (exp(2E) - 1) for E >= 57, but not within 0 times that factor).
inline std::vector<double> attention_row(std::span<const float> beta, std::span<const float> a,
                                         double score_error, int implementations = 2,
                                         std::span<const double> exact = {}) {
  std::vector<double> bound = softmax_row(beta, a, implementations);
  const double factor = std::expm1(2.0 * score_error);
  for (std::size_t j = 0; j < a.size(); ++j) {
    const double weight = exact.empty() ? std::fabs(a[j]) : std::max<double>(std::fabs(a[j]), std::fabs(exact[j]));
    bound[j] += kSecondOrder * weight * factor;
  }
  return bound;
}

/// sum_t |q_t k_t| in double (each product of two floats is exact there): the magnitude the
/// bounds of dot products and scores (dot(), scaled_score()) are proportional to.
inline double sum_abs_products(std::span<const float> q, std::span<const float> k) {
  double s = 0.0;
  for (std::size_t t = 0; t < q.size() && t < k.size(); ++t) {
    s += std::fabs(static_cast<double>(q[t]) * static_cast<double>(k[t]));
  }
  return s;
}

/// The number of keys query i sees: all n_k without a mask, keys 0..i under the causal mask.
constexpr std::size_t visible_keys(std::size_t i, std::size_t n_k, bool causal) {
  return causal ? std::min(n_k, i + 1) : n_k;
}

/// Steps 5, 7 and 9. The score error E of one query's row for attention_row() and its kin
/// (streaming_attention_row(), shifted_rows()): the largest scaled_score() bound over the
/// keys the query sees, the first `visible` keys (visible_keys()). `sum_abs[j]` is
/// sum_abs_products(q, k_j) of key j and `d` the length of q. A masked key does not count:
/// its weight is exactly 0 whatever its score, so its score's rounding never reaches the
/// weights; counting it would let a key the query cannot see (one with a huge score) loosen
/// the bound of every weight of the row. Nor does a key with an infinite or NaN factor (its
/// sum is not finite): its exact score is -inf, +inf or NaN (float products cannot overflow
/// in double), and the contract's policy answers those exactly (weight 0 for -inf, the +inf
/// keys sharing the row, a NaN row), so no rounding of its score reaches the weights either.
inline double visible_score_error(std::size_t d, std::span<const double> sum_abs, std::size_t visible,
                                  int implementations = 2) {
  double error = 0.0;
  for (std::size_t j = 0; j < std::min(visible, sum_abs.size()); ++j) {
    if (std::isfinite(sum_abs[j])) error = std::max(error, scaled_score(d, sum_abs[j], implementations));
  }
  return error;
}

/// The same from the query and the keys (the rows of K).
inline double visible_score_error(std::span<const float> q, const_matrix_view K, std::size_t visible,
                                  int implementations = 2) {
  std::vector<double> sum_abs(std::min(visible, K.rows));
  for (std::size_t j = 0; j < sum_abs.size(); ++j) sum_abs[j] = sum_abs_products(q, K.row(j));
  return visible_score_error(q.size(), sum_abs, visible, implementations);
}

/// Step 6. One sample of the variance estimator squares a computed dot product x^ with
/// |x^ - x| <= e (dot()): |x^2 - x^2| = |x^ - x| |x^ + x| <= (2|x| + e) e. The square, the
/// sum over samples and the mean are taken in double (2^-53 per operation, far inside
/// kSecondOrder).
inline double squared_dot(double x, double e) { return kSecondOrder * (2 * std::fabs(x) + e) * e; }

/// Step 6, statistics rather than rounding: the Monte Carlo estimate (1/N) sum_s (q_s.k_s)^2
/// of Var[q.k] = d with standard normal components has standard deviation
/// sqrt((E[(q.k)^4] - d^2) / N) = d sqrt((2 + 6/d) / N), since E[(q.k)^4] = 3 d^2 + 6 d.
/// Six standard deviations: a correct estimator fails a check about twice in 10^9
/// (P(|Z| > 6) = 1.97e-9 for a normal Z).
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

// ------------------------------------------------------------------- extension steps 7-10


/// Steps 7 and 9. The attention output o = sum_j a_j v_j of one query, in one coordinate.
/// An implementation either sums the normalised weights times the values (two passes), or
/// sums unnormalised e_j v_j and divides once by sum_l e_l (one pass); the weights are then
/// the quotients e_j / sum_l e_l, within `weight_bounds` of `a`, as before. Either way the
/// n products and n - 1 additions cost gamma_n of sum_j |a_j v_j| (Higham, eq. 3.5), the
/// final division u more, with the computed weights' own errors b_j on top:
///   |fl(o) - o| <= sum_j b_j |v_j| + gamma_{n+1} sum_j (|a_j| + b_j) |v_j| (per implementation).
/// `weight_bounds` already holds every implementation's weight error (attention_row(),
/// online_softmax_row()).
inline double attention_output(std::span<const double> weight_bounds, std::span<const float> a,
                               std::span<const float> v, int implementations = 2) {
  const std::size_t n = a.size();
  double propagated = 0.0, magnitude = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    const double vj = std::fabs(static_cast<double>(v[j]));
    propagated += weight_bounds[j] * vj;
    magnitude += (std::fabs(static_cast<double>(a[j])) + weight_bounds[j]) * vj;
  }
  return kSecondOrder * (propagated + implementations * (gamma(n + 1) * magnitude + underflow(2 * n + 1)));
}

/// Step 9. How many times one term of a streaming sum may be rescaled by e^(m - m') before
/// the end: once per score pushed after it (the max grows at most that often inside a
/// block) plus once per merge of a block: at most 2n for a row of n scores.
constexpr std::size_t streaming_rescales(std::size_t n) { return 2 * n; }

/// Step 9. The relative error theta_j of one term e_j = exp(x_j - m) of a streaming sum with
/// final max m. The exponent x_j - m_t is taken against the max m_t of its time, with
/// x_j <= m_t <= m, so its rounding is at most |x_j - m| u <= shift_error(); the rescale
/// factors e^(m_t - m_t+1) telescope to e^(m_t - m), whose exponents' roundings add to at
/// most (m - x_j) u, another shift_error(); each of the `rescales` factors costs one exp
/// (eps_exp) and one product (u). So theta_j <= eps_exp + 2 shift_error_j +
/// rescales (eps_exp + u). A two-pass softmax is the case rescales = 0.
inline double streaming_term(float x, double row_max, std::size_t rescales) {
  return eps_exp + 2.0 * shift_error(x, row_max) + static_cast<double>(rescales) * (eps_exp + u);
}

/// Step 9. The running sum l = sum_j exp(x_j - m) of a streaming normaliser after the scores
/// `x` (in any order, pushed one by one or merged in parts): each term carries theta_j
/// (streaming_term with streaming_rescales(n)) and the additions gamma_n, so
/// |fl(l) - l| <= (sum_j e_j theta_j + gamma_n l) + n FLT_MIN (terms flushed to zero).
/// Returns the absolute bound, given the exact sum `l`.
inline double online_sum(std::span<const float> x, double l, int implementations = 2) {
  const std::size_t n = x.size();
  double m = -std::numeric_limits<double>::infinity();
  for (float v : x) m = std::max(m, static_cast<double>(v));
  double weighted = 0.0;
  for (float v : x) {
    if (std::isfinite(v)) weighted += std::exp(static_cast<double>(v) - m) * streaming_term(v, m, streaming_rescales(n));
  }
  return implementations * (kSecondOrder * (weighted + gamma(n) * l) + underflow(n) + static_cast<double>(n) * flt_min);
}

/// Step 9. Softmax weights from a streaming normaliser (or a two-pass softmax: it is the
/// case of no rescales), as softmax_row() with theta_j from streaming_term():
///   |fl(a_j) - a_j| <= a_j [theta_j + sum_l a_l theta_l + gamma_n + u] + 2 FLT_MIN.
/// `x` is the row, `a` the expected weights.
inline std::vector<double> online_softmax_row(std::span<const float> x, std::span<const float> a,
                                              int implementations = 2) {
  const std::size_t n = x.size();
  double m = -std::numeric_limits<double>::infinity();
  for (float v : x) m = std::max(m, static_cast<double>(v));
  double mean_theta = 0.0;
  for (std::size_t l = 0; l < n; ++l) mean_theta += std::fabs(a[l]) * streaming_term(x[l], m, streaming_rescales(n));
  std::vector<double> bound(n);
  for (std::size_t j = 0; j < n; ++j) {
    const double rel = streaming_term(x[j], m, streaming_rescales(n)) + mean_theta + gamma(n) + u;
    bound[j] = implementations * (kSecondOrder * std::fabs(a[j]) * rel + 2 * flt_min);
  }
  return bound;
}

/// Step 9, one call at a time, from a given state {m, l} (the docs' widgets compare each
/// call of the browser's build with the native build on the same input). push():
/// m' = max(m, x) is exact, and l' = t1 + t2 with t1 = l e^(m - m'), t2 = e^(x - m'). Each
/// exponent's rounding perturbs its exp by |delta| u (delta = m - m' or x - m'), each exp
/// costs eps_exp, t1's product u, and the addition u of l'; both terms are >= 0, so
///   |fl(l') - l'| <= t1 (eps_exp + u + |m - m'| u) + t2 (eps_exp + |x - m'| u) + u l' + 2 FLT_MIN,
/// the last term for terms flushed to zero. A term whose exponent is not finite is exact
/// (e^(-inf) = 0; the contract defines the +inf cases as e^0 = 1). `m`, `l` and `x` are the
/// state and the score before the push, `m_new` the new maximum.
inline double online_push(double m, double l, double x, double m_new, int implementations = 2) {
  const auto term = [m_new](double scale, double value) {  // {the term, its relative error}
    if (value == -std::numeric_limits<double>::infinity()) return std::pair{0.0, 0.0};  // e^(-inf)
    const double delta = value - m_new;
    if (std::isnan(delta)) return std::pair{scale, 0.0};     // inf - inf: defined as e^0, exact
    if (!std::isfinite(delta)) return std::pair{0.0, 0.0};  // e^(-inf) = 0
    return std::pair{scale * std::exp(delta), eps_exp + std::fabs(delta) * u};
  };
  const auto [t1, r1] = term(l, m);
  const auto [t2, r2] = term(1.0, x);
  const double bound = t1 * (r1 + u) + t2 * r2 + u * (t1 + t2);
  return implementations * (kSecondOrder * bound + 2 * flt_min);
}

/// Step 9, weight() from a given state: w = e^(x - m) / l costs the exponent's rounding
/// |x - m| u, one exp and one division: |fl(w) - w| <= w [eps_exp + u + |x - m| u] + FLT_MIN.
inline double online_weight(double m, double x, double w, int implementations = 2) {
  const double shift = std::isfinite(x - m) ? std::fabs(x - m) : 0.0;
  return implementations * (kSecondOrder * std::fabs(w) * (eps_exp + u + shift * u) + flt_min);
}

/// Step 9. Attention weights of one query computed in one pass, from scores with error (as
/// attention_row(), whose factor exp(2E) - 1 covers two implementations' scores differing
/// by at most `score_error`), on top of online_softmax_row().
inline std::vector<double> streaming_attention_row(std::span<const float> beta, std::span<const float> a,
                                                   double score_error, int implementations = 2) {
  std::vector<double> bound = online_softmax_row(beta, a, implementations);
  const double factor = std::expm1(2.0 * score_error);
  for (std::size_t j = 0; j < a.size(); ++j) bound[j] += kSecondOrder * std::fabs(a[j]) * factor;
  return bound;
}

/// Step 8. The ALiBi slope m_h = 2^e, e = -8h/H. Computing e costs at most two roundings
/// (a division, or a product and a division), which perturb 2^e by a factor within
/// 2 ln(2) |e| u; exp2 or pow is kLibmUlps accurate (eps_exp) and the result is rounded
/// to float (u). Computing r = m_1 that way and then m_h = r^h by h - 1 products multiplies
/// r's error by h and adds gamma_{h-1}. Both are within
///   |fl(m_h) - m_h| <= m_h [h (eps_exp + u) + 2 ln(2) |e| u + gamma_h].
inline double alibi_slope(std::size_t h, std::size_t heads, int implementations = 2) {
  const double e = -8.0 * static_cast<double>(h) / static_cast<double>(heads);
  const double rel = static_cast<double>(h) * (eps_exp + u) + 2.0 * std::log(2.0) * std::fabs(e) * u + gamma(h);
  return implementations * kSecondOrder * std::exp2(e) * rel;
}

/// Step 8. S_ij + m (j - i) from a float score s and a float slope m: j - i is exact (|j - i|
/// < 2^24); m (j - i) and the sum round once each, or m j - m i and the sum three times, so
///   |fl - exact| <= gamma_3 (|s| + |m| (i + j)).
inline double alibi_bias(double s, double slope, std::size_t i, std::size_t j, int implementations = 2) {
  const double reach = std::fabs(slope) * (static_cast<double>(i) + static_cast<double>(j));
  return implementations * (gamma(3) * (std::fabs(s) + reach) + underflow(3));
}

/// Step 8. Weights of two score rows x and y that are equal up to a constant in exact
/// arithmetic (x_j = y_j + c), each rounded its own way there (entries of the two off by
/// at most `score_error`, e.g. the largest alibi_bias() of the row with two
/// implementations): the softmax of each carries softmax_row() (one implementation each),
/// and the rounding of the scores moves the weights by a factor within exp(+-2 score_error)
/// (as in attention_row()).
inline std::vector<double> shifted_rows(std::span<const float> x, std::span<const float> y,
                                        std::span<const float> a, double score_error) {
  std::vector<double> bound = softmax_row(x, a, 1);
  const std::vector<double> other = softmax_row(y, a, 1);
  const double factor = std::expm1(2.0 * score_error);
  for (std::size_t j = 0; j < a.size(); ++j) bound[j] += other[j] + kSecondOrder * std::fabs(a[j]) * factor;
  return bound;
}

/// Step 10. g^s_j = a_j (g_j - <g, a>). Directly: <g, a> errs by gamma_n sum_l |a_l g_l|, the
/// difference and the product add two roundings. Through step 6's Jacobian,
/// sum_i J_ij g_i with J_ij rounded three times (tol::jacobian) and one product per term
/// before an n-term sum: gamma_{n+4} sum_i |J_ij g_i| <= gamma_{n+4} a_j (|g_j| +
/// sum_l a_l |g_l|). That covers both:
///   |fl(g^s_j) - g^s_j| <= gamma_{n+4} |a_j| (|g_j| + sum_l |a_l g_l|).
/// `sum_abs_ag` is sum_l |a_l g_l|.
inline double softmax_backward(double a_j, double g_j, double sum_abs_ag, std::size_t n,
                               int implementations = 2) {
  return implementations * (kSecondOrder * gamma(n + 4) * std::fabs(a_j) * (std::fabs(g_j) + sum_abs_ag) +
                            underflow(n + 3));
}

/// Step 10. How far the exact gradient moves when the weights are rounded to float before
/// the gradient is taken (a_l -> a_l (1 + delta_l), |delta_l| <= u): a_j delta_j (g_j - c)
/// - a_j sum_l a_l delta_l g_l, at most u |a_j| (|g_j| + |c| + sum_l |a_l g_l|)
/// <= 2 u |a_j| (|g_j| + sum_l |a_l g_l|).
inline double rounded_weights(double a_j, double g_j, double sum_abs_ag) {
  return kSecondOrder * 2.0 * u * std::fabs(a_j) * (std::fabs(g_j) + sum_abs_ag);
}

/// Step 10, calculus rather than rounding: the central difference (f(s + h e_j) -
/// f(s - h e_j)) / 2h of f(s) = <g, softmax(s)> evaluated in double. Truncation: h^2 / 6
/// times the third derivative along s_j. As a function of s_j alone each weight is
/// c sigma(s_j + b) or c (1 - sigma(s_j + b)) with 0 <= c <= 1, and the logistic sigma has
/// a third derivative of at most 1/8, so the truncation is at most h^2 / 48 sum_i |g_i|.
/// Rounding: f is evaluated to about (n + 10) 2^-53 sum_i |g_i|, and s_j +- h is rounded by
/// 2^-53 |s_j| (moving f by at most sum_i |g_i| times that); two evaluations over 2h give
/// (n + 10 + |s_j|) 2^-53 sum_i |g_i| / h.
inline double central_difference(double h, double sum_abs_g, std::size_t n, double s_max) {
  return kSecondOrder * (h * h / 48.0 * sum_abs_g +
                         (static_cast<double>(n) + 10.0 + s_max) * 0x1p-53 * sum_abs_g / h);
}

// ------------------------------------------------------------------- extension step 11

/// Step 11: one bound per element of dQ, dK and dV (row-major, the outputs' shapes).
struct attention_gradients {
  std::vector<double> dQ, dK, dV;
};

/// Step 11. The attention backward pass from float Q, K, V and dO, for the expected weights
/// `A` (n_q x n_k, 0 where masked). Each implementation computes its own weights; the rest is
/// forward error analysis of the four lines, for query i over its n_i visible keys j:
///  * weights: |a^_ij - a_ij| <= b_ij, attention_row() of the row's scores with the row's
///    largest scaled_score() bound as the score error (one implementation);
///  * dA_ij = <dO_i, v_j>: e_ij = gamma_{d_v} G_ij, with G_ij = sum_c |dO_ic V_jc|;
///  * c_i = <dA_i, A_i>: |c^_i - c_i| <= C_i = sum_j b_ij G_ij + gamma_{n_i + d_v + 1}
///    sum_j (|a_ij| + b_ij) G_ij. This also covers c_i computed as <dO_i, o_i> from the
///    output o_i = sum_j a_ij v_j (the rowsum(dO * O) of Dao et al. 2022): o_i errs by
///    sum_j b_ij |v_j| + gamma_{n_i + 1} sum_j (|a_ij| + b_ij) |v_j| (attention_output()), and
///    the d_v-term dot product adds gamma_{d_v};
///  * dS_ij = a_ij (dA_ij - c_i): a^ (dA^ - c^) - a (dA - c) = (a^ - a)(dA - c) + a^ ((dA^ - dA)
///    - (c^ - c)), and the subtraction and product round twice, or, through step 6's
///    Jacobian, each of the n_i terms carries gamma_{n_i + 4} (softmax_backward()):
///      s_ij = b_ij (G_ij + |c_i|) + (|a_ij| + b_ij) (e_ij + C_i)
///             + gamma_{n_i + 4} (|a_ij| + b_ij) (G_ij + |c_i| + e_ij + C_i);
///  * dQ_it = sum_j dS_ij K_jt / sqrt(d) over the visible keys, dK_jt = sum_i dS_ij Q_it /
///    sqrt(d) over the m_j queries that see key j: the propagated s_ij plus gamma_{m + 3} of
///    the magnitude (m products and m - 1 sums, the rounded 1/sqrt(d) or sqrt(d), and the
///    product or quotient by it, whichever of dS, K, Q or the sum it is applied to):
///      |dQ^_it - dQ_it| <= (sum_j s_ij |K_jt| + gamma_{n_i + 3} sum_j (|dS_ij| + s_ij) |K_jt|) / sqrt(d);
///  * dV_jc = sum_i a_ij dO_ic: sum_i b_ij |dO_ic| + gamma_{m_j + 1} sum_i (|a_ij| + b_ij) |dO_ic|.
/// Masked keys take no part (their weight and dS are exactly 0). The bound of one
/// implementation, times `implementations`; kSecondOrder covers the products of errors.
inline attention_gradients attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                                              const_matrix_view dO, const_matrix_view A, bool causal,
                                              int implementations = 2) {
  const std::size_t nq = Q.rows, nk = K.rows, d = Q.cols, dv = V.cols;
  const double inv_root = 1.0 / std::sqrt(static_cast<double>(std::max<std::size_t>(d, 1)));
  attention_gradients out{std::vector<double>(nq * d, 0.0), std::vector<double>(nk * d, 0.0),
                          std::vector<double>(nk * dv, 0.0)};
  std::vector<std::size_t> seen_by(nk, 0);  // m_j
  for (std::size_t i = 0; i < nq; ++i) {
    for (std::size_t j = 0; j < (causal ? std::min(nk, i + 1) : nk); ++j) ++seen_by[j];
  }
  std::vector<float> beta(nk);
  std::vector<double> G(nk), s(nk), dS(nk);
  for (std::size_t i = 0; i < nq; ++i) {
    const std::size_t n = causal ? std::min(nk, i + 1) : nk;
    const double score_error = visible_score_error(Q.row(i), K, n, 1);
    double c = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      double dot = 0.0;
      for (std::size_t t = 0; t < d; ++t) dot += static_cast<double>(Q(i, t)) * K(j, t);
      beta[j] = static_cast<float>(dot * inv_root);
      double g = 0.0;
      G[j] = 0.0;
      for (std::size_t t = 0; t < dv; ++t) {
        g += static_cast<double>(dO(i, t)) * V(j, t);
        G[j] += std::fabs(static_cast<double>(dO(i, t)) * V(j, t));
      }
      dS[j] = g;  // dA_ij for now
      c += static_cast<double>(A(i, j)) * g;
    }
    const std::span<const float> a(A.data + i * nk, n);
    const std::vector<double> b = attention_row(std::span<const float>(beta).first(n), a, score_error, 1);
    double C = 0.0, magnitude = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      C += b[j] * G[j];
      magnitude += (std::fabs(a[j]) + b[j]) * G[j];
    }
    C += gamma(n + dv + 1) * magnitude;
    for (std::size_t j = 0; j < n; ++j) {
      const double e = gamma(dv) * G[j] + underflow(2 * dv), weight = std::fabs(a[j]) + b[j];
      s[j] = b[j] * (G[j] + std::fabs(c)) + weight * (e + C) + gamma(n + 4) * weight * (G[j] + std::fabs(c) + e + C) +
             underflow(n + 2 * dv + 4);
      dS[j] = std::fabs(static_cast<double>(a[j]) * (dS[j] - c));
    }
    for (std::size_t t = 0; t < d; ++t) {
      double propagated = 0.0, size = 0.0;
      for (std::size_t j = 0; j < n; ++j) {
        propagated += s[j] * std::fabs(K(j, t));
        size += (dS[j] + s[j]) * std::fabs(K(j, t));
      }
      out.dQ[i * d + t] = (propagated + gamma(n + 3) * size) * inv_root + underflow(2 * n + 3);
    }
    for (std::size_t j = 0; j < n; ++j) {  // query i's share of the sums over queries
      const double m = static_cast<double>(seen_by[j]);
      for (std::size_t t = 0; t < d; ++t) {
        const double q = std::fabs(static_cast<double>(Q(i, t)));
        out.dK[j * d + t] += (s[j] * q + gamma(seen_by[j] + 3) * (dS[j] + s[j]) * q) * inv_root + underflow(5) / m;
      }
      for (std::size_t t = 0; t < dv; ++t) {
        const double o = std::fabs(static_cast<double>(dO(i, t)));
        out.dV[j * dv + t] += b[j] * o + gamma(seen_by[j] + 1) * (std::fabs(a[j]) + b[j]) * o + underflow(2) / m;
      }
    }
  }
  for (std::vector<double>* v : {&out.dQ, &out.dK, &out.dV}) {
    for (double& x : *v) x *= implementations * kSecondOrder;
  }
  return out;
}

/// Step 11, calculus: f(x) = E_a[g] = sum_j a_j g_j with a = softmax(s + x w), the loss of one
/// query as one input entry x moves its scores at the rates w_j. df/dx = Cov_a(g, w), and each
/// further derivative is the next joint cumulant (the softmax is an exponential family in
/// x), so d^3f/dx^3 = kappa(g, w, w, w) = E[g~ w~^3] - 3 E[g~ w~] E[w~^2] for the centred
/// g~ and w~. With |g~| <= R_g and |w~| <= R_w (the ranges of g and w over the visible keys):
///   |df/dx| <= R_g R_w,   |d^3f/dx^3| <= 4 R_g R_w^3.
inline double softmax_mean_first_derivative(double range_g, double range_w) { return range_g * range_w; }
inline double softmax_mean_third_derivative(double range_g, double range_w) {
  return 4.0 * range_g * range_w * range_w * range_w;
}

/// Step 11. The loss L = sum_i <dO_i, o_i> in double, query i's share: its scores
/// (q_i . k_j) / sqrt(d) take d + 2 roundings of at most 2^-53 sigma_i each (sigma_i the
/// row's largest sum_t |q_it k_jt| / sqrt(d)), which moves each weight by a factor within
/// exp(2 (d + 2) 2^-53 sigma_i); the max-shifted exponentials, their sum and the quotients
/// take n_k + 3 more; o_ic = sum_j a_ij V_jc n_k, <dO_i, o_i> d_v and the sum over the n_q
/// queries n_q: at most
///   (2 (d + 2) sigma_i + 2 n_k + d_v + n_q + 6) 2^-53 sum_j a_ij G_ij,  G_ij = sum_c |dO_ic V_jc|.
inline double attention_loss(double sigma, double weighted_G, std::size_t nk, std::size_t d, std::size_t dv,
                             std::size_t nq) {
  return kSecondOrder * (2.0 * static_cast<double>(d + 2) * sigma + static_cast<double>(2 * nk + dv + nq + 6)) *
         0x1p-53 * weighted_G;
}

/// Step 11. The central difference (L(x + h) - L(x - h)) / 2h of a loss evaluated to within
/// `loss_error` (attention_loss() summed over the queries), against dL/dx: the truncation h^2/6
/// times the third derivative, the two evaluations' errors over 2h, x +- h rounded to double
/// (2^-53 (|x| + h), which moves L by |L'| times that, in each evaluation), and the rounding of
/// the difference itself.
inline double central_difference_of(double h, double third_derivative, double first_derivative, double x,
                                    double loss_error) {
  return kSecondOrder * (h * h / 6.0 * third_derivative +
                         (loss_error + 0x1p-53 * (std::fabs(x) + h) * first_derivative) / h +
                         0x1p-53 * first_derivative);
}

// ------------------------------------------------------------------------- extension step 12

/// Step 12: layer normalisation, xhat_t = (x_t - mu) r with r = 1 / sqrt(sigma^2 + eps),
/// y_t = gamma_t xhat_t. The condition of a row is kappa = max_t |x_t| r: an error e in the
/// mean (or in any x_t) moves xhat by e r, and a sum of d floats errs by up to a d u share
/// of max |x_t|. So a row with a large offset against its spread (x = 100 + noise) or a
/// near-constant one, where sigma^2 is at most eps and r is up to 1/sqrt(eps), about 316,
/// loses digits in any float implementation: the bounds below grow with kappa, and the tests
/// use such rows on purpose. X below is max_t |xhat_t| (at most sqrt(d - 1)). First order,
/// for one implementation, with the float inputs exact:
///   1. The mean: a d-term sum in any order and a division err by gamma_{d+1} max|x|;
///      Welford's running mean m_k = m_{k-1} + (x_k - m_{k-1}) / k by at most 5 u max|x| per
///      update (|x_k - m_{k-1}| <= 2 max|x|: the difference, the quotient and the sum), so
///      |m - mu| <= gamma_{5d} max|x| covers both (and double sums, which do better).
///   2. c_t = fl(x_t - m) = (x_t - mu) + e_t with |e_t| <= |m - mu| + u |x_t - mu|, so
///      |e_t r| <= e := gamma_{5d} kappa + u X.
///   3. The variance from the c_t (two passes): (1/d) sum c_t^2 r^2 = sigma^2 r^2 +
///      (1/d) sum (e_t r)(2 xhat_t + e_t r); with mean |xhat| <= 1 and sigma^2 r^2 <= 1 it
///      errs by 2 e + e^2, the sum and the division by gamma_{d+1}, the + eps by u. (The
///      first-order error of the mean cancels in sum (x_t - m)^2, so the two-pass variance
///      does better than this; Welford's M2 has a bound of the same form, Chan, Golub and
///      LeVeque 1983.) The square root halves the relative error of sigma^2 + eps and the
///      reciprocal adds two roundings: |fl(r) / r - 1| <= rho := e + gamma_{d+6}.
///   4. xhat_t = c_t r: |fl(xhat_t) - xhat_t| <= e + |xhat_t| (rho + u), at most
///      layer_norm_xhat() = e (1 + X) + X gamma_{d+7} for every t.
///   5. y_t = gamma_t xhat_t: one product more, in whatever order the three factors are
///      multiplied: |fl(y_t) - y_t| <= |gamma_t| (layer_norm_xhat() + 2 u |xhat_t|).
/// kSecondOrder covers the dropped terms while e stays below 10^-2 (the tests keep kappa
/// small enough for that). `kappa` and `xhat_max` are the row's, from the double oracle.
inline double layer_norm_xhat(std::size_t d, double kappa, double xhat_max) {
  const double e = gamma(5 * d) * kappa + u * xhat_max;
  return kSecondOrder * (e * (1.0 + xhat_max) + xhat_max * gamma(d + 7));
}

/// Step 12, the forward pass: the bound of element t (5. above) plus gradual underflow.
inline double layer_norm(double gain_t, double xhat_t, std::size_t d, double kappa, double xhat_max,
                         int implementations = 2) {
  return implementations * (kSecondOrder * std::fabs(gain_t) *
                                (layer_norm_xhat(d, kappa, xhat_max) + 2.0 * u * std::fabs(xhat_t)) +
                            underflow(4));
}

/// Step 12, the backward pass: dx_t = r (g_t - mean(g) - xhat_t h), g_t = gamma_t dy_t,
/// h = mean(g xhat); G = max_t |g_t|, so |mean(g)| <= G and |h| <= G mean|xhat| <= G, and
/// the bracket is at most G (2 + |xhat_t|). With delta = layer_norm_xhat() and e, rho as
/// above: mean(g) errs by gamma_{d+2} G (the product, the sum, the division); h by
/// G (delta + gamma_{d+3}) (every xhat_t off by delta, then the products and the sum);
/// xhat_t h by G (delta + |xhat_t| (delta + gamma_{d+4})); the two differences round the
/// bracket by gamma_2 G (2 + |xhat_t|); the factor r adds rho + u relatively. In all:
///   |fl(dx_t) - dx_t| <= r G ((1 + |xhat_t|) delta + (2 + |xhat_t|)(e + gamma_{2d+14}))
/// (gamma_{d+2} + gamma_{d+4} + gamma_2 + gamma_{d+6} + u <= gamma_{2d+14} covers every gamma
/// term, in any order of these operations). `r` is the row's.
inline double layer_norm_dx(double xhat_t, double r, double g_max, std::size_t d, double kappa, double xhat_max,
                            int implementations = 2) {
  const double e = gamma(5 * d) * kappa + u * xhat_max;
  const double delta = layer_norm_xhat(d, kappa, xhat_max);
  const double a = std::fabs(xhat_t);
  return implementations *
         (kSecondOrder * r * g_max * ((1.0 + a) * delta + (2.0 + a) * (e + gamma(2 * d + 14))) + underflow(d + 6));
}

/// Step 12, dgamma_t = sum_i dy_it xhat_it over n rows: each xhat off by its row's
/// layer_norm_xhat() delta_i, then a product and an n-term sum:
///   |fl(dgamma_t) - dgamma_t| <= sum_i |dy_it| delta_i + gamma_{n+1} sum_i |dy_it xhat_it|.
/// `sum_abs_dy_delta` is sum_i |dy_it| delta_i, `sum_abs_dy_xhat` is sum_i |dy_it xhat_it|.
inline double layer_norm_dgain(double sum_abs_dy_delta, double sum_abs_dy_xhat, std::size_t n,
                               int implementations = 2) {
  return implementations * (kSecondOrder * (sum_abs_dy_delta + gamma(n + 1) * sum_abs_dy_xhat) + underflow(n + 1));
}

/// Step 12, calculus rather than rounding: the central difference of f(x) = sum_t w_t gamma_t
/// xhat_t(x) along x_j, evaluated in double with step h. Truncation: h^2 / 6 times the third
/// derivative. xhat = sqrt(d) F(v / sqrt(d eps)) with v = x - mu (a linear map of x that moves
/// by at most h when x_j does) and F(w) = w (1 + |w|^2)^(-1/2). Along a unit direction,
/// F = w phi(|w|^2) with phi(t) = (1 + t)^(-1/2) has third derivative 3 e (phi o t)'' +
/// w (phi o t)''', and with t' = 2 <w, e>, t'' = 2: |(phi o t)''| <= 4 (1 + t)^(-3/2) and
/// |w| |(phi o t)'''| <= 24 (1 + t)^(-3/2), so every component of F''' is at most
/// 36 (1 + |w|^2)^(-3/2). Scaled back (w moves by |P e_j| / sqrt(d eps) per unit of x_j, P the
/// centring, |P e_j| = sqrt(1 - 1/d)): |d^3 xhat_t / dx_j^3| <= 36 (1 - 1/d)^(3/2) r^3 / d, with
/// r taken where the variance is least on the segment [x - h e_j, x + h e_j] (`r_segment`: sigma
/// at least sigma - h). So the truncation is at most 6 h^2 (1 - 1/d)^(3/2) r_segment^3
/// sum_t |w_t gamma_t| / d (0 for d = 1, where xhat is 0 whatever x).
/// Rounding: f is evaluated to about (4 d + 20) 2^-53 S with S = sum_t |w_t gamma_t| (1 +
/// |xhat_t|), and x_j +- h is rounded by 2^-53 |x_j|, which moves f by at most 2 r S times
/// that; over 2h: (4 d + 20 + 2 r |x_j|) 2^-53 S / h.
inline double layer_norm_central_difference(double h, double r_segment, double sum_abs_wg, double s,
                                            std::size_t d, double r, double x_j) {
  const double centring = std::pow(1.0 - 1.0 / static_cast<double>(d), 1.5);
  return kSecondOrder *
         (6.0 * h * h * centring * r_segment * r_segment * r_segment * sum_abs_wg / static_cast<double>(d) +
          (4.0 * static_cast<double>(d) + 20.0 + 2.0 * r * std::fabs(x_j)) * 0x1p-53 * s / h);
}

/// The training lab (tools/lab/), calculus rather than rounding: a directional derivative of the
/// whole model's loss, in double, against the central differences D(h) and D(h/2). Truncation:
/// D(h) = L' + c h^2 + O(h^4), so D(h/2) errs by about c h^2 / 4 = (D(h) - D(h/2)) / 3; we allow
/// |D(h) - D(h/2)| (three times that, for the O(h^4) terms). Rounding: the loss is a sum over
/// about `ops` roundings of terms of size at most `loss_abs`, so each evaluation errs by at most
/// ops 2^-53 loss_abs, and D(h/2) by twice that over h (two evaluations, divided by 2 (h/2)).
inline double lab_central_difference(double d_h, double d_half, double h, double ops, double loss_abs) {
  return kSecondOrder * (std::fabs(d_h - d_half) + 2.0 * ops * 0x1p-53 * loss_abs / h);
}

}  // namespace attn::test::tol
