// Step 5: shift invariance, softmax(x + c) = softmax(x), and what it buys: the stable
// softmax (subtract the row max, so exp never overflows), log-sum-exp, and the whole
// pipeline A = softmax_rows(Q K^T / sqrt(d) + Mask). Scores here go far beyond float exp's
// overflow threshold. Expected values come from the cards, the exact formula in double,
// or attn::ref; tolerances from tests/support/tolerances.hpp.
#include <attn/attn.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

namespace {

namespace tol = attn::test::tol;
namespace oracle = attn::test::oracle;
using attn::test::inputs;
using attn::test::shape;
using attn::test::to_floats;
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

/// Elementwise sum of two bound vectors.
std::vector<double> plus(std::vector<double> a, const std::vector<double>& b) {
  for (std::size_t j = 0; j < a.size(); ++j) a[j] += b[j];
  return a;
}

/// attn::stable_softmax(x) against the reference's weights for x.
void check_stable_softmax(const std::vector<float>& x, const std::string& what) {
  std::vector<float> expected = x;
  attn::ref::stable_softmax(expected);
  std::vector<float> a = x;
  attn::stable_softmax(a);
  ATTN_CHECK_ALL_CLOSE(what, expected, a, attn::test::exact_where_masked(tol::softmax_row(x, expected), x),
                       inputs().add("scores", x));
}

/// attn::log_sum_exp(x) against the reference.
void check_log_sum_exp(const std::vector<float>& x, const std::string& what) {
  std::vector<float> weights = x;
  attn::ref::stable_softmax(weights);
  const float L = attn::ref::log_sum_exp(x);
  ATTN_CHECK_CLOSE(what, L, attn::log_sum_exp(x), tol::log_sum_exp(x, weights, L), inputs().add("row", x));
}

/// attn::attention_weights(Q, K, A, causal) on a guarded A against the reference: per row,
/// the softmax rounding plus the effect of both implementations' score errors; masked
/// weights exactly 0.
void check_attention(const attn::matrix& Q, const attn::matrix& K, bool causal) {
  const std::size_t nq = Q.rows(), nk = K.rows(), d = Q.cols();
  attn::matrix expected(nq, nk), beta(nq, nk);
  attn::ref::attention_weights(Q, K, expected, causal);
  attn::ref::scores(Q, K, beta);
  if (causal) attn::ref::apply_causal_mask(beta);
  std::vector<double> bounds;
  for (std::size_t i = 0; i < nq; ++i) {
    const double score_error = tol::visible_score_error(Q.row(i), K, tol::visible_keys(i, nk, causal));
    const auto b = attn::test::exact_where_masked(tol::attention_row(beta.row(i), expected.row(i), score_error),
                                                  beta.row(i));
    bounds.insert(bounds.end(), b.begin(), b.end());
  }
  attn::test::guarded_matrix A(nq, nk, qnan);
  attn::attention_weights(Q, K, A.view(), causal);
  const std::string what = std::string(causal ? "causal " : "") + "attention_weights for Q " + shape(nq, d) +
                           ", K " + shape(nk, d);
  ATTN_CHECK_ALL_CLOSE(what, expected, A.view(), bounds, inputs().add("Q", Q).add("K", K));
  INFO(what << ": nothing outside A may be written");
  CHECK(A.intact());
}

}  // namespace

TEST_CASE("adding a constant to one query's scores leaves its weights unchanged (the card)", "[step5][card]") {
  // True or false: adding the same constant to all of a query's scores changes its weights?
  // False: exp(s_j + c) / sum_l exp(s_l + c) = exp(s_j) / sum_l exp(s_l).
  const std::vector<float> scores{1.0f, 2.0f, 3.0f};
  const auto exact = oracle::softmax(scores);
  for (const float c : {0.0f, 10.0f, -10.0f, 100.0f, -100.0f, 1000.0f, -1000.0f}) {
    std::vector<float> shifted{1.0f + c, 2.0f + c, 3.0f + c};  // exact in float
    const std::vector<float> x = shifted;
    attn::stable_softmax(shifted);
    ATTN_CHECK_ALL_CLOSE("stable_softmax([1, 2, 3] + " + attn::test::fmt(c) + ")", exact, shifted,
                         tol::softmax_row(x, to_floats(exact), 1), inputs().add("scores", x));
  }
}

