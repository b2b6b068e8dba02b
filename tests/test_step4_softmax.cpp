// Step 4: softmax turns one query's scores into attention weights,
// alpha_j = exp(beta_j) / sum_l exp(beta_l). Scores here stay in [-30, 30], where the naive
// formula cannot overflow (step 5 lifts that limit). Expected values come from the cards,
// the exact formula in double, or attn::ref; tolerances from tests/support/tolerances.hpp.
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

/// The reference's weights for x, and the bound for comparing an implementation with them.
struct expected_row {
  std::vector<float> a;
  std::vector<double> bounds;
};

expected_row reference_row(std::span<const float> x) {
  expected_row e{std::vector<float>(x.begin(), x.end()), {}};
  attn::ref::softmax(e.a);
  e.bounds = attn::test::exact_where_masked(tol::softmax_row(x, e.a), x);
  return e;
}

/// attn::softmax(x) against the reference, element by element.
void check_softmax(const std::vector<float>& x, const std::string& what) {
  const auto expected = reference_row(x);
  std::vector<float> a = x;
  attn::softmax(a);
  ATTN_CHECK_ALL_CLOSE(what, expected.a, a, expected.bounds, inputs().add("scores", x));
}

/// attn::softmax_rows(S) on a guarded copy against the reference, row by row.
void check_softmax_rows(const attn::matrix& S) {
  attn::matrix expected = S;
  std::vector<double> bounds;
  for (std::size_t i = 0; i < S.rows(); ++i) {
    const auto row = reference_row(S.row(i));
    for (std::size_t j = 0; j < S.cols(); ++j) expected(i, j) = row.a[j];
    bounds.insert(bounds.end(), row.bounds.begin(), row.bounds.end());
  }
  attn::test::guarded_matrix A(S.rows(), S.cols(), 0.0f);
  for (std::size_t i = 0; i < S.rows(); ++i) {
    for (std::size_t j = 0; j < S.cols(); ++j) A.view()(i, j) = S(i, j);
  }
  attn::softmax_rows(A.view());
  const std::string what = "softmax_rows of a " + shape(S.rows(), S.cols()) + " score matrix";
  ATTN_CHECK_ALL_CLOSE(what, expected, A.view(), bounds, inputs().add("S", S));
  INFO(what << ": nothing outside S may be written");
  CHECK(A.intact());
}

}  // namespace

TEST_CASE("the card's query gives position 1 the weight e^2 / (e^1 + e^2 + e^3) = 0.2447", "[step4][card]") {
  const std::vector<float> scores{1.0f, 2.0f, 3.0f};
  std::vector<float> a = scores;
  attn::softmax(a);
  REQUIRE(a.size() == 3);
  // As the card quotes it, to 4 decimals...
  ATTN_CHECK_CLOSE("weight of position 1 (card, 4 decimals)", 0.2447, a[1], tol::card(4), inputs().add("scores", scores));
  // ...and against the exact formula, within the rounding of one softmax.
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
  const std::vector<double> exact{e1 / (e1 + e2 + e3), e2 / (e1 + e2 + e3), e3 / (e1 + e2 + e3)};
  ATTN_CHECK_ALL_CLOSE("softmax([1, 2, 3]) (exact formula)", exact, a, tol::softmax_row(scores, to_floats(exact), 1),
                       inputs().add("scores", scores));
}

TEST_CASE("equal scores share the weight equally", "[step4][property]") {
  for (const std::size_t n : {1u, 2u, 3u, 7u, 8u, 16u, 100u}) {
    for (const float s : {-30.0f, 0.0f, 2.5f, 30.0f}) {
      const std::vector<float> scores(n, s);
      std::vector<float> a = scores;
      attn::softmax(a);
      const std::vector<double> uniform(n, 1.0 / static_cast<double>(n));
      ATTN_CHECK_ALL_CLOSE("softmax of " + std::to_string(n) + " equal scores " + attn::test::fmt(s), uniform, a,
                           tol::softmax_row(scores, to_floats(uniform), 1));
    }
  }
}

TEST_CASE("attention weights match the reference for rows of every length (every SIMD tail)", "[step4][property]") {
  auto gen = attn::test::rng(401);
  for (const std::size_t n : attn::test::tail_sizes()) {
    check_softmax(attn::test::uniform_row(gen, n, -30.0f, 30.0f), "softmax of a row of " + std::to_string(n));
  }
  for (const std::size_t n : {5u, 64u, 1000u}) {
    check_softmax(attn::test::uniform_row(gen, n, -1.0f, 1.0f), "softmax of a flat row of " + std::to_string(n));
    auto peaked = attn::test::gaussian_row(gen, n, 8.0f);
    for (float& x : peaked) x = std::clamp(x, -30.0f, 30.0f);  // this step's range
    check_softmax(peaked, "softmax of a peaked row of " + std::to_string(n));
  }
}

