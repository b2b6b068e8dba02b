// The result checks of the benchmarks (see checks.hpp).
#include "checks.hpp"

#include <attn/attn.hpp>

#include "support/close.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>

namespace attn::bench {
namespace {

namespace tol = attn::test::tol;
namespace oracle = attn::test::oracle;

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

/// "" when `got` is within `bound` of `expected` (support/close.hpp; the inputs here are finite,
/// so NaN or an infinity never is), else the sentence that says why not.
std::string compare(const std::string& where, double got, double expected, double bound, bool is_reference) {
  if (attn::test::close(expected, got, bound, attn::test::specials::rejected)) return "";
  std::ostringstream out;
  out.precision(9);
  out << where << " is " << got << " but the " << (is_reference ? "double-precision oracle" : "reference")
      << " gives " << expected << ": |difference| " << std::fabs(got - expected) << " > tolerance " << bound;
  return out.str();
}

std::string element(std::size_t i, std::size_t j) {
  return "element (" + std::to_string(i) + ", " + std::to_string(j) + ")";
}

/// Rows 0, n/8, 2n/8, ..., n - 1: where the oracle checks the reference's matrices.
std::vector<std::size_t> sample_rows(std::size_t n) {
  std::vector<std::size_t> rows;
  for (std::size_t s = 0; s <= 8 && n > 0; ++s) rows.push_back(std::min(n - 1, s * n / 8));
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return rows;
}

/// The reference's scores of the last inputs asked for.
const matrix& reference_scores(const matrix_inputs& in) {
  static std::size_t n = 0, d = 0;
  static matrix S;
  if (n != in.n || d != in.d || S.rows() != in.n) {
    S = matrix(in.n, in.n);
    ref::scores(in.Q(), in.K(), S);
    n = in.n;
    d = in.d;
  }
  return S;
}

/// The reference's attention weights of the last inputs and mask asked for.
const matrix& reference_weights(const matrix_inputs& in, bool causal) {
  static std::size_t n = 0, d = 0;
  static bool was_causal = false;
  static matrix A;
  if (n != in.n || d != in.d || was_causal != causal || A.rows() != in.n) {
    A = matrix(in.n, in.n);
    ref::attention_weights(in.Q(), in.K(), A, causal);
    n = in.n;
    d = in.d;
    was_causal = causal;
  }
  return A;
}

/// The score error of row i (tol::attention_row takes one per row), from the precomputed
/// sums: the keys the query sees count, masked ones do not (tol::visible_score_error).
double row_score_error(const matrix_inputs& in, std::size_t i, bool causal, int implementations) {
  return tol::visible_score_error(in.d, std::span<const double>(in.sum_abs).subspan(i * in.n, in.n),
                                  tol::visible_keys(i, in.n, causal), implementations);
}

/// The rows a check looks at: a sample for the oracle, all of them for the reference.
std::vector<std::size_t> checked_rows(std::size_t n, bool is_reference) {
  if (is_reference) return sample_rows(n);
  std::vector<std::size_t> rows(n);
  for (std::size_t i = 0; i < n; ++i) rows[i] = i;
  return rows;
}

/// sum_j A_ij V_jc in long double, for the oracle's weights `a` of one row.
double oracle_output(std::span<const double> a, const_matrix_view V, std::size_t c) {
  long double s = 0.0L;
  for (std::size_t j = 0; j < a.size(); ++j) s += static_cast<long double>(a[j]) * V(j, c);
  return static_cast<double>(s);
}

/// The reference's attention() output of the last inputs and mask asked for.
const matrix& reference_attention(const matrix_inputs& in, bool causal) {
  static std::size_t n = 0, d = 0;
  static bool was_causal = false;
  static matrix O;
  if (n != in.n || d != in.d || was_causal != causal || O.rows() != in.n) {
    O = matrix(in.n, in.d);
    ref::attention(in.Q(), in.K(), in.V(), O, causal);
    n = in.n;
    d = in.d;
    was_causal = causal;
  }
  return O;
}

}  // namespace

floats random_vector(std::size_t n, unsigned seed, float spread) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, spread);
  floats v(n);
  for (float& x : v) x = normal(gen);
  return v;
}