TEST_CASE("the naive softmax of [1000, 1001, 1002] overflows, the stable one gives softmax([0, 1, 2])", "[step5][card]") {
  // exp(1000) is far beyond FLT_MAX: the naive formula computes inf / inf = NaN. That is a
  // fact of float arithmetic, not of the student's code, so only the stable softmax is checked.
  const std::vector<float> scores{1000.0f, 1001.0f, 1002.0f};
  const std::vector<float> small{0.0f, 1.0f, 2.0f};
  const auto exact = oracle::softmax(small);
  std::vector<float> a = scores;
  attn::stable_softmax(a);
  ATTN_CHECK_ALL_CLOSE("stable_softmax([1000, 1001, 1002])", exact, a, tol::softmax_row(scores, to_floats(exact), 1),
                       inputs().add("scores", scores));
  const double L = 1002.0 + std::log(std::exp(-2.0) + std::exp(-1.0) + 1.0);
  ATTN_CHECK_CLOSE("log_sum_exp([1000, 1001, 1002])", L, attn::log_sum_exp(scores),
                   tol::log_sum_exp(scores, to_floats(exact), L, 1), inputs().add("row", scores));
}

TEST_CASE("float exp overflows just above ln(FLT_MAX) = 88.7228; the stable softmax never does", "[step5][special]") {
  // ln(FLT_MAX) = 88.7228: float exp(88.72) is finite and exp(88.73) is inf. The rows
  // straddle that edge; only the student's functions are checked, not the library's exp.
  const std::vector<std::vector<float>> rows{
      {88.72f, 88.73f},
      {89.0f, 88.0f, 90.0f},
      {100.0f, 95.0f, 99.5f, 100.0f},
      {1000.0f, 999.0f, -1000.0f, 998.5f, 1000.0f},
      {1e4f, 1e4f - 1.0f, 1e4f - 2.0f, 1e4f - 3.0f, 1e4f - 4.0f, 1e4f - 5.0f, 1e4f - 6.0f, 1e4f - 7.0f, 1e4f - 8.0f},
      {-1e4f, -1e4f + 0.5f, -1e4f + 1.0f},  // underflow, the mirror image
  };
  for (const auto& x : rows) {
    const auto exact = oracle::softmax(x);
    std::vector<float> a = x;
    attn::stable_softmax(a);
    ATTN_CHECK_ALL_CLOSE("stable_softmax of large scores", exact, a, tol::softmax_row(x, to_floats(exact), 1),
                         inputs().add("scores", x));
    const double L = oracle::log_sum_exp(x);
    ATTN_CHECK_CLOSE("log_sum_exp of large scores", L, attn::log_sum_exp(x),
                     tol::log_sum_exp(x, to_floats(exact), L, 1), inputs().add("row", x));
  }
}

TEST_CASE("softmax(x + c) = softmax(x) for shifts c up to +-1000 (exact shifts)", "[step5][property]") {
  // x on a 1/16 grid and c an integer: x + c is exact in float, so only the softmax rounds.
  auto gen = attn::test::rng(501);
  std::uniform_int_distribution<int> shift(-1000, 1000);
  for (const std::size_t n : attn::test::tail_sizes()) {
    if (n == 0 || n > 4099) continue;
    const auto x = attn::test::grid_row(gen, n, -8, 8);
    std::vector<float> expected = x;
    attn::ref::stable_softmax(expected);
    for (int rep = 0; rep < 3; ++rep) {
      const float c = static_cast<float>(rep == 0 ? 1000 : rep == 1 ? -1000 : shift(gen));
      std::vector<float> y = x;
      for (float& v : y) v += c;
      std::vector<float> a = y;
      attn::stable_softmax(a);
      // The implementation's error on x + c plus the reference's on x.
      const auto bounds = plus(tol::softmax_row(y, expected, 1), tol::softmax_row(x, expected, 1));
      ATTN_CHECK_ALL_CLOSE("stable_softmax(x + " + attn::test::fmt(c) + ") vs softmax(x), n = " + std::to_string(n),
                           expected, a, bounds, inputs().add("x", x));
    }
  }
}

