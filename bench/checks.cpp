// The result checks of the benchmarks (see checks.hpp).
#include "checks.hpp"

#include <attn/attn.hpp>

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

/// "" when |got - expected| <= bound (NaN never is), else the sentence that says why not.
std::string compare(const std::string& where, double got, double expected, double bound, bool is_reference) {
  if (std::fabs(got - expected) <= bound) return "";
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

/// The largest score tolerance of row i (tol::attention_row takes one per row).
double row_score_error(const matrix_inputs& in, std::size_t i, int implementations) {
  double worst = 0.0;
  for (std::size_t j = 0; j < in.n; ++j) {
    worst = std::max(worst, tol::scaled_score(in.d, in.sum_abs[i * in.n + j], implementations));
  }
  return worst;
}

}  // namespace

std::vector<float> random_vector(std::size_t n, unsigned seed, float spread) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, spread);
  std::vector<float> v(n);
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
        tol::attention_row(beta, a, row_score_error(in, i, implementations), implementations);
    for (std::size_t j = 0; j < n; ++j) {
      const bool masked = causal && j > i;  // a masked key gets weight exactly 0
      std::string wrong = compare(element(i, j), got(i, j), expected[j], masked ? 0.0 : bound[j], is_reference);
      if (!wrong.empty()) return wrong;
    }
  }
  return "";
}

}  // namespace attn::bench
