// Steps 1-3 of the reference against the double oracle: dot, scaled_score, scores and
// the causal mask, on every instruction set, every length 0..300 and unaligned data.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

#include "helpers.hpp"
#include "support/generators.hpp"

namespace {

namespace ref = attn::ref;
namespace oracle = attn::test::oracle;
namespace tol = attn::test::tol;
using namespace attn::test::reference;
using attn::test::sum_abs_products;

/// Components spread over many binades, so that products cancel and round differently.
std::vector<float> spread_row(std::mt19937_64& rng, std::size_t n) {
  std::vector<float> x = normal_row(rng, n);
  std::uniform_int_distribution<int> binade(-12, 12);
  for (float& v : x) v = std::ldexp(v, binade(rng));
  return x;
}

/// ref::scores of Q (n_q x d) and K (n_k x d), placed `offset` floats off alignment (S and
/// K the next offsets), on the pinned instruction set `isa`: every entry within one
/// implementation's scaled_score() bound of the oracle's `expected`, nothing written
/// outside S.
void check_scores(const std::string& isa, const std::vector<float>& Q, const std::vector<float>& K,
                  const std::vector<double>& expected, std::size_t n_q, std::size_t n_k, std::size_t d,
                  std::size_t offset) {
  const placed pQ(Q, offset), pK(K, (offset + 1) % 4);
  placed pS(std::vector<float>(n_q * n_k, kNaN), (offset + 2) % 4);
  ref::scores({pQ.span().data(), n_q, d}, {pK.span().data(), n_k, d}, {pS.span().data(), n_q, n_k});
  comparison cmp(where(isa, d, offset) + " (d), " + std::to_string(n_q) + " x " + std::to_string(n_k));
  for (std::size_t i = 0; i < n_q; ++i) {
    for (std::size_t j = 0; j < n_k; ++j) {
      const std::span<const float> q(Q.data() + i * d, d), k(K.data() + j * d, d);
      cmp.element(i * n_k + j, pS.span()[i * n_k + j], expected[i * n_k + j],
                  tol::scaled_score(d, sum_abs_products(q, k), 1));
    }
  }
  if (!pS.fences_intact()) cmp.fail("wrote outside S");
  ATTN_CHECK_AGREES(cmp);
}

}  // namespace

TEST_CASE("the reference dot product agrees with the double oracle for every length 0..300 on every instruction set",
          "[reference]") {
  auto rng = attn::test::rng(101);
  for (const std::size_t n : all_lengths()) {
    const std::vector<float> q = spread_row(rng, n), k = spread_row(rng, n);
    const double expected = oracle::dot(q, k);
    const double bound = tol::dot(n, sum_abs_products(q, k), 1);
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      for (const std::size_t offset : kOffsets) {
        const placed pq(q, offset), pk(k, 3 - offset);
        comparison cmp(where(isa, n, offset));
        cmp.element(0, ref::dot(pq.span(), pk.span()), expected, bound);
        const float scaled = n == 0 ? 0.0f : ref::scaled_score(pq.span(), pk.span());
        if (n > 0) cmp.element(1, scaled, oracle::scaled_score(q, k), tol::scaled_score(n, sum_abs_products(q, k), 1));
        if (!pq.fences_intact() || !pk.fences_intact()) cmp.fail("wrote outside its inputs");
        ATTN_CHECK_AGREES(cmp);
      }
    }
  }
}

TEST_CASE("the reference dot product of empty vectors is exactly zero", "[reference]") {
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    INFO("isa " << isa);
    CHECK(std::bit_cast<std::uint32_t>(ref::dot({}, {})) == std::bit_cast<std::uint32_t>(0.0f));
  }
}

TEST_CASE("a NaN or an infinity anywhere in the dot product reaches the result on every instruction set",
          "[reference]") {
  auto rng = attn::test::rng(102);
  for (std::size_t n = 1; n <= 140; ++n) {
    const std::vector<float> q = normal_row(rng, n), k = normal_row(rng, n);
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      comparison cmp(where(isa, n, 0));
      for (std::size_t p = 0; p < n; ++p) {
        for (const float special : {kNaN, kInf, -kInf}) {
          std::vector<float> qs = q;
          qs[p] = special;
          cmp.element(p, ref::dot(qs, k), oracle::dot(qs, k), 0.0);  // +-inf * k_p, or NaN
          std::vector<float> ks = k;
          ks[p] = 0.0f;
          cmp.element(p, ref::dot(qs, ks), oracle::dot(qs, ks), 0.0);  // inf * 0 = NaN
        }
      }
      ATTN_CHECK_AGREES(cmp);
    }
  }
}