TEST_CASE("softmax(x + c) = softmax(x) for any real shift, up to the rounding of x + c", "[step5][property]") {
  // fl(x_j + c) = (x_j + c)(1 + delta): the scores move by at most E = max |x_j + c| u,
  // which tol::attention_row turns into a bound on the weights.
  auto gen = attn::test::rng(502);
  std::uniform_real_distribution<double> shift(-1000.0, 1000.0);
  for (const std::size_t n : {1u, 2u, 7u, 8u, 9u, 16u, 17u, 33u, 65u, 129u, 257u, 1000u}) {
    const auto x = attn::test::uniform_row(gen, n, -10.0f, 10.0f);
    std::vector<float> expected = x;
    attn::ref::stable_softmax(expected);
    const double c = shift(gen);
    std::vector<float> y(n);
    double E = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      y[j] = static_cast<float>(x[j] + c);
      E = std::max(E, std::fabs(static_cast<double>(x[j]) + c) * tol::u);
    }
    std::vector<float> a = y;
    attn::stable_softmax(a);
    const auto bounds = plus(tol::attention_row(y, expected, E, 1), tol::softmax_row(x, expected, 1));
    ATTN_CHECK_ALL_CLOSE("stable_softmax(x + " + attn::test::fmt(c) + ") vs softmax(x), n = " + std::to_string(n),
                         expected, a, bounds, inputs().add("x", x));
  }
}

TEST_CASE("the stable softmax matches the reference for rows of every length and range", "[step5][property]") {
  auto gen = attn::test::rng(503);
  for (const std::size_t n : attn::test::tail_sizes()) {
    check_stable_softmax(attn::test::uniform_row(gen, n, -30.0f, 30.0f), "stable_softmax, n = " + std::to_string(n));
    check_stable_softmax(attn::test::uniform_row(gen, n, 80.0f, 200.0f), "stable_softmax of scores in [80, 200], n = " + std::to_string(n));
    if (n <= 1000) {
      check_stable_softmax(attn::test::gaussian_row(gen, n, 3000.0f), "stable_softmax of wide scores, n = " + std::to_string(n));
    }
  }
}

TEST_CASE("each query's stable weights sum to 1, however large its scores", "[step5][property]") {
  auto gen = attn::test::rng(504);
  for (const std::size_t n : attn::test::tail_sizes()) {
    if (n == 0) continue;
    const auto x = attn::test::uniform_row(gen, n, 500.0f, 600.0f);
    std::vector<float> expected = x;
    attn::ref::stable_softmax(expected);
    std::vector<float> a = x;
    attn::stable_softmax(a);
    double sum = 0.0, bound = 0.0;
    for (float w : a) sum += w;
    for (double b : tol::softmax_row(x, expected, 1)) bound += b;  // |sum a - 1| <= sum of the entry bounds
    ATTN_CHECK_CLOSE("sum of the stable weights, n = " + std::to_string(n), 1.0, sum, bound, inputs().add("scores", x));
  }
}

TEST_CASE("-inf scores get weight exactly 0 and an all -inf row gets no weight at all", "[step5][special]") {
  auto gen = attn::test::rng(505);
  for (const std::size_t n : {1u, 2u, 3u, 8u, 9u, 17u, 64u, 65u}) {
    auto x = attn::test::uniform_row(gen, n, -100.0f, 100.0f);
    for (std::size_t j = 0; j < n; j += 2) x[j] = -inf;
    if (n > 1) check_stable_softmax(x, "stable_softmax with -inf at even positions, n = " + std::to_string(n));
    std::vector<float> all_masked(n, -inf);
    attn::stable_softmax(all_masked);
    ATTN_CHECK_ALL_CLOSE("stable_softmax of " + std::to_string(n) + " -inf scores (nothing to attend to)",
                         std::vector<float>(n, 0.0f), all_masked, 0.0);
  }
}

TEST_CASE("+inf scores share the weight equally and the rest get none", "[step5][special]") {
  // The limit of growing those scores without bound: the same as softmax of the row with
  // +inf -> 0 and everything else -> -inf.
  const std::vector<std::vector<float>> rows{
      {inf}, {inf, 1.0f}, {inf, 1.0f, inf, -inf}, {2.0f, inf, inf, inf}, {inf, inf, inf, inf, 5.0f}, {-inf, inf, 1e30f}};
  for (const auto& x : rows) {
    std::vector<float> limit_row, expected;
    std::size_t count = 0;
    for (float v : x) count += (v == inf);
    for (float v : x) {
      limit_row.push_back(v == inf ? 0.0f : -inf);
      expected.push_back(v == inf ? 1.0f / static_cast<float>(count) : 0.0f);
    }
    std::vector<float> a = x;
    attn::stable_softmax(a);
    ATTN_CHECK_ALL_CLOSE("stable_softmax with +inf scores", expected, a,
                         attn::test::exact_where_masked(tol::softmax_row(limit_row, expected, 1), limit_row),
                         inputs().add("scores", x));
    ATTN_CHECK_CLOSE("log_sum_exp with +inf", inf, attn::log_sum_exp(x), 0.0, inputs().add("row", x));
  }
}

