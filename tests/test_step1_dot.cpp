// Step 1: the dot product q . k = sum_t q_t k_t, how well a query matches a key.
// Expected values come from the cards, from arithmetic that is exact in float, or from
// attn::ref::dot; tolerances from tests/support/tolerances.hpp.
#include <attn/attn.hpp>

#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/tolerances.hpp"

namespace {

namespace tol = attn::test::tol;
using attn::test::inputs;
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

}  // namespace

TEST_CASE("the card's query and key have dot product -1", "[step1][card]") {
  // 2.0*1.0 + 0.5*1.0 + 1.0*(-0.5) + (-1.5)*2.0 = 2 + 0.5 - 0.5 - 3 = -1.
  const std::vector<float> q{2.0f, 0.5f, 1.0f, -1.5f};
  const std::vector<float> k{1.0f, 1.0f, -0.5f, 2.0f};
  ATTN_CHECK_CLOSE("dot(q, k)", -1.0, attn::dot(q, k), tol::dot(4, 6.0, 1),
                   inputs().add("q", q).add("k", k));
}

TEST_CASE("a query matches itself by its squared length", "[step1][property]") {
  // Every product and partial sum here is a small integer: exact in float, any order.
  const std::vector<float> q{1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f};
  ATTN_CHECK_CLOSE("dot(q, q)", 285.0, attn::dot(q, q), 0.0, inputs().add("q", q));
  // The last element counts: a loop that stops one short would give 285 - 81.
  const std::vector<float> e_last{0, 0, 0, 0, 0, 0, 0, 0, 1.0f};
  ATTN_CHECK_CLOSE("dot(q, e_8)", 9.0, attn::dot(q, e_last), 0.0, inputs().add("q", q));
  const std::vector<float> e_first{1.0f, 0, 0, 0, 0, 0, 0, 0, 0};
  ATTN_CHECK_CLOSE("dot(q, e_0)", 1.0, attn::dot(q, e_first), 0.0, inputs().add("q", q));
}

TEST_CASE("orthogonal query and key have dot product 0", "[step1][property]") {
  const std::vector<float> q{1.0f, -2.0f, 0.5f, 0.0f};
  const std::vector<float> k{2.0f, 1.0f, 0.0f, 7.0f};
  ATTN_CHECK_CLOSE("dot(q, k)", 0.0, attn::dot(q, k), 0.0, inputs().add("q", q).add("k", k));
}

TEST_CASE("the dot product of empty vectors is 0", "[step1][special]") {
  const std::vector<float> none;
  ATTN_CHECK_CLOSE("dot([], [])", 0.0, attn::dot(none, none), 0.0);
  ATTN_CHECK_CLOSE("dot of empty spans", 0.0,
                   attn::dot(std::span<const float>(), std::span<const float>()), 0.0);
}

TEST_CASE("the dot product agrees with the reference for every length (every SIMD tail)", "[step1][property]") {
  auto gen = attn::test::rng(101);
  for (const std::size_t d : attn::test::tail_sizes()) {
    const auto q = attn::test::uniform_row(gen, d, -1.0f, 1.0f);
    const auto k = attn::test::uniform_row(gen, d, -1.0f, 1.0f);
    const double expected = attn::ref::dot(q, k);
    const double bound = tol::dot(d, attn::test::sum_abs_products(q, k));
    ATTN_CHECK_CLOSE("dot(q, k) for d = " + std::to_string(d), expected, attn::dot(q, k), bound,
                     inputs().add("q", q).add("k", k));
  }
}

TEST_CASE("the dot product stays accurate under cancellation and wide ranges", "[step1][property]") {
  auto gen = attn::test::rng(102);
  for (const std::size_t d : {3u, 17u, 64u, 257u, 1000u}) {
    // Entries from 1e-3 to 1e3 in magnitude, both signs: large cancellation, the
    // tolerance scales with sum |q_t k_t| as the error analysis says it must.
    const auto q = attn::test::wide_row(gen, d, 3);
    const auto k = attn::test::wide_row(gen, d, 3);
    const double expected = attn::ref::dot(q, k);
    const double bound = tol::dot(d, attn::test::sum_abs_products(q, k));
    ATTN_CHECK_CLOSE("dot(q, k) for d = " + std::to_string(d), expected, attn::dot(q, k), bound,
                     inputs().add("q", q).add("k", k));
  }
}

TEST_CASE("the dot product is symmetric and linear in its arguments", "[step1][property]") {
  auto gen = attn::test::rng(103);
  for (const std::size_t d : {1u, 5u, 16u, 33u, 129u}) {
    const auto q = attn::test::uniform_row(gen, d, -2.0f, 2.0f);
    const auto k = attn::test::uniform_row(gen, d, -2.0f, 2.0f);
    const double sum_abs = attn::test::sum_abs_products(q, k);
    const float qk = attn::dot(q, k);
    // k . q and q . k are the same sum; each is within tol::dot(d, ., 1) of the exact value.
    ATTN_CHECK_CLOSE("dot(k, q) vs dot(q, k), d = " + std::to_string(d), qk, attn::dot(k, q),
                     tol::dot(d, sum_abs), inputs().add("q", q).add("k", k));
    // (2q) . k = 2 (q . k): scaling by 2 is exact, so the errors scale exactly too.
    std::vector<float> q2(q);
    for (float& x : q2) x *= 2.0f;
    ATTN_CHECK_CLOSE("dot(2q, k) vs 2 dot(q, k), d = " + std::to_string(d), 2.0 * qk,
                     attn::dot(q2, k), 2.0 * tol::dot(d, sum_abs), inputs().add("q", q).add("k", k));
  }
}