const matrix_inputs& inputs_for(std::size_t n, std::size_t d) {
  static matrix_inputs in;
  if (in.n == n && in.d == d && !in.q.empty()) return in;
  in.n = n;
  in.d = d;
  in.q = random_vector(n * d, 4);
  in.k = random_vector(n * d, 5);
  in.v = random_vector(n * d, 6);
  // sum_c |q_ic| |k_jc| for all pairs, looping over j innermost (over |K| transposed) so
  // the n x n x d products take a second, not ten; each product is exact in double.
  std::vector<double> k_abs_t(d * n);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t c = 0; c < d; ++c) k_abs_t[c * n + j] = std::fabs(in.k[j * d + c]);
  }
  in.sum_abs.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    double* row = in.sum_abs.data() + i * n;
    for (std::size_t c = 0; c < d; ++c) {
      const double a = std::fabs(in.q[i * d + c]);
      const double* k_c = k_abs_t.data() + c * n;
      for (std::size_t j = 0; j < n; ++j) row[j] += a * k_c[j];
    }
  }
  return in;
}

std::string check_dot(float got, std::span<const float> q, std::span<const float> k, bool is_reference) {
  double sum_abs = 0.0;
  for (std::size_t i = 0; i < q.size(); ++i) sum_abs += std::fabs(static_cast<double>(q[i]) * k[i]);
  const double expected = is_reference ? oracle::dot(q, k) : ref::dot(q, k);
  return compare("the dot product", got, expected, tol::dot(q.size(), sum_abs, is_reference ? 1 : 2), is_reference);
}

std::string check_softmax(std::span<const float> got, std::span<const float> x, bool is_reference) {
  std::vector<float> weights(x.begin(), x.end());  // the tolerances take float weights
  std::vector<double> expected;
  if (is_reference) {
    expected = oracle::softmax(x);
    std::copy(expected.begin(), expected.end(), weights.begin());
  } else {
    ref::stable_softmax(weights);
    expected.assign(weights.begin(), weights.end());
  }
  const std::vector<double> bound = tol::softmax_row(x, weights, is_reference ? 1 : 2);
  for (std::size_t j = 0; j < x.size(); ++j) {
    std::string wrong = compare("element " + std::to_string(j), got[j], expected[j], bound[j], is_reference);
    if (!wrong.empty()) return wrong;
  }
  return "";
}

std::string check_softmax_rows(const_matrix_view got, const_matrix_view X, bool is_reference) {
  for (std::size_t i : checked_rows(X.rows, is_reference)) {
    std::string wrong = check_softmax(got.row(i), X.row(i), is_reference);
    if (!wrong.empty()) return "row " + std::to_string(i) + ", " + wrong;
  }
  return "";
}

std::string check_scores(const_matrix_view got, const matrix_inputs& in, bool is_reference) {
  if (is_reference) {
    for (std::size_t i : sample_rows(in.n)) {
      for (std::size_t j = 0; j < in.n; ++j) {
        const double expected = oracle::scaled_score(in.Q().row(i), in.K().row(j));
        std::string wrong = compare(element(i, j), got(i, j), expected,
                                    tol::scaled_score(in.d, in.sum_abs[i * in.n + j], 1), true);
        if (!wrong.empty()) return wrong;
      }
    }
    return "";
  }
  const matrix& S = reference_scores(in);
  for (std::size_t i = 0; i < in.n; ++i) {
    for (std::size_t j = 0; j < in.n; ++j) {
      std::string wrong = compare(element(i, j), got(i, j), S(i, j), tol::scaled_score(in.d, in.sum_abs[i * in.n + j]), false);
      if (!wrong.empty()) return wrong;
    }
  }
  return "";
}

std::string check_attention_weights(const_matrix_view got, const matrix_inputs& in, bool causal, bool is_reference) {
  const std::size_t n = in.n;
  const int implementations = is_reference ? 1 : 2;
  std::vector<std::size_t> rows = sample_rows(n);
  if (!is_reference) {
    rows.resize(n);
    for (std::size_t i = 0; i < n; ++i) rows[i] = i;
  }
  std::vector<float> beta(n), a(n);  // the tolerances take float rows
  std::vector<double> expected(n);
  for (std::size_t i : rows) {
    // The expected (masked, scaled) scores and weights of row i.
    if (is_reference) {
      std::vector<double> s(n);
      for (std::size_t j = 0; j < n; ++j) {
        s[j] = causal && j > i ? -oracle::inf : oracle::scaled_score(in.Q().row(i), in.K().row(j));
      }
      expected = oracle::softmax(std::span<const double>(s));
      std::copy(s.begin(), s.end(), beta.begin());
      std::copy(expected.begin(), expected.end(), a.begin());
    } else {
      const matrix& S = reference_scores(in);
      const matrix& A = reference_weights(in, causal);
      for (std::size_t j = 0; j < n; ++j) beta[j] = causal && j > i ? kMinusInf : S(i, j);
      std::copy(A.row(i).begin(), A.row(i).end(), a.begin());
      std::copy(a.begin(), a.end(), expected.begin());
    }
    const std::vector<double> bound =
        tol::attention_row(beta, a, row_score_error(in, i, causal, implementations), implementations);
    for (std::size_t j = 0; j < n; ++j) {
      const bool masked = causal && j > i;  // a masked key gets weight exactly 0
      std::string wrong = compare(element(i, j), got(i, j), expected[j], masked ? 0.0 : bound[j], is_reference);
      if (!wrong.empty()) return wrong;
    }
  }
  return "";
}