TEST_CASE("reference scores are every query-key dot product over sqrt(d), for every d, shape and offset",
          "[reference]") {
  auto rng = attn::test::rng(103);
  for (std::size_t d = 1; d <= 200; d += (d < 70 ? 1 : 13)) {
    for (const auto& [n_q, n_k] : {std::pair<std::size_t, std::size_t>{3, 5}, {1, 1}, {0, 4}, {4, 0}, {7, 2}}) {
      const std::vector<float> Q = spread_row(rng, n_q * d), K = spread_row(rng, n_k * d);
      const std::vector<double> expected = oracle::scores(Q, K, n_q, n_k, d);
      for (const std::string& isa : supported_isas()) {
        ref::scoped_isa pin(isa);
        for (const std::size_t offset : kOffsets) {
          check_scores(isa, Q, K, expected, n_q, n_k, d, offset);
        }
      }
    }
  }
}

// scores() goes over the keys in chunks of at most 2^16 / d (packed panels of 256 KiB), all
// blocks of rows per chunk: these shapes take three to five chunks, the last one ending in a
// partial panel, and blocks of rows ending in a partial block.
TEST_CASE("reference scores of many keys (several chunks of packed keys) agree with the double oracle",
          "[reference]") {
  auto rng = attn::test::rng(107);
  for (const std::size_t d : {128, 256}) {
    const std::size_t n_q = 13, n_k = 1100;
    const std::vector<float> Q = spread_row(rng, n_q * d), K = spread_row(rng, n_k * d);
    const std::vector<double> expected = oracle::scores(Q, K, n_q, n_k, d);
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      check_scores(isa, Q, K, expected, n_q, n_k, d, 1);
    }
  }
}

TEST_CASE("the card's scaled score is -0.5 on every instruction set", "[reference]") {
  const std::vector<float> q{2.0f, 0.5f, 1.0f, -1.5f}, k{1.0f, 1.0f, -0.5f, 2.0f};
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    INFO("isa " << isa);
    CHECK(ref::dot(q, k) == -1.0f);
    CHECK(ref::scaled_score(q, k) == -0.5f);
  }
}

TEST_CASE("the reference causal mask is exactly 0 on and below the diagonal and -inf above it",
          "[reference]") {
  for (std::size_t n = 0; n <= 40; ++n) {
    const attn::matrix mask = ref::causal_mask(n);
    const std::vector<double> expected = oracle::causal_mask(n);
    REQUIRE(mask.rows() == n);
    REQUIRE(mask.cols() == n);
    comparison cmp("causal_mask(" + std::to_string(n) + ")");
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        cmp.element(i * n + j, mask(i, j), expected[i * n + j], 0.0);
        if (j <= i && std::signbit(mask(i, j))) cmp.fail("-0 instead of +0 at (" + std::to_string(i) + ", " + std::to_string(j) + ")");
      }
    }
    ATTN_CHECK_AGREES(cmp);
  }
}

TEST_CASE("applying the causal mask overwrites every future entry with -inf and leaves the rest bit for bit",
          "[reference]") {
  auto rng = attn::test::rng(104);
  const float specials[] = {kNaN, kInf, -kInf, -0.0f, 1e30f, std::numeric_limits<float>::denorm_min()};
  for (std::size_t rows = 0; rows <= 12; ++rows) {
    for (std::size_t cols = 0; cols <= 12; ++cols) {
      std::vector<float> before = normal_row(rng, rows * cols);
      for (std::size_t e = 0; e < before.size(); e += 3) before[e] = specials[e % std::size(specials)];
      placed S(before, rows % 4);
      ref::apply_causal_mask({S.span().data(), rows, cols});
      comparison cmp(std::to_string(rows) + " x " + std::to_string(cols));
      for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
          const float after = S.span()[i * cols + j];
          const bool kept = std::bit_cast<std::uint32_t>(after) == std::bit_cast<std::uint32_t>(before[i * cols + j]);
          if (j > i ? after != -kInf : !kept) {
            cmp.fail("(" + std::to_string(i) + ", " + std::to_string(j) + ") is " + std::to_string(after));
          }
        }
      }
      if (!S.fences_intact()) cmp.fail("wrote outside S");
      ATTN_CHECK_AGREES(cmp);
    }
  }
}
