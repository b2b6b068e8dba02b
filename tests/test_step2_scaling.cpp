// Step 2: the attention score beta_ij = (q_i . k_j) / sqrt(d), one at a time
// (scaled_score) and all at once (scores: S = Q K^T / sqrt(d)).
// Expected values come from the cards, exact arithmetic, or attn::ref; tolerances from
// tests/support/tolerances.hpp.
#include <attn/attn.hpp>

#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/tolerances.hpp"

namespace {

namespace tol = attn::test::tol;
using attn::test::inputs;
using attn::test::shape;
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

/// The expected S = Q K^T / sqrt(d) from the reference, and one bound per element.
struct expected_scores {
  attn::matrix S;
  std::vector<double> bounds;
};

expected_scores reference_scores(const attn::matrix& Q, const attn::matrix& K) {
  expected_scores e{attn::matrix(Q.rows(), K.rows()), {}};
  for (std::size_t i = 0; i < Q.rows(); ++i) {
    for (std::size_t j = 0; j < K.rows(); ++j) {
      e.S(i, j) = attn::ref::scaled_score(Q.row(i), K.row(j));
      e.bounds.push_back(tol::scaled_score(Q.cols(), attn::test::sum_abs_products(Q.row(i), K.row(j))));
    }
  }
  return e;
}

/// Runs attn::scores into a guarded n_q x n_k output prefilled with NaN and checks every
/// element against the reference and that nothing outside S was written.
void check_scores(const attn::matrix& Q, const attn::matrix& K) {
  const auto expected = reference_scores(Q, K);
  attn::test::guarded_matrix S(Q.rows(), K.rows(), qnan);
  attn::scores(Q, K, S.view());
  ATTN_CHECK_ALL_CLOSE("scores S = Q K^T / sqrt(d) for Q " + shape(Q.rows(), Q.cols()) + ", K " +
                           shape(K.rows(), K.cols()),
                       expected.S, S.view(), expected.bounds, inputs().add("Q", Q).add("K", K));
  INFO("scores wrote outside S (Q " << shape(Q.rows(), Q.cols()) << ", K " << shape(K.rows(), K.cols()) << ")");
  CHECK(S.intact());
}

}  // namespace

TEST_CASE("the card's query and key have scaled score -0.5", "[step2][card]") {
  // q . k = -1 and d = 4, so the score is -1 / sqrt(4) = -0.5 (not -1 / 4 = -0.25).
  const std::vector<float> q{2.0f, 0.5f, 1.0f, -1.5f};
  const std::vector<float> k{1.0f, 1.0f, -0.5f, 2.0f};
  ATTN_CHECK_CLOSE("scaled_score(q, k)", -0.5, attn::scaled_score(q, k), tol::scaled_score(4, 6.0, 1),
                   inputs().add("q", q).add("k", k));
}

TEST_CASE("scaling divides by the square root of d, not by d", "[step2][property]") {
  // q = k = ones(d): q . k = d, so the score is d / sqrt(d) = sqrt(d).
  for (const std::size_t d : {1u, 4u, 9u, 16u, 64u, 100u}) {
    const std::vector<float> ones(d, 1.0f);
    const double expected = std::sqrt(static_cast<double>(d));
    ATTN_CHECK_CLOSE("scaled_score(ones(d), ones(d)) for d = " + std::to_string(d), expected,
                     attn::scaled_score(ones, ones), tol::scaled_score(d, static_cast<double>(d), 1));
  }
}

TEST_CASE("the scaled score agrees with the reference for every length (every SIMD tail)", "[step2][property]") {
  auto gen = attn::test::rng(201);
  for (const std::size_t d : attn::test::tail_sizes()) {
    if (d == 0) continue;  // refused: see the bad-input test
    const auto q = attn::test::uniform_row(gen, d, -2.0f, 2.0f);
    const auto k = attn::test::uniform_row(gen, d, -2.0f, 2.0f);
    ATTN_CHECK_CLOSE("scaled_score(q, k) for d = " + std::to_string(d), attn::ref::scaled_score(q, k),
                     attn::scaled_score(q, k), tol::scaled_score(d, attn::test::sum_abs_products(q, k)),
                     inputs().add("q", q).add("k", k));
  }
}

