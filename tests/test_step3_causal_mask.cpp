// Step 3: the causal mask. Mask(i, j) = 0 for j <= i and -inf for j > i: query i may look
// at keys 0..i, never at the future. Everything here is exact: a masked entry is -inf,
// an unmasked one keeps its value bit for bit.
#include <attn/attn.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/generators.hpp"

namespace {

using attn::test::inputs;
using attn::test::shape;
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

/// What apply_causal_mask must make of S: -inf above the diagonal, S untouched elsewhere.
attn::matrix masked(const attn::matrix& S) {
  attn::matrix M = S;
  for (std::size_t i = 0; i < M.rows(); ++i) {
    for (std::size_t j = i + 1; j < M.cols(); ++j) M(i, j) = -inf;
  }
  return M;
}

/// Bit-for-bit equality (NaN payloads and the sign of zero included).
bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// Applies the mask to a guarded copy of S and checks every element exactly.
void check_apply(const attn::matrix& S) {
  const attn::matrix expected = masked(S);
  attn::test::guarded_matrix out(S.rows(), S.cols(), 0.0f);
  for (std::size_t i = 0; i < S.rows(); ++i) {
    for (std::size_t j = 0; j < S.cols(); ++j) out.view()(i, j) = S(i, j);
  }
  attn::apply_causal_mask(out.view());
  const std::string what = "apply_causal_mask on a " + shape(S.rows(), S.cols()) + " score matrix";
  ATTN_CHECK_ALL_CLOSE(what, expected, out.view(), 0.0, inputs().add("S", S));
  std::size_t changed_bits = 0;
  for (std::size_t i = 0; i < S.rows(); ++i) {
    for (std::size_t j = 0; j <= i && j < S.cols(); ++j) {
      if (!same_bits(out.view()(i, j), S(i, j))) ++changed_bits;
    }
  }
  INFO(what << ": entries on or below the diagonal must be left exactly as they were");
  CHECK(changed_bits == 0);
  INFO(what << ": nothing outside S may be written");
  CHECK(out.intact());
}

}  // namespace

TEST_CASE("the card's 4-token causal mask is 0 on and below the diagonal and -inf above", "[step3][card]") {
  const attn::matrix expected{{0.0f, -inf, -inf, -inf},
                              {0.0f, 0.0f, -inf, -inf},
                              {0.0f, 0.0f, 0.0f, -inf},
                              {0.0f, 0.0f, 0.0f, 0.0f}};
  const attn::matrix mask = attn::causal_mask(4);
  REQUIRE(mask.rows() == 4);
  REQUIRE(mask.cols() == 4);
  ATTN_CHECK_ALL_CLOSE("causal_mask(4)", expected, mask, 0.0);
}

TEST_CASE("masking the card's 4-token score matrix hides exactly the future keys", "[step3][card]") {
  // 'Score' on and below the diagonal, -inf above: query i sees keys 0..i.
  attn::matrix S{{0.5f, 1.5f, -2.0f, 3.0f},
                 {-1.0f, 0.25f, 4.0f, -0.5f},
                 {2.0f, -3.0f, 1.0f, 0.75f},
                 {-0.125f, 2.5f, -1.5f, 6.0f}};
  const attn::matrix expected{{0.5f, -inf, -inf, -inf},
                              {-1.0f, 0.25f, -inf, -inf},
                              {2.0f, -3.0f, 1.0f, -inf},
                              {-0.125f, 2.5f, -1.5f, 6.0f}};
  const attn::matrix before = S;
  attn::apply_causal_mask(S);
  ATTN_CHECK_ALL_CLOSE("apply_causal_mask on the 4 x 4 scores", expected, S, 0.0, inputs().add("S", before));
}

TEST_CASE("the causal mask of every size has the same triangle", "[step3][property]") {
  for (const std::size_t n : attn::test::tail_sizes()) {
    if (n > 1000) continue;  // n^2 floats; 1000 is enough
    const attn::matrix mask = attn::causal_mask(n);
    REQUIRE(mask.rows() == n);
    REQUIRE(mask.cols() == n);
    ATTN_CHECK_ALL_CLOSE("causal_mask(" + std::to_string(n) + ")", masked(attn::matrix(n, n, 0.0f)), mask, 0.0);
  }
}

