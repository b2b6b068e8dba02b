// Numerical edge cases of the reference, against the double oracle within the bounds of
// tolerances.hpp, on every instruction set:
//   - scores near float32 exp's overflow threshold (ln FLT_MAX = 88.7228, and 88.376 where
//     xsimd 8.1's exp already returns +inf) and far beyond it;
//   - rows of length 1, and n or d of 1;
//   - very long rows (10^6 elements);
//   - values whose products, scores or weights underflow to denormals.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

#include "reference/helpers.hpp"

namespace {

namespace ref = attn::ref;
namespace oracle = attn::test::oracle;
namespace tol = attn::test::tol;
using namespace attn::test::reference;

constexpr std::size_t kMillion = 1000000;

using tol::sum_abs_products;

std::vector<float> to_float(const std::vector<double>& x) { return {x.begin(), x.end()}; }

/// Every softmax of the reference and log_sum_exp on `x`, against the oracle.
void check_softmax_row(comparison& cmp, std::span<const float> x) {
  const std::vector<double> expected = oracle::softmax(x);
  const std::vector<float> weights = to_float(expected);
  const std::vector<double> bound = tol::softmax_row(x, weights, 1);
  std::vector<float> a(x.begin(), x.end()), b(x.begin(), x.end());
  ref::stable_softmax(a);
  ref::softmax_rows({b.data(), 1, b.size()});
  for (std::size_t j = 0; j < x.size(); ++j) {
    const double e = x[j] == -kInf ? 0.0 : expected[j];
    cmp.element(j, a[j], e, x[j] == -kInf ? 0.0 : bound[j]);
    cmp.element(j, b[j], e, x[j] == -kInf ? 0.0 : bound[j]);
  }
  const double L = oracle::log_sum_exp(x);
  cmp.element(x.size(), ref::log_sum_exp(x), L, tol::log_sum_exp(x, weights, L, 1));
}

/// attention_weights against the oracle, with tol::attention_row per row (as in
/// tests/reference/test_reference_pipeline.cpp).
void check_attention(comparison& cmp, const std::vector<float>& Q, const std::vector<float>& K, std::size_t n_q,
                     std::size_t n_k, std::size_t d, bool causal) {
  const std::vector<double> expected = oracle::attention_weights(Q, K, n_q, n_k, d, causal);
  const std::vector<double> S = oracle::scores(Q, K, n_q, n_k, d);
  std::vector<float> A(n_q * n_k);
  ref::attention_weights({Q.data(), n_q, d}, {K.data(), n_k, d}, {A.data(), n_q, n_k}, causal);
  for (std::size_t i = 0; i < n_q; ++i) {
    std::vector<float> beta(n_k), a(n_k);
    for (std::size_t j = 0; j < n_k; ++j) {
      beta[j] = causal && j > i ? -kInf : static_cast<float>(S[i * n_k + j]);
      a[j] = static_cast<float>(expected[i * n_k + j]);
    }
    const double score_error =
        tol::visible_score_error({Q.data() + i * d, d}, {K.data(), n_k, d}, tol::visible_keys(i, n_k, causal), 1);
    const std::vector<double> bound = tol::attention_row(beta, a, score_error, 1);
    for (std::size_t j = 0; j < n_k; ++j) {
      cmp.element(i * n_k + j, A[i * n_k + j], expected[i * n_k + j], beta[j] == -kInf ? 0.0 : bound[j]);
      if (!std::isfinite(A[i * n_k + j])) cmp.fail("weight (" + std::to_string(i) + ", " + std::to_string(j) + ") is not finite");
    }
  }
}

}  // namespace