TEST_CASE("NaN scores make the whole row of weights NaN and log-sum-exp NaN", "[step5][special]") {
  const std::vector<std::vector<float>> rows{
      {qnan}, {1.0f, qnan, 3.0f}, {qnan, -inf, -inf}, {inf, qnan}, {1e4f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, qnan}};
  for (const auto& x : rows) {
    std::vector<float> a = x;
    attn::stable_softmax(a);
    ATTN_CHECK_ALL_CLOSE("stable_softmax with NaN", std::vector<float>(x.size(), qnan), a, 0.0, inputs().add("scores", x));
    ATTN_CHECK_CLOSE("log_sum_exp with NaN", qnan, attn::log_sum_exp(x), 0.0, inputs().add("row", x));
  }
}

TEST_CASE("log-sum-exp of the card's rows is the log of the softmax denominator", "[step5][card]") {
  const std::vector<std::vector<float>> rows{
      {1.0f, 2.0f, 3.0f}, {0.0f, 0.0f}, {1000.0f, 1000.0f}, {-5.0f}, {200.0f}, {-inf, 0.0f}, {-inf, 1.5f, -inf}};
  for (const auto& x : rows) {
    const double L = oracle::log_sum_exp(x);
    ATTN_CHECK_CLOSE("log_sum_exp", L, attn::log_sum_exp(x), tol::log_sum_exp(x, to_floats(oracle::softmax(x)), L, 1),
                     inputs().add("row", x));
  }
  // The empty sum is 0 and its log -inf; likewise a row with nothing to attend to.
  ATTN_CHECK_CLOSE("log_sum_exp([])", -inf, attn::log_sum_exp(std::span<const float>()), 0.0);
  ATTN_CHECK_CLOSE("log_sum_exp([-inf, -inf, -inf])", -inf, attn::log_sum_exp(std::vector<float>(3, -inf)), 0.0);
}

TEST_CASE("log-sum-exp matches the reference for rows of every length and range", "[step5][property]") {
  auto gen = attn::test::rng(506);
  for (const std::size_t n : attn::test::tail_sizes()) {
    if (n == 0) continue;
    check_log_sum_exp(attn::test::uniform_row(gen, n, -30.0f, 30.0f), "log_sum_exp, n = " + std::to_string(n));
    check_log_sum_exp(attn::test::uniform_row(gen, n, 85.0f, 95.0f), "log_sum_exp of scores in [85, 95], n = " + std::to_string(n));
    check_log_sum_exp(attn::test::gaussian_row(gen, n, 1000.0f), "log_sum_exp of wide scores, n = " + std::to_string(n));
  }
}

TEST_CASE("attention weights match the reference for non-square Q and K, with and without the mask", "[step5][property]") {
  // n_q, n_k and d all differ: a transposed or index-swapped pipeline cannot pass.
  auto gen = attn::test::rng(507);
  const std::size_t shapes[][3] = {{3, 5, 4}, {5, 3, 7}, {1, 6, 2}, {6, 1, 3}, {4, 4, 8}, {7, 9, 1}, {2, 17, 16}};
  for (const auto& s : shapes) {
    const auto Q = attn::test::gaussian_matrix(gen, s[0], s[2]);
    const auto K = attn::test::gaussian_matrix(gen, s[1], s[2]);
    check_attention(Q, K, false);
    check_attention(Q, K, true);
  }
}

TEST_CASE("attention weights are right for sizes reaching every SIMD tail", "[step5][property]") {
  auto gen = attn::test::rng(508);
  for (const std::size_t n : attn::test::small_tail_sizes()) {
    const std::size_t d = 1 + (n * 7) % 40;
    const auto Q = attn::test::gaussian_matrix(gen, n, d);
    const auto K = attn::test::gaussian_matrix(gen, n + 1, d);
    check_attention(Q, K, n % 2 == 0);
  }
  for (const std::size_t d : {63u, 64u, 65u, 127u, 128u, 129u, 255u, 256u, 257u}) {
    check_attention(attn::test::gaussian_matrix(gen, 3, d), attn::test::gaussian_matrix(gen, 5, d), true);
  }
}