TEST_CASE("a single token sees itself and an empty sequence has an empty mask", "[step3][special]") {
  const attn::matrix one = attn::causal_mask(1);
  REQUIRE(one.rows() == 1);
  REQUIRE(one.cols() == 1);
  ATTN_CHECK_CLOSE("causal_mask(1)(0, 0)", 0.0, one(0, 0), 0.0);
  const attn::matrix none = attn::causal_mask(0);
  CHECK(none.rows() == 0);
  CHECK(none.cols() == 0);
}

TEST_CASE("the mask is top-left aligned for non-square score matrices", "[step3][property]") {
  // n_q != n_k: row i still masks exactly the keys j > i, and nothing outside S is touched.
  auto gen = attn::test::rng(301);
  const std::size_t shapes[][2] = {{3, 5}, {5, 3}, {1, 7}, {7, 1}, {2, 9}, {9, 2}, {4, 4}, {0, 3}, {3, 0}};
  for (const auto& s : shapes) check_apply(attn::test::uniform_matrix(gen, s[0], s[1], -5.0f, 5.0f));
}

TEST_CASE("masking works for score matrices of every SIMD tail width", "[step3][property]") {
  auto gen = attn::test::rng(302);
  for (const std::size_t n : attn::test::small_tail_sizes()) {
    check_apply(attn::test::uniform_matrix(gen, n, n, -5.0f, 5.0f));
    check_apply(attn::test::uniform_matrix(gen, n, n + 3, -5.0f, 5.0f));
  }
  for (const std::size_t n : {63u, 64u, 65u, 127u, 128u, 129u, 255u, 256u, 257u}) {
    check_apply(attn::test::uniform_matrix(gen, 4, n, -5.0f, 5.0f));
  }
}

TEST_CASE("masking overwrites future entries whatever they held and keeps past ones exactly", "[step3][special]") {
  // NaN, +inf and -0.0 below the diagonal stay as they are; above it they become -inf.
  attn::matrix S{{qnan, inf, qnan},
                 {-0.0f, inf, 1.0f},
                 {-inf, qnan, -0.0f}};
  check_apply(S);
}

TEST_CASE("masked positions get exactly zero weight", "[step3][property]") {
  auto gen = attn::test::rng(303);
  for (const std::size_t n : {1u, 2u, 4u, 9u, 17u, 33u}) {
    attn::matrix S = attn::test::uniform_matrix(gen, n, n + 1, -10.0f, 10.0f);
    attn::apply_causal_mask(S);
    attn::ref::softmax_rows(S);  // the reference softmax: only the mask is under test
    for (std::size_t i = 0; i < S.rows(); ++i) {
      for (std::size_t j = i + 1; j < S.cols(); ++j) {
        INFO("weight (" << i << ", " << j << ") of a " << n << " x " << n + 1 << " causal attention");
        REQUIRE(S(i, j) == 0.0f);
      }
      INFO("query " << i << " must keep some weight on keys 0.." << i);
      CHECK(S(i, 0) > 0.0f);
    }
  }
  // Adding the mask matrix to the scores is the same as applying it.
  attn::matrix scores = attn::test::uniform_matrix(gen, 5, 5, -3.0f, 3.0f);
  const attn::matrix mask = attn::causal_mask(5);
  attn::matrix added = scores;
  for (std::size_t i = 0; i < 5; ++i) {
    for (std::size_t j = 0; j < 5; ++j) added(i, j) = scores(i, j) + mask(i, j);
  }
  ATTN_CHECK_ALL_CLOSE("scores + causal_mask(5)", masked(scores), added, 0.0, inputs().add("scores", scores));
}

TEST_CASE("one query over a million keys sees only the first of them", "[step3][special]") {
  const std::size_t n = 1000000;
  attn::matrix S(1, n, 0.5f);
  attn::apply_causal_mask(S);
  // Entry (0, 0) keeps its 0.5 exactly; every entry (0, j > 0) is exactly -inf.
  ATTN_CHECK_ALL_CLOSE("apply_causal_mask on a 1 x 10^6 score row", masked(attn::matrix(1, n, 0.5f)), S, 0.0);
}