TEST_CASE("the card's vectors give the same score inside a score matrix", "[step2][card]") {
  const attn::matrix Q{{2.0f, 0.5f, 1.0f, -1.5f}};
  const attn::matrix K{{1.0f, 1.0f, -0.5f, 2.0f}, {2.0f, 0.5f, 1.0f, -1.5f}};
  attn::matrix S(1, 2, qnan);
  attn::scores(Q, K, S);
  // q . k_0 = -1 and q . q = 4 + 0.25 + 1 + 2.25 = 7.5, over sqrt(4) = 2.
  ATTN_CHECK_ALL_CLOSE("scores(Q, K)", (std::initializer_list<double>{-0.5, 3.75}), S,
                       (std::initializer_list<double>{tol::scaled_score(4, 6.0, 1), tol::scaled_score(4, 7.5, 1)}),
                       inputs().add("Q", Q).add("K", K));
}

TEST_CASE("score rows are queries and columns are keys, for non-square Q and K", "[step2][property]") {
  // n_q, n_k and d all differ, so a transposed or index-swapped loop cannot pass.
  auto gen = attn::test::rng(202);
  const std::size_t shapes[][3] = {{3, 5, 4}, {5, 3, 7}, {1, 6, 2}, {6, 1, 3}, {2, 7, 1}, {4, 4, 9}};
  for (const auto& s : shapes) {
    const auto Q = attn::test::uniform_matrix(gen, s[0], s[2], -1.0f, 1.0f);
    const auto K = attn::test::uniform_matrix(gen, s[1], s[2], -1.0f, 1.0f);
    check_scores(Q, K);
  }
}

TEST_CASE("every score matches the reference for sizes reaching every SIMD tail", "[step2][property]") {
  auto gen = attn::test::rng(203);
  for (const std::size_t d : attn::test::small_tail_sizes()) {
    for (const std::size_t n : {1u, 3u, 8u, 17u}) {
      const auto Q = attn::test::uniform_matrix(gen, n, d, -3.0f, 3.0f);
      const auto K = attn::test::uniform_matrix(gen, n + 2, d, -3.0f, 3.0f);
      check_scores(Q, K);
    }
  }
  for (const std::size_t d : {63u, 64u, 65u, 127u, 128u, 129u, 255u, 256u, 257u}) {
    const auto Q = attn::test::gaussian_matrix(gen, 3, d);
    const auto K = attn::test::gaussian_matrix(gen, 5, d);
    check_scores(Q, K);
  }
}

TEST_CASE("an empty query or key set gives an empty score matrix", "[step2][special]") {
  auto gen = attn::test::rng(204);
  const auto Q = attn::test::uniform_matrix(gen, 3, 4, -1.0f, 1.0f);
  const attn::matrix no_keys(0, 4);
  attn::matrix S(3, 0);
  attn::scores(Q, no_keys, S);  // nothing to compute, nothing to throw
  attn::matrix S2(0, 3);
  const attn::matrix no_queries(0, 4);
  const auto K = attn::test::uniform_matrix(gen, 3, 4, -1.0f, 1.0f);
  attn::scores(no_queries, K, S2);
  SUCCEED("no throw, no out-of-bounds access");
}

TEST_CASE("mismatched query and key lengths are refused", "[step2][input]") {
  const std::vector<float> storage{1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f};
  const std::span<const float> q3(storage.data(), 3), k4(storage.data(), 4);
  ATTN_REQUIRE_INVALID(attn::scaled_score(q3, k4), "scaled_score", 3, 4);
  ATTN_REQUIRE_INVALID(attn::scaled_score(k4, q3), "scaled_score", 4, 3);
}

TEST_CASE("a score with d = 0 is refused rather than divided by sqrt(0)", "[step2][input]") {
  ATTN_REQUIRE_INVALID(attn::scaled_score(std::span<const float>(), std::span<const float>()),
                       "scaled_score", 0);
  const attn::matrix Q(2, 0), K(3, 0);
  attn::matrix S(2, 3);
  ATTN_REQUIRE_INVALID(attn::scores(Q, K, S), "scores", 0);  // d = 0
}

TEST_CASE("queries and keys of different dimensions are refused", "[step2][input]") {
  const attn::matrix Q(2, 4, 1.0f), K(3, 5, 1.0f);
  attn::matrix S(2, 3);
  ATTN_REQUIRE_INVALID(attn::scores(Q, K, S), "scores", 4, 5);  // d = 4 and 5
}

TEST_CASE("a score matrix of the wrong shape is refused", "[step2][input]") {
  const attn::matrix Q(2, 4, 1.0f), K(3, 4, 1.0f);
  attn::matrix transposed(3, 2), too_small(2, 2), too_few_rows(1, 3), too_big(3, 3);
  // The sizes: S's wrong rows or columns, and the 2 x 3 that was expected.
  ATTN_REQUIRE_INVALID(attn::scores(Q, K, transposed), "scores", 3, 2);
  ATTN_REQUIRE_INVALID(attn::scores(Q, K, too_small), "scores", 2, 3);
  ATTN_REQUIRE_INVALID(attn::scores(Q, K, too_few_rows), "scores", 1, 2);
  ATTN_REQUIRE_INVALID(attn::scores(Q, K, too_big), "scores", 3, 2);
  // A view over storage too small for its shape is refused when it is made.
  std::vector<float> five(5);
  REQUIRE_THROWS_AS(attn::matrix_view(std::span<float>(five), 2, 3), std::invalid_argument);
  REQUIRE_THROWS_AS(attn::const_matrix_view(std::span<const float>(five), 3, 2), std::invalid_argument);
}