TEST_CASE("scores at and beyond float exp's overflow threshold give finite weights that match the oracle",
          "[reliability]") {
  // ln(FLT_MAX) = 88.7228: exp overflows just above it. xsimd 8.1's exp already gives +inf
  // from 88.376. The stable softmax only ever takes exp of x - max <= 0.
  const std::vector<std::vector<float>> rows{
      {88.376f, 0.0f},           {88.7228f, 88.7228f, 88.7228f}, {88.72284f, 88.376f, -88.376f},
      {89.0f, 88.0f, 87.0f},     {1e4f, 1e4f - 1.0f, 0.0f},     {88.376f},
      {-88.376f, -88.7228f},     {FLT_MAX, FLT_MAX, 0.0f},      {-FLT_MAX, -FLT_MAX}};
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    for (const auto& x : rows) {
      comparison cmp("isa " + isa + ", a row of " + std::to_string(x.size()) + " starting " + std::to_string(x[0]));
      check_softmax_row(cmp, x);
      ATTN_CHECK_AGREES(cmp);
    }
    // The same scores out of the whole pipeline: q . k / sqrt(d) of 88.376, 88.7228 and 1e4.
    const std::vector<float> Q{88.376f, 88.7228f, 1e4f, -1e4f};  // n_q = 4, d = 1
    const std::vector<float> K{1.0f, 0.999f, -1.0f};           // n_k = 3
    for (const bool causal : {false, true}) {
      comparison cmp("isa " + isa + ", attention at exp's threshold" + (causal ? ", causal" : ""));
      check_attention(cmp, Q, K, 4, 3, 1, causal);
      ATTN_CHECK_AGREES(cmp);
    }
  }
}

TEST_CASE("rows of one element, and n or d of 1, give exact answers", "[reliability]") {
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    INFO("isa " << isa);
    for (const float x : {0.0f, -1e30f, 1e30f, 88.7228f, -103.0f, std::numeric_limits<float>::denorm_min()}) {
      // One key: it takes all the weight, causal or not, whatever the score.
      const std::vector<float> q{x}, k{1.5f};
      float a = 0.0f;
      ref::attention_weights({q.data(), 1, 1}, {k.data(), 1, 1}, {&a, 1, 1}, true);
      CHECK(a == 1.0f);
      std::vector<float> row{x};
      ref::stable_softmax(row);
      CHECK(row[0] == 1.0f);
      CHECK(ref::log_sum_exp(std::vector<float>{x}) == x);
      CHECK(ref::entropy(std::vector<float>{1.0f}) == 0.0f);
    }
    // d = 1: every score is the single product q_i k_j (exact: one rounding, sqrt(1) = 1).
    const std::vector<float> Q{0.1f, -3.0f, 1e20f}, K{0.3f, 7.0f, -1e20f, 1e-30f};
    std::vector<float> S(12);
    ref::scores({Q.data(), 3, 1}, {K.data(), 4, 1}, {S.data(), 3, 4});
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t j = 0; j < 4; ++j) CHECK(S[i * 4 + j] == Q[i] * K[j]);  // 1e20 * -1e20 = -inf, like float
    }
    // n = 1 with d large: one query, one key, one score, 4096 / sqrt(4096) = 64 (every
    // partial sum is an exact integer, and 1/sqrt(d) = 2^-6 is exact for d = 4^6).
    const std::vector<float> ones(4096, 1.0f);
    float s = 0.0f;
    ref::scores({ones.data(), 1, 4096}, {ones.data(), 1, 4096}, {&s, 1, 1});
    CHECK(s == 64.0f);
    // The Jacobian of one weight: J = a (1 - a).
    float J = 0.0f;
    ref::softmax_jacobian(std::vector<float>{0.25f}, {&J, 1, 1});
    CHECK(J == 0.1875f);
  }
}