TEST_CASE("attention weights stay finite and right for scores far beyond exp's range", "[step5][special]") {
  auto gen = attn::test::rng(509);
  for (const std::size_t d : {4u, 16u, 64u}) {
    const auto Q = attn::test::uniform_matrix(gen, 4, d, -40.0f, 40.0f);
    const auto K = attn::test::uniform_matrix(gen, 6, d, -40.0f, 40.0f);
    check_attention(Q, K, false);
    check_attention(Q, K, true);
  }
}

TEST_CASE("each query's attention weights sum to 1", "[step5][property]") {
  auto gen = attn::test::rng(510);
  const auto Q = attn::test::gaussian_matrix(gen, 6, 8);
  const auto K = attn::test::gaussian_matrix(gen, 9, 8);
  for (const bool causal : {false, true}) {
    attn::matrix expected(6, 9), A(6, 9);
    attn::ref::attention_weights(Q, K, expected, causal);
    attn::attention_weights(Q, K, A, causal);
    attn::matrix beta(6, 9);
    attn::ref::scores(Q, K, beta);
    if (causal) attn::ref::apply_causal_mask(beta);
    for (std::size_t i = 0; i < 6; ++i) {
      const double score_error = tol::visible_score_error(Q.row(i), K, tol::visible_keys(i, 9, causal), 1);
      double sum = 0.0, bound = 0.0;
      for (std::size_t j = 0; j < 9; ++j) sum += A(i, j);
      // One implementation against the exact weights: sum of its per-entry bounds.
      for (double b : tol::attention_row(beta.row(i), expected.row(i), score_error, 1)) bound += b;
      ATTN_CHECK_CLOSE(std::string(causal ? "causal" : "full") + " attention: sum of row " + std::to_string(i), 1.0,
                       sum, bound, inputs().add("Q", Q).add("K", K));
    }
  }
}

TEST_CASE("a query that matches no key gets no weight at all", "[step5][special]") {
  // q_0 = [-inf, 0, 0] against keys whose first component is positive: every score is
  // -inf, so query 0 has nothing to attend to and its weights are all 0. Query 1 is normal.
  const attn::matrix Q{{-inf, 0.0f, 0.0f}, {0.5f, -1.0f, 2.0f}};
  const attn::matrix K{{1.0f, 2.0f, 3.0f}, {0.5f, -1.0f, 0.0f}, {2.0f, 0.0f, 1.0f}, {0.25f, 1.0f, -2.0f}};
  for (const bool causal : {false, true}) {
    attn::matrix A(2, 4, qnan);
    attn::attention_weights(Q, K, A, causal);
    ATTN_CHECK_ALL_CLOSE("attention weights of a query with nothing to attend to", std::vector<float>(4, 0.0f),
                         A.row(0), 0.0, inputs().add("Q", Q).add("K", K));
  }
  check_attention(Q, K, false);
}

TEST_CASE("a NaN in one query makes that query's weights NaN and no others", "[step5][special]") {
  auto gen = attn::test::rng(511);
  auto Q = attn::test::gaussian_matrix(gen, 3, 5);
  const auto K = attn::test::gaussian_matrix(gen, 4, 5);
  Q(1, 3) = qnan;
  attn::matrix A(3, 4, 0.0f);
  attn::attention_weights(Q, K, A, false);
  ATTN_CHECK_ALL_CLOSE("attention weights of the query holding NaN", std::vector<float>(4, qnan), A.row(1), 0.0,
                       inputs().add("Q", Q).add("K", K));
  for (const std::size_t i : {0u, 2u}) {
    for (const float w : A.row(i)) {
      INFO("query " << i << " holds no NaN; the NaN of query 1 must not reach its weights");
      CHECK(std::isfinite(w));
    }
  }
  // Their values: the same queries without the NaN one, against the reference within the bound.
  attn::matrix clean(2, 5);
  for (std::size_t t = 0; t < 5; ++t) {
    clean(0, t) = Q(0, t);
    clean(1, t) = Q(2, t);
  }
  check_attention(clean, K, false);
}