TEST_CASE("each query's weights sum to 1", "[step4][property]") {
  auto gen = attn::test::rng(402);
  for (const std::size_t n : attn::test::tail_sizes()) {
    if (n == 0) continue;
    const auto scores = attn::test::uniform_row(gen, n, -30.0f, 30.0f);
    std::vector<float> expected = scores;
    attn::ref::softmax(expected);
    std::vector<float> a = scores;
    attn::softmax(a);
    double sum = 0.0;
    for (float w : a) sum += w;
    // |sum_j a_j - 1| <= sum_j |a_j - exact_j| <= the sum of the per-entry bounds.
    double bound = 0.0;
    for (double b : tol::softmax_row(scores, expected, 1)) bound += b;
    ATTN_CHECK_CLOSE("sum of the weights of a row of " + std::to_string(n), 1.0, sum, bound,
                     inputs().add("scores", scores));
  }
}

TEST_CASE("a single position takes all the weight", "[step4][special]") {
  for (const float s : {-30.0f, -1.0f, 0.0f, 0.5f, 30.0f}) {
    const std::vector<float> x{s}, one{1.0f};
    std::vector<float> a = x;
    attn::softmax(a);
    ATTN_CHECK_CLOSE("softmax([" + attn::test::fmt(s) + "])", 1.0, a[0], tol::softmax_row(x, one, 1)[0]);
  }
}

TEST_CASE("an empty row of scores stays empty", "[step4][special]") {
  // Empty spans and views into a live buffer: nothing beyond them may be touched.
  std::vector<float> none, beyond{0.5f, -2.0f, 3.0f};
  attn::softmax(none);
  attn::softmax(std::span<float>());
  attn::softmax(std::span<float>(beyond.data(), 0));
  attn::matrix S(0, 5), T(3, 0);
  attn::softmax_rows(S);
  attn::softmax_rows(T);
  attn::softmax_rows(attn::matrix_view{beyond.data(), 0, 3});
  attn::softmax_rows(attn::matrix_view{beyond.data(), 3, 0});
  CHECK(beyond == std::vector<float>{0.5f, -2.0f, 3.0f});
}

TEST_CASE("-inf scores get weight exactly 0", "[step4][special]") {
  auto gen = attn::test::rng(403);
  const std::vector<float> card_row{1.0f, -inf, 3.0f, -inf};
  check_softmax(card_row, "softmax([1, -inf, 3, -inf])");
  for (const std::size_t n : {2u, 5u, 8u, 9u, 17u, 64u, 65u}) {
    auto scores = attn::test::uniform_row(gen, n, -30.0f, 30.0f);
    for (std::size_t j = 1; j < n; j += 2) scores[j] = -inf;
    check_softmax(scores, "softmax of a row of " + std::to_string(n) + " with every other score -inf");
  }
}

TEST_CASE("a NaN score makes the whole row of weights NaN", "[step4][special]") {
  for (const std::size_t n : {1u, 3u, 8u, 17u}) {
    for (std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
      std::vector<float> scores(n, 1.0f);
      scores[at] = qnan;
      std::vector<float> a = scores;
      attn::softmax(a);
      ATTN_CHECK_ALL_CLOSE("softmax with NaN at " + std::to_string(at), std::vector<float>(n, qnan), a, 0.0,
                           inputs().add("scores", scores));
    }
  }
}

TEST_CASE("softmax_rows normalises each query's row, not each key's column", "[step4][property]") {
  // Non-square, so normalising columns (or the transpose) cannot pass.
  auto gen = attn::test::rng(404);
  const std::size_t shapes[][2] = {{3, 5}, {5, 3}, {1, 7}, {7, 1}, {2, 2}, {4, 9}};
  for (const auto& s : shapes) check_softmax_rows(attn::test::uniform_matrix(gen, s[0], s[1], -30.0f, 30.0f));
  // Row i of the card's softmax: each row on its own is softmax of that row.
  const attn::matrix S{{1.0f, 2.0f, 3.0f}, {3.0f, 2.0f, 1.0f}};
  attn::matrix A = S;
  attn::softmax_rows(A);
  const auto e = oracle::softmax(S.row(0));
  const std::vector<double> expected{e[0], e[1], e[2], e[2], e[1], e[0]};
  std::vector<double> bounds = tol::softmax_row(S.row(0), to_floats(e), 1);
  const auto b1 = tol::softmax_row(S.row(1), std::vector<float>{float(e[2]), float(e[1]), float(e[0])}, 1);
  bounds.insert(bounds.end(), b1.begin(), b1.end());
  ATTN_CHECK_ALL_CLOSE("softmax_rows([[1, 2, 3], [3, 2, 1]])", expected, A, bounds, inputs().add("S", S));
}