// ------------------------------------------------------------------- extension steps 7-10

const matrix& reference_weights_of(const matrix_inputs& in) { return reference_weights(in, false); }

std::string check_attention_output(const_matrix_view got, const matrix_inputs& in, bool is_reference) {
  const std::size_t n = in.n, dv = in.d;
  const matrix& A = reference_weights(in, false);
  const_matrix_view V = in.V();
  static std::size_t on = 0, od = 0;  // the reference's output of the last inputs
  static matrix O;
  if (!is_reference && (on != n || od != dv || O.rows() != n)) {
    O = matrix(n, dv);
    ref::attention_output(A, V, O);
    on = n;
    od = dv;
  }
  std::vector<double> a(n);
  for (std::size_t i : checked_rows(n, is_reference)) {
    std::copy(A.row(i).begin(), A.row(i).end(), a.begin());
    for (std::size_t c = 0; c < dv; ++c) {
      double sum_abs = 0.0;
      for (std::size_t j = 0; j < n; ++j) sum_abs += std::fabs(a[j] * V(j, c));
      const double expected = is_reference ? oracle_output(a, V, c) : O(i, c);
      std::string wrong = compare(element(i, c), got(i, c), expected, tol::dot(n, sum_abs, is_reference ? 1 : 2),
                                  is_reference);
      if (!wrong.empty()) return wrong;
    }
  }
  return "";
}

namespace {

/// The bound of output element (i, c) of attention() or streaming_attention() for row i:
/// the weights' bound (attention_row or streaming_attention_row, exact where masked), then
/// attention_output for each column. `beta`, `a` are the row's expected scores and weights.
void output_bounds(const matrix_inputs& in, std::size_t i, std::span<const float> beta, std::span<const float> a,
                   bool causal, bool streaming, int implementations, std::span<double> out) {
  const std::size_t n = in.n, dv = in.d;
  const double score_error = row_score_error(in, i, causal, implementations);
  std::vector<double> b = streaming ? tol::streaming_attention_row(beta, a, score_error, implementations)
                                    : tol::attention_row(beta, a, score_error, implementations);
  for (std::size_t j = 0; j < n; ++j) {
    if (beta[j] == kMinusInf) b[j] = 0.0;
  }
  std::vector<float> column(n);
  for (std::size_t c = 0; c < dv; ++c) {
    for (std::size_t j = 0; j < n; ++j) column[j] = in.V()(j, c);
    out[c] = tol::attention_output(b, a, column, implementations);
  }
}

/// The reference's attention output and the bound of every element against it (two
/// implementations), for the last inputs, mask and kind asked for: every variant and block
/// size of one size is checked against the same.
struct expected_output {
  std::size_t n = 0, d = 0;
  bool causal = false, streaming = false;
  std::vector<double> bounds;  ///< n x d_v, row-major
};
const expected_output& reference_output(const matrix_inputs& in, bool causal, bool streaming) {
  static expected_output e;
  if (e.n == in.n && e.d == in.d && e.causal == causal && e.streaming == streaming && !e.bounds.empty()) return e;
  const std::size_t n = in.n, dv = in.d;
  const matrix& S = reference_scores(in);
  const matrix& A = reference_weights(in, causal);
  e.bounds.assign(n * dv, 0.0);
  std::vector<float> beta(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) beta[j] = causal && j > i ? kMinusInf : S(i, j);
    output_bounds(in, i, beta, A.row(i), causal, streaming, 2, std::span<double>(e.bounds).subspan(i * dv, dv));
  }
  e.n = n;
  e.d = dv;
  e.causal = causal;
  e.streaming = streaming;
  return e;
}

}  // namespace