TEST_CASE("rows of a million elements agree with the oracle on every instruction set", "[reliability]") {
  auto rng = attn::test::rng(901);
  const std::vector<float> q = normal_row(rng, kMillion), k = normal_row(rng, kMillion);
  std::vector<float> x = normal_row(rng, kMillion, 20.0f);
  x[kMillion - 1] = 150.0f;  // the max at the very end: the last tail must be read
  std::vector<float> a = x;
  ref::stable_softmax(a);  // weights for entropy: checked against the oracle below
  const double dot = oracle::dot(q, k), dot_bound = tol::dot(kMillion, sum_abs_products(q, k), 1);
  const std::vector<float> ones(kMillion, 1.0f);
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    comparison cmp("isa " + isa + ", 10^6 elements");
    cmp.element(0, ref::dot(q, k), dot, dot_bound);
    cmp.element(1, ref::scaled_score(q, k), dot / 1000.0, tol::scaled_score(kMillion, sum_abs_products(q, k), 1));
    // Integer partial sums below 2^24 are exact in any order: 10^6 exactly.
    cmp.element(2, ref::dot(ones, ones), 1e6, 0.0);
    ATTN_CHECK_AGREES(cmp);
    comparison row("isa " + isa + ", softmax of 10^6 scores");
    check_softmax_row(row, x);
    ATTN_CHECK_AGREES(row);
    comparison h("isa " + isa + ", entropy of 10^6 weights");
    h.element(0, ref::entropy(a), oracle::entropy(a), tol::entropy(a, 1));
    ATTN_CHECK_AGREES(h);
  }
}

TEST_CASE("products, scores and weights that underflow to denormals stay within the underflow bounds",
          "[reliability]") {
  // 1e-22 * 1e-22 = 1e-44: a denormal product (FLT_MIN is 1.2e-38, the smallest denormal
  // 1.4e-45). tol::dot and tol::scaled_score allow eta per underflowing operation.
  auto rng = attn::test::rng(902);
  for (const std::size_t n : {1u, 3u, 8u, 17u, 64u, 301u}) {
    std::vector<float> q = normal_row(rng, n), k = normal_row(rng, n);
    for (float& v : q) v *= 1e-22f;
    for (float& v : k) v *= 1e-22f;
    const double scale = sum_abs_products(q, k);
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      comparison cmp("isa " + isa + ", denormal products, n = " + std::to_string(n));
      cmp.element(0, ref::dot(q, k), oracle::dot(q, k), tol::dot(n, scale, 1));
      cmp.element(1, ref::scaled_score(q, k), oracle::scaled_score(q, k), tol::scaled_score(n, scale, 1));
      std::vector<float> S(1);
      ref::scores({q.data(), 1, n}, {k.data(), 1, n}, {S.data(), 1, 1});
      cmp.element(2, S[0], oracle::scaled_score(q, k), tol::scaled_score(n, scale, 1));
      ATTN_CHECK_AGREES(cmp);
    }
  }
  // Denormal scores all look alike to the softmax (uniform weights), and weights exp(x - m)
  // below FLT_MIN are denormal (or flushed to 0 by xsimd: 2 FLT_MIN in tol::softmax_row).
  const float tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<std::vector<float>> rows{{tiny, -tiny, 0.0f, FLT_MIN / 4}, {0.0f, -87.5f, -95.0f, -103.5f, -110.0f}};
  // Weights, Jacobian products and entropy terms below FLT_MIN.
  const std::vector<float> small{1.0f - 3e-38f, 1e-38f, 2e-38f, tiny};
  const std::vector<double> J_expected = oracle::softmax_jacobian(small);
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    for (const auto& x : rows) {
      comparison cmp("isa " + isa + ", denormal scores or weights, row starting " + std::to_string(x[1]));
      check_softmax_row(cmp, x);
      ATTN_CHECK_AGREES(cmp);
    }
    comparison cmp("isa " + isa + ", entropy and Jacobian of denormal weights");
    cmp.element(0, ref::entropy(small), oracle::entropy(small), tol::entropy(small, 1));
    attn::matrix J(4, 4);
    ref::softmax_jacobian(small, J);
    for (std::size_t e = 0; e < 16; ++e) {
      cmp.element(1 + e, J.elements()[e], J_expected[e], tol::jacobian(small[e / 4], small[e % 4], e / 4 == e % 4, 1));
    }
    ATTN_CHECK_AGREES(cmp);
  }
}