TEST_CASE("a NaN in one query makes that query's scores NaN and no others", "[step2][special]") {
  auto gen = attn::test::rng(205);
  auto Q = attn::test::uniform_matrix(gen, 3, 5, -1.0f, 1.0f);
  const auto K = attn::test::uniform_matrix(gen, 4, 5, -1.0f, 1.0f);
  Q(1, 2) = qnan;
  auto expected = reference_scores(Q, K);
  for (std::size_t j = 0; j < 4; ++j) expected.S(1, j) = qnan;  // NaN in, NaN out
  attn::matrix S(3, 4, 0.0f);
  attn::scores(Q, K, S);
  ATTN_CHECK_ALL_CLOSE("scores with NaN in Q(1, 2)", expected.S, S, expected.bounds,
                       inputs().add("Q", Q).add("K", K));
  const std::vector<float> q{1.0f, qnan}, k{1.0f, 1.0f};
  ATTN_CHECK_CLOSE("scaled_score([1, nan], [1, 1])", qnan, attn::scaled_score(q, k), 0.0);
}

TEST_CASE("with d = 1 every score is the plain product q_i k_j", "[step2][special]") {
  // sqrt(1) = 1 and a single product is rounded once: exact for every correct solution.
  const attn::matrix Q{{0.1f}, {-3.0f}, {1e-20f}}, K{{0.3f}, {7.0f}, {-2.5f}, {1e-30f}};
  attn::matrix S(3, 4, qnan);
  attn::scores(Q, K, S);
  attn::matrix expected(3, 4);
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 4; ++j) expected(i, j) = Q(i, 0) * K(j, 0);
  }
  ATTN_CHECK_ALL_CLOSE("scores with d = 1", expected, S, 0.0, inputs().add("Q", Q).add("K", K));
  ATTN_CHECK_CLOSE("scaled_score([-3], [7])", -21.0, attn::scaled_score(Q.row(1), K.row(1)), 0.0);
}

TEST_CASE("an infinite component gives infinite scores, and inf * 0 gives NaN", "[step2][special]") {
  // IEEE arithmetic, as in step 1: q_1 = [inf, 1] against keys [2, 1], [-2, 1] and [0, 1].
  constexpr float inf = std::numeric_limits<float>::infinity();
  const attn::matrix Q{{1.0f, 2.0f}, {inf, 1.0f}};
  const attn::matrix K{{2.0f, 1.0f}, {-2.0f, 1.0f}, {0.0f, 1.0f}};
  attn::matrix S(2, 3, 0.0f);
  attn::scores(Q, K, S);
  const double r = std::sqrt(2.0);
  ATTN_CHECK_ALL_CLOSE("scores with an infinite query component",
                       (std::initializer_list<double>{4.0 / r, 0.0, 2.0 / r, inf, -inf, qnan}), S,
                       (std::initializer_list<double>{tol::scaled_score(2, 4.0, 1), tol::scaled_score(2, 4.0, 1),
                                                      tol::scaled_score(2, 2.0, 1), 0.0, 0.0, 0.0}),
                       inputs().add("Q", Q).add("K", K));
  ATTN_CHECK_CLOSE("scaled_score([inf, 1], [-2, 1])", -inf, attn::scaled_score(Q.row(1), K.row(1)), 0.0);
}

TEST_CASE("a NaN in one key makes that key's column of scores NaN and no other", "[step2][special]") {
  auto gen = attn::test::rng(206);
  const auto Q = attn::test::uniform_matrix(gen, 4, 6, -1.0f, 1.0f);
  auto K = attn::test::uniform_matrix(gen, 3, 6, -1.0f, 1.0f);
  K(2, 5) = qnan;
  auto expected = reference_scores(Q, K);
  for (std::size_t i = 0; i < 4; ++i) expected.S(i, 2) = qnan;
  attn::matrix S(4, 3, 0.0f);
  attn::scores(Q, K, S);
  ATTN_CHECK_ALL_CLOSE("scores with NaN in K(2, 5)", expected.S, S, expected.bounds, inputs().add("Q", Q).add("K", K));
}