std::string check_attention(const_matrix_view got, const matrix_inputs& in, bool causal, bool streaming,
                            bool is_reference) {
  const std::size_t n = in.n, dv = in.d;
  if (!is_reference) {
    const matrix& O = reference_attention(in, causal);
    const expected_output& e = reference_output(in, causal, streaming);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t c = 0; c < dv; ++c) {
        std::string wrong = compare(element(i, c), got(i, c), O(i, c), e.bounds[i * dv + c], false);
        if (!wrong.empty()) return wrong;
      }
    }
    return "";
  }
  // The reference against the oracle, on a sample of rows (as check_attention_weights()).
  std::vector<float> beta(n), a(n);  // the tolerances take float rows
  std::vector<double> bounds(dv);
  for (std::size_t i : sample_rows(n)) {
    std::vector<double> s(n);
    for (std::size_t j = 0; j < n; ++j) {
      s[j] = causal && j > i ? -oracle::inf : oracle::scaled_score(in.Q().row(i), in.K().row(j));
    }
    const std::vector<double> weights = oracle::softmax(std::span<const double>(s));
    std::copy(s.begin(), s.end(), beta.begin());
    std::copy(weights.begin(), weights.end(), a.begin());
    output_bounds(in, i, beta, a, causal, streaming, 1, bounds);
    for (std::size_t c = 0; c < dv; ++c) {
      std::string wrong = compare(element(i, c), got(i, c), oracle_output(weights, in.V(), c), bounds[c], true);
      if (!wrong.empty()) return wrong;
    }
  }
  return "";
}

std::string check_softmax_backward(std::span<const float> got, std::span<const float> a, std::span<const float> g,
                                   bool is_reference) {
  const std::size_t n = a.size();
  long double c = 0.0L;
  double sum_abs = 0.0;
  for (std::size_t l = 0; l < n; ++l) {
    c += static_cast<long double>(a[l]) * g[l];
    sum_abs += std::fabs(static_cast<double>(a[l]) * g[l]);
  }
  std::vector<float> theirs(n);
  if (!is_reference) ref::softmax_backward(a, g, theirs);
  for (std::size_t j = 0; j < n; ++j) {
    // The exact a_j (g_j - <g, a>) of the float inputs (in long double), or the reference's.
    const double expected = is_reference ? static_cast<double>(static_cast<long double>(a[j]) * (g[j] - c)) : theirs[j];
    std::string wrong = compare("element " + std::to_string(j), got[j], expected,
                                tol::softmax_backward(a[j], g[j], sum_abs, n, is_reference ? 1 : 2), is_reference);
    if (!wrong.empty()) return wrong;
  }
  return "";
}

std::string check_attention_backward(const_matrix_view dQ, const_matrix_view dK, const_matrix_view dV,
                                     const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                                     const_matrix_view dO, bool causal, bool is_reference) {
  std::vector<double> expected[3];
  matrix A(Q.rows, K.rows);
  if (is_reference) {
    // The exact gradients (long double sums over the oracle's weights), every element.
    oracle::gradients e = oracle::attention_backward(Q, K, V, dO, causal);
    for (std::size_t k = 0; k < e.A.size(); ++k) A.view().data[k] = static_cast<float>(e.A[k]);
    expected[0] = std::move(e.dQ);
    expected[1] = std::move(e.dK);
    expected[2] = std::move(e.dV);
  } else {
    matrix rQ(Q.rows, Q.cols), rK(K.rows, K.cols), rV(V.rows, V.cols);
    ref::attention_backward(Q, K, V, dO, causal, rQ, rK, rV);
    ref::attention_weights(Q, K, A, causal);
    expected[0].assign(rQ.view().data, rQ.view().data + rQ.view().size());
    expected[1].assign(rK.view().data, rK.view().data + rK.view().size());
    expected[2].assign(rV.view().data, rV.view().data + rV.view().size());
  }
  const tol::attention_gradients b = tol::attention_backward(Q, K, V, dO, A, causal, is_reference ? 1 : 2);
  const const_matrix_view got[3] = {dQ, dK, dV};
  const std::vector<double>* bounds[3] = {&b.dQ, &b.dK, &b.dV};
  const char* names[3] = {"dQ ", "dK ", "dV "};
  for (int m = 0; m < 3; ++m) {
    for (std::size_t x = 0; x < expected[m].size(); ++x) {
      const std::size_t cols = got[m].cols;
      std::string wrong = compare(names[m] + element(x / cols, x % cols), got[m].data[x], expected[m][x],
                                  (*bounds[m])[x], is_reference);
      if (!wrong.empty()) return wrong;
    }
  }
  return "";
}