TEST_CASE("a query and a key of different lengths are refused", "[step1][input]") {
  // k views a longer buffer, so even a solution that forgets the check reads nothing out
  // of bounds here: it just returns a number instead of throwing.
  const std::vector<float> storage{1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f};
  const std::span<const float> q3(storage.data(), 3);
  const std::span<const float> k5(storage.data(), 5);
  // The message names dot and both sizes, so the student can see which call went wrong.
  ATTN_REQUIRE_INVALID(attn::dot(q3, k5), "dot", 3, 5);
  ATTN_REQUIRE_INVALID(attn::dot(k5, q3), "dot", 5, 3);
  ATTN_REQUIRE_INVALID(attn::dot(std::span<const float>(), q3), "dot", 0, 3);
  ATTN_REQUIRE_INVALID(attn::dot(q3, std::span<const float>()), "dot", 3, 0);
}

TEST_CASE("NaN in q or k gives a NaN dot product", "[step1][special]") {
  for (const std::size_t d : {1u, 4u, 9u, 33u}) {
    for (std::size_t at : {std::size_t{0}, d / 2, d - 1}) {
      std::vector<float> q(d, 1.0f), k(d, 0.5f);
      q[at] = qnan;
      ATTN_CHECK_CLOSE("dot with NaN in q[" + std::to_string(at) + "]", qnan, attn::dot(q, k), 0.0,
                       inputs().add("q", q).add("k", k));
      ATTN_CHECK_CLOSE("dot with NaN in k[" + std::to_string(at) + "]", qnan, attn::dot(k, q), 0.0,
                       inputs().add("q", k).add("k", q));
    }
  }
  // inf * 0 is NaN, and a NaN must never be hidden.
  const std::vector<float> q{inf, 1.0f}, k{0.0f, 1.0f};
  ATTN_CHECK_CLOSE("dot([inf, 1], [0, 1])", qnan, attn::dot(q, k), 0.0);
}

TEST_CASE("infinities in the dot product follow IEEE arithmetic", "[step1][special]") {
  const std::vector<float> q{inf, 1.0f, 2.0f}, k{1.0f, 1.0f, 1.0f}, kn{-2.0f, 1.0f, 1.0f};
  ATTN_CHECK_CLOSE("dot([inf, 1, 2], [1, 1, 1])", inf, attn::dot(q, k), 0.0);
  ATTN_CHECK_CLOSE("dot([inf, 1, 2], [-2, 1, 1])", -inf, attn::dot(q, kn), 0.0);
  const std::vector<float> a{inf, -inf}, b{1.0f, 1.0f};
  ATTN_CHECK_CLOSE("dot([inf, -inf], [1, 1])", qnan, attn::dot(a, b), 0.0);
}

TEST_CASE("a dot product of a million components misses none of them", "[step1][special]") {
  // Every partial sum of these products is an integer below 2^24, so it is exact in float
  // whatever the summation order: the answer must be exactly right.
  const std::size_t d = 1000000;
  const std::vector<float> ones(d, 1.0f);
  std::vector<float> k(d, 1.0f);
  k.front() = 3.0f;
  k.back() = 2.0f;
  ATTN_CHECK_CLOSE("dot(ones, ones) for d = 10^6", 1e6, attn::dot(ones, ones), 0.0);
  ATTN_CHECK_CLOSE("dot(ones, [3, 1, ..., 1, 2]) for d = 10^6", 1e6 + 3.0, attn::dot(ones, k), 0.0);
}

TEST_CASE("a dot product beyond the largest float is an infinity of the right sign", "[step1][special]") {
  // 1e20 * 1e20 = 1e40 > FLT_MAX = 3.4e38: every correct solution, float or double
  // accumulator, ends at +-inf, never at a wrapped or clamped finite number.
  const std::vector<float> q{1e20f, 1e20f}, k{1e20f, 1e20f}, minus_k{-1e20f, -1e20f};
  ATTN_CHECK_CLOSE("dot([1e20, 1e20], [1e20, 1e20])", inf, attn::dot(q, k), 0.0, inputs().add("q", q).add("k", k));
  ATTN_CHECK_CLOSE("dot([1e20, 1e20], [-1e20, -1e20])", -inf, attn::dot(q, minus_k), 0.0,
                   inputs().add("q", q).add("k", minus_k));
}

TEST_CASE("products that underflow to denormals still count", "[step1][special]") {
  // 1e-22 * 1e-22 = 1e-44 is below FLT_MIN = 1.2e-38: a denormal float. tol::dot allows
  // one denormal spacing per underflowing operation, not a flush to zero.
  for (const std::size_t d : {1u, 5u, 16u, 37u}) {
    std::vector<float> q(d), k(d);
    for (std::size_t t = 0; t < d; ++t) {
      q[t] = 1e-22f * static_cast<float>(t % 3 + 1);
      k[t] = 1e-22f;
    }
    const double exact = [&] {
      double s = 0.0;
      for (std::size_t t = 0; t < d; ++t) s += static_cast<double>(q[t]) * static_cast<double>(k[t]);
      return s;
    }();
    ATTN_CHECK_CLOSE("dot of denormal products, d = " + std::to_string(d), exact, attn::dot(q, k),
                     tol::dot(d, attn::test::sum_abs_products(q, k), 1), inputs().add("q", q).add("k", k));
  }
}