TEST_CASE("attention_weights refuses mismatched shapes", "[step5][input]") {
  const attn::matrix Q(2, 4, 1.0f), K(3, 4, 1.0f), K5(3, 5, 1.0f), Q0(2, 0), K0(3, 0);
  attn::matrix A(2, 3), transposed(3, 2), too_small(2, 2), too_big(2, 4);
  for (const bool causal : {false, true}) {
    // The sizes: d = 4 and 5; d = 0; A's wrong rows or columns and the 2 x 3 expected.
    ATTN_REQUIRE_INVALID(attn::attention_weights(Q, K5, A, causal), "attention_weights|scores", 4, 5);
    ATTN_REQUIRE_INVALID(attn::attention_weights(Q0, K0, A, causal), "attention_weights|scores", 0);
    ATTN_REQUIRE_INVALID(attn::attention_weights(Q, K, transposed, causal), "attention_weights|scores", 3, 2);
    ATTN_REQUIRE_INVALID(attn::attention_weights(Q, K, too_small, causal), "attention_weights|scores", 2, 3);
    ATTN_REQUIRE_INVALID(attn::attention_weights(Q, K, too_big, causal), "attention_weights|scores", 4, 3);
  }
}

TEST_CASE("an empty row has no weights and its log-sum-exp is -inf", "[step5][special]") {
  // An empty span into a live buffer: stable_softmax must not touch the entries beyond it.
  std::vector<float> none, beyond{0.5f, -2.0f};
  attn::stable_softmax(none);
  attn::stable_softmax(std::span<float>(beyond.data(), 0));
  CHECK(beyond == std::vector<float>{0.5f, -2.0f});
  ATTN_CHECK_CLOSE("log_sum_exp([])", -inf, attn::log_sum_exp(none), 0.0);
}

TEST_CASE("a million equal scores of 1000 get weight exactly 2^-20 each: no overflow however long the row", "[step5][special]") {
  // n = 2^20 scores of 1000: exp(1000) overflows, exp(1000 - max) = exp(0) = 1 does not.
  // Every partial sum is an integer below 2^24, so each weight is exactly 2^-20.
  const std::size_t n = std::size_t{1} << 20;
  std::vector<float> a(n, 1000.0f);
  attn::stable_softmax(a);
  ATTN_CHECK_ALL_CLOSE("weights of 2^20 scores of 1000 (each exactly 2^-20)", std::vector<float>(n, 0x1p-20f), a, 0.0);
  const std::vector<float> x(n, 1000.0f), weights(n, 0x1p-20f);
  const double L = 1000.0 + 20.0 * std::log(2.0);  // log(2^20 e^1000)
  ATTN_CHECK_CLOSE("log_sum_exp of 2^20 scores of 1000", L, attn::log_sum_exp(x), tol::log_sum_exp(x, weights, L, 1));
}

TEST_CASE("one query and one key, d = 1: the key takes all the weight whatever the score", "[step5][special]") {
  for (const float q : {0.0f, -1e30f, 1e30f, 88.7228f, 200.0f, -200.0f}) {
    for (const bool causal : {false, true}) {
      const attn::matrix Q{{q}}, K{{1.5f}};
      attn::matrix A(1, 1, qnan);
      attn::attention_weights(Q, K, A, causal);
      ATTN_CHECK_CLOSE(std::string(causal ? "causal " : "") + "attention of one query " + attn::test::fmt(q) +
                           " on one key",
                       1.0, A(0, 0), 0.0, inputs().add("Q", Q).add("K", K));
    }
  }
}

TEST_CASE("a key with an infinite component takes all the weight of the queries that point its way", "[step5][special]") {
  // k_1 = [inf, 1]: q_0 = [1, 0.5] scores +inf on it (all its weight; the finite scores get 0),
  // q_1 = [-1, 0.5] scores -inf on it (weight exactly 0; k_0 takes it all).
  const attn::matrix Q{{1.0f, 0.5f}, {-1.0f, 0.5f}};
  const attn::matrix K{{1.0f, 1.0f}, {inf, 1.0f}};
  for (const bool causal : {false, true}) {
    attn::matrix A(2, 2, qnan);
    attn::attention_weights(Q, K, A, causal);
    // Causal: query 0 sees key 0 only (finite score: weight 1); query 1 sees both.
    const std::vector<double> expected = causal ? std::vector<double>{1.0, 0.0, 1.0, 0.0}
                                                : std::vector<double>{0.0, 1.0, 1.0, 0.0};
    ATTN_CHECK_ALL_CLOSE(std::string(causal ? "causal " : "") + "attention with an infinite key component", expected,
                         A, 0.0, inputs().add("Q", Q).add("K", K));
  }
}