std::string check_layer_norm(const_matrix_view Y, const_matrix_view dX, std::span<const float> dgain,
                             const_matrix_view X, std::span<const float> gain, const_matrix_view dY,
                             bool is_reference) {
  // Every row (O(n d), as cheap as the kernel): the oracle in long double gives xhat, r and
  // the row's condition kappa that the bounds need; the expected values are the oracle's
  // (the reference) or the reference's (any other variant).
  const std::size_t n = X.rows, d = X.cols;
  const int implementations = is_reference ? 1 : 2;
  matrix ref_Y(n, d), ref_dX(n, d);
  std::vector<float> ref_dgain(d);
  if (!is_reference) {
    ref::layer_norm(X, gain, ref_Y);
    ref::layer_norm_backward(X, gain, dY, ref_dX, ref_dgain);
  }
  std::vector<long double> exact_dgain(d, 0.0L);
  std::vector<double> dy_delta(d, 0.0), dy_xhat(d, 0.0);
  std::vector<long double> xhat(d);
  for (std::size_t i = 0; i < n; ++i) {
    long double mu = 0.0L, var = 0.0L;
    double x_max = 0.0, xhat_max = 0.0;
    for (std::size_t t = 0; t < d; ++t) {
      mu += X(i, t);
      x_max = std::max(x_max, std::fabs(static_cast<double>(X(i, t))));
    }
    mu /= static_cast<long double>(d);
    for (std::size_t t = 0; t < d; ++t) var += (X(i, t) - mu) * (X(i, t) - mu);
    var /= static_cast<long double>(d);
    const long double r = 1.0L / std::sqrt(var + static_cast<long double>(attn::layer_norm_epsilon));
    long double g_mean = 0.0L, gx_mean = 0.0L;
    double g_max = 0.0;
    for (std::size_t t = 0; t < d; ++t) {
      xhat[t] = (X(i, t) - mu) * r;
      xhat_max = std::max(xhat_max, static_cast<double>(std::fabs(xhat[t])));
      const long double g = static_cast<long double>(gain[t]) * dY(i, t);
      g_mean += g;
      gx_mean += g * xhat[t];
      g_max = std::max(g_max, static_cast<double>(std::fabs(g)));
    }
    g_mean /= static_cast<long double>(d);
    gx_mean /= static_cast<long double>(d);
    const double kappa = x_max * static_cast<double>(r), delta = tol::layer_norm_xhat(d, kappa, xhat_max);
    for (std::size_t t = 0; t < d; ++t) {
      const double xt = static_cast<double>(xhat[t]);
      const double y = is_reference ? static_cast<double>(gain[t] * xhat[t]) : ref_Y(i, t);
      std::string wrong = compare("Y " + element(i, t), Y(i, t), y,
                                  tol::layer_norm(gain[t], xt, d, kappa, xhat_max, implementations), is_reference);
      if (!wrong.empty()) return wrong;
      const long double g = static_cast<long double>(gain[t]) * dY(i, t);
      const double dx = is_reference ? static_cast<double>(r * (g - g_mean - xhat[t] * gx_mean)) : ref_dX(i, t);
      wrong = compare("dX " + element(i, t), dX(i, t), dx,
                      tol::layer_norm_dx(xt, static_cast<double>(r), g_max, d, kappa, xhat_max, implementations),
                      is_reference);
      if (!wrong.empty()) return wrong;
      exact_dgain[t] += dY(i, t) * xhat[t];
      dy_delta[t] += std::fabs(dY(i, t)) * delta;
      dy_xhat[t] += std::fabs(dY(i, t) * xt);
    }
  }
  for (std::size_t t = 0; t < d; ++t) {
    const double expected = is_reference ? static_cast<double>(exact_dgain[t]) : ref_dgain[t];
    std::string wrong = compare("dgain element " + std::to_string(t), dgain[t], expected,
                                tol::layer_norm_dgain(dy_delta[t], dy_xhat[t], n, implementations), is_reference);
    if (!wrong.empty()) return wrong;
  }
  return "";
}

std::string check_alibi_bias(const_matrix_view got, const_matrix_view S0, float slope, bool is_reference) {
  matrix theirs;
  if (!is_reference) {
    theirs = matrix(S0.rows, S0.cols);
    std::copy(S0.data, S0.data + S0.rows * S0.cols, theirs.view().data);
    ref::add_alibi_bias(theirs, slope);
  }
  for (std::size_t i = 0; i < S0.rows; ++i) {
    for (std::size_t j = 0; j < S0.cols; ++j) {
      const double s = S0(i, j);
      // The exact s + m (j - i) of the float inputs (double holds it exactly), or the reference's.
      const double expected =
          is_reference ? s + static_cast<double>(slope) * (static_cast<double>(j) - static_cast<double>(i)) : theirs(i, j);
      std::string wrong = compare(element(i, j), got(i, j), expected,
                                  tol::alibi_bias(s, slope, i, j, is_reference ? 1 : 2), is_reference);
      if (!wrong.empty()) return wrong;
    }
  }
  return "";
}

}  // namespace attn::bench