TEST_CASE("softmax_rows handles score matrices of every SIMD tail width", "[step4][property]") {
  auto gen = attn::test::rng(405);
  for (const std::size_t n : attn::test::small_tail_sizes()) {
    check_softmax_rows(attn::test::uniform_matrix(gen, 3, n, -30.0f, 30.0f));
  }
  for (const std::size_t n : {63u, 64u, 65u, 127u, 128u, 129u, 255u, 256u, 257u}) {
    check_softmax_rows(attn::test::uniform_matrix(gen, 2, n, -30.0f, 30.0f));
  }
}

TEST_CASE("after the causal mask a query gives the future no weight at all", "[step4][property]") {
  auto gen = attn::test::rng(406);
  for (const std::size_t n : {1u, 4u, 9u, 17u}) {
    attn::matrix S = attn::test::uniform_matrix(gen, n, n, -30.0f, 30.0f);
    attn::ref::apply_causal_mask(S);  // the reference mask: only the softmax is under test
    check_softmax_rows(S);
  }
  // The card's 4 tokens with all scores equal: query i spreads its weight over keys 0..i.
  attn::matrix S(4, 4, 0.5f);
  attn::ref::apply_causal_mask(S);
  attn::softmax_rows(S);
  std::vector<double> expected, bounds;
  for (std::size_t i = 0; i < 4; ++i) {
    std::vector<float> a(4, 0.0f);
    for (std::size_t j = 0; j <= i; ++j) a[j] = 1.0f / static_cast<float>(i + 1);
    std::vector<float> x(4, -inf);
    for (std::size_t j = 0; j <= i; ++j) x[j] = 0.5f;
    const auto b = attn::test::exact_where_masked(tol::softmax_row(x, a, 1), x);
    bounds.insert(bounds.end(), b.begin(), b.end());
    for (std::size_t j = 0; j < 4; ++j) expected.push_back(j <= i ? 1.0 / static_cast<double>(i + 1) : 0.0);
  }
  ATTN_CHECK_ALL_CLOSE("softmax_rows of 4 masked equal scores", expected, S, bounds);
}

TEST_CASE("a million equal scores get a millionth of the weight each, exactly", "[step4][special]") {
  // n = 2^20: exp(0) = 1, every partial sum is an integer below 2^24 and 1 / 2^20 is a
  // power of two, so each weight is exactly 2^-20 in any summation order.
  const std::size_t n = std::size_t{1} << 20;
  std::vector<float> a(n, 0.0f);
  attn::softmax(a);
  ATTN_CHECK_ALL_CLOSE("softmax of 2^20 zero scores (each weight exactly 2^-20)", std::vector<double>(n, 0x1p-20), a,
                       0.0);
}

TEST_CASE("a million queries with one key each give it all their weight", "[step4][special]") {
  auto gen = attn::test::rng(407);
  const std::size_t n = 1000000;
  attn::matrix S = attn::test::uniform_matrix(gen, n, 1, -30.0f, 30.0f);
  const attn::matrix before = S;
  attn::softmax_rows(S);
  const std::vector<float> one{1.0f};
  std::vector<double> bounds(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::vector<float> x{before(i, 0)};
    bounds[i] = tol::softmax_row(x, one, 1)[0];
  }
  ATTN_CHECK_ALL_CLOSE("softmax_rows of a 10^6 x 1 score matrix (every single weight 1)", std::vector<double>(n, 1.0), S,
                       bounds);
}

TEST_CASE("a score of 88, just below exp's overflow threshold, still gives the exact weights", "[step4][special]") {
  // exp(88) = 1.65e38 < FLT_MAX = 3.4e38 (ln FLT_MAX = 88.7228), so even the naive formula
  // is fine here; from 88.73 on, exp overflows and only step 5's stable softmax survives.
  for (const std::vector<float>& scores :
       {std::vector<float>{88.0f}, std::vector<float>{88.0f, 0.0f}, std::vector<float>{88.0f, 87.0f},
        std::vector<float>{87.5f, 88.0f, -88.0f}}) {
    std::vector<float> a = scores;
    attn::softmax(a);
    const auto exact = oracle::softmax(scores);
    ATTN_CHECK_ALL_CLOSE("softmax near exp's overflow threshold", exact, a, tol::softmax_row(scores, to_floats(exact), 1),
                         inputs().add("scores", scores));
  }
}
