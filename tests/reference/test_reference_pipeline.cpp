// Steps 5-6 of the reference against the double oracle: the attention_weights pipeline,
// entropy, the softmax Jacobian and the dot-product variance; and every function giving
// the same kind of answer (NaN, +inf, -inf or finite) on every instruction set.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/catch.hpp"
#include "support/attention.hpp"
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

/// A probability row: the oracle softmax of normal scores, rounded to float.
std::vector<float> weights_row(std::mt19937_64& rng, std::size_t n, float spread) {
  const std::vector<double> a = oracle::softmax(std::span<const float>(normal_row(rng, n, spread)));
  return {a.begin(), a.end()};
}

/// What kind of value: NaN, +inf, -inf or finite. (A weight below FLT_MIN may be 0 on one
/// instruction set and subnormal on another; exact zeros for -inf scores are checked
/// against the oracle elsewhere.)
int kind(float v) {
  if (std::isnan(v)) return 0;
  if (v == kInf) return 1;
  return v == -kInf ? 2 : 3;
}

}  // namespace

TEST_CASE("reference attention weights agree with the double oracle, causal or not, on every instruction set",
          "[reference]") {
  auto rng = attn::test::rng(301);
  for (std::size_t d = 1; d <= 80; d += 3) {
    for (const auto& [n_q, n_k] : {std::pair<std::size_t, std::size_t>{5, 5}, {3, 17}, {9, 2}, {0, 3}, {1, 40}}) {
      for (const float spread : {1.0f, 8.0f}) {
        const std::vector<float> Q = normal_row(rng, n_q * d, spread), K = normal_row(rng, n_k * d, spread);
        for (const bool causal : {false, true}) {
          const std::vector<double> expected = oracle::attention_weights(Q, K, n_q, n_k, d, causal);
          for (const std::string& isa : supported_isas()) {
            ref::scoped_isa pin(isa);
            placed A(std::vector<float>(n_q * n_k, kNaN), d % 4);
            ref::attention_weights({Q.data(), n_q, d}, {K.data(), n_k, d}, {A.span().data(), n_q, n_k}, causal);
            comparison cmp(where(isa, d, d % 4) + " (d), " + std::to_string(n_q) + " x " + std::to_string(n_k) +
                           (causal ? ", causal" : ""));
            const std::vector<double> S = oracle::scores(Q, K, n_q, n_k, d);
            for (std::size_t i = 0; i < n_q; ++i) {
              std::vector<float> scores_row(n_k), a_row(n_k);
              for (std::size_t j = 0; j < n_k; ++j) {
                scores_row[j] = causal && j > i ? -kInf : static_cast<float>(S[i * n_k + j]);
                a_row[j] = static_cast<float>(expected[i * n_k + j]);
              }
              const double score_error = tol::visible_score_error({Q.data() + i * d, d}, {K.data(), n_k, d},
                                                                  tol::visible_keys(i, n_k, causal), 1);
              const std::vector<double> bound = tol::attention_row(scores_row, a_row, score_error, 1);
              for (std::size_t j = 0; j < n_k; ++j) {
                const bool masked = causal && j > i;
                cmp.element(i * n_k + j, A.span()[i * n_k + j], expected[i * n_k + j], masked ? 0.0 : bound[j]);
              }
            }
            if (!A.fences_intact()) cmp.fail("wrote outside A");
            ATTN_CHECK_AGREES(cmp);
          }
        }
      }
    }
  }
}

TEST_CASE("reference entropy agrees with the double oracle: ln n for uniform weights, 0 for one-hot, NaN for NaN",
          "[reference]") {
  auto rng = attn::test::rng(302);
  for (std::size_t n = 0; n <= 300; ++n) {
    std::vector<std::vector<float>> rows{weights_row(rng, n, 1.0f), weights_row(rng, n, 40.0f),
                                         std::vector<float>(n, n == 0 ? 0.0f : 1.0f / static_cast<float>(n))};
    if (n > 0) {
      std::vector<float> one_hot(n, 0.0f);
      one_hot[n / 3] = 1.0f;
      rows.push_back(one_hot);
      std::vector<float> with_nan = rows[0];
      with_nan[n / 2] = kNaN;
      rows.push_back(with_nan);
    }
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      comparison cmp(where(isa, n, 0));
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const double expected = oracle::entropy(rows[r]);
        cmp.element(r, ref::entropy(rows[r]), expected, std::isnan(expected) ? 0.0 : tol::entropy(rows[r], 1));
      }
      ATTN_CHECK_AGREES(cmp);
    }
  }
}

TEST_CASE("the reference softmax Jacobian is diag(a) - a a^T within the bound of each entry", "[reference]") {
  auto rng = attn::test::rng(303);
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::vector<float> a = weights_row(rng, n, 3.0f);
    const std::vector<double> expected = oracle::softmax_jacobian(a);
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      placed J(std::vector<float>(n * n, kNaN), n % 4);
      ref::softmax_jacobian(a, {J.span().data(), n, n});
      comparison cmp(where(isa, n, n % 4));
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
          cmp.element(i * n + j, J.span()[i * n + j], expected[i * n + j], tol::jacobian(a[i], a[j], i == j, 1));
        }
      }
      if (!J.fences_intact()) cmp.fail("wrote outside J");
      ATTN_CHECK_AGREES(cmp);
    }
  }
}

TEST_CASE("the reference dot-product variance is reproducible from its seed and close to d", "[reference]") {
  const std::uint64_t seed = attn::test::seed();
  for (const std::size_t d : {1u, 4u, 16u, 64u, 256u}) {
    const std::size_t samples = 2000;
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      INFO("isa " << isa << ", d = " << d << ", " << attn::test::seed_note());
      const double estimate = ref::dot_variance(d, samples, seed);
      CHECK(estimate == ref::dot_variance(d, samples, seed));
      CHECK(std::fabs(estimate - static_cast<double>(d)) <= tol::variance_estimate(d, samples));
    }
  }
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    CHECK(ref::dot_variance(0, 10, seed) == 0.0);
  }
}

TEST_CASE("the reference dot-product variance draws q then k from mt19937_64(seed) for each sample",
          "[reference]") {
  // The oracle repeats the documented draws; the only difference is the rounding of each
  // dot product (tol::squared_dot).
  const std::uint64_t seed = attn::test::seed();
  for (const std::size_t d : {1u, 7u, 33u, 100u}) {
    const std::size_t samples = 300;
    const oracle::variance_estimate e = oracle::dot_variance(d, samples, seed);
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      INFO("isa " << isa << ", d = " << d << ", " << attn::test::seed_note());
      CHECK(std::fabs(ref::dot_variance(d, samples, seed) - e.value) <= e.bound);
    }
  }
}

TEST_CASE("every instruction set gives the same kind of answer (NaN, +inf, -inf or finite) as the scalar one",
          "[reference]") {
  auto rng = attn::test::rng(304);
  const float specials[] = {kNaN, kInf, -kInf, 0.0f, 1e30f, -1e30f, 88.72f, -100.0f};
  for (std::size_t n = 0; n <= 100; ++n) {
    std::vector<float> x = normal_row(rng, n, 5.0f), y = normal_row(rng, n, 5.0f);
    std::uniform_int_distribution<std::size_t> pick(0, 2 * std::size(specials));
    for (float& v : x) {
      if (const std::size_t s = pick(rng); s < std::size(specials)) v = specials[s];
    }
    std::vector<std::vector<float>> answers;  // one per instruction set
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      std::vector<float> out{ref::dot(x, y), ref::log_sum_exp(x), ref::entropy(x)};
      std::vector<float> a = x;
      ref::stable_softmax(a);
      out.insert(out.end(), a.begin(), a.end());
      answers.push_back(out);
    }
    for (std::size_t s = 1; s < answers.size(); ++s) {
      comparison cmp(where(supported_isas()[s], n, 0) + " against scalar");
      for (std::size_t e = 0; e < answers[s].size(); ++e) {
        if (kind(answers[s][e]) != kind(answers[0][e])) {
          cmp.fail("entry " + std::to_string(e) + ": " + std::to_string(answers[s][e]) + " but scalar gives " +
                   std::to_string(answers[0][e]));
        }
      }
      ATTN_CHECK_AGREES(cmp);
    }
  }
}

TEST_CASE("attention_weights on several threads gives the single thread's bits, causal or not, on every instruction set",
          "[reference][threads]") {
  CHECK(ref::threads() == 1);  // the default: tests and single-thread benchmarks use one thread
  auto rng = attn::test::rng(305);
  // Large enough for threads to start (at least 2^21 multiply-adds left by the mask; the
  // causal 256 x 256 x 64 is just that), square and not, with a key count that leaves a
  // partial tile and some NaN rows.
  struct shape {
    std::size_t n_q, n_k, d;
  };
  for (const shape s : {shape{256, 256, 64}, shape{1024, 1024, 64}, shape{700, 1500, 67}}) {
    std::vector<float> Q = normal_row(rng, s.n_q * s.d), K = normal_row(rng, s.n_k * s.d);
    Q[5 * s.d + 3] = kNaN;  // row 5 is NaN throughout
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      for (const bool causal : {false, true}) {
        std::vector<float> one(s.n_q * s.n_k), several(s.n_q * s.n_k, -1.0f);
        ref::attention_weights({Q.data(), s.n_q, s.d}, {K.data(), s.n_k, s.d}, {one.data(), s.n_q, s.n_k}, causal);
        ref::set_threads(3);
        ref::attention_weights({Q.data(), s.n_q, s.d}, {K.data(), s.n_k, s.d}, {several.data(), s.n_q, s.n_k},
                               causal);
        ref::set_threads(1);
        std::size_t differ = 0;
        for (std::size_t e = 0; e < one.size(); ++e) {
          differ += std::bit_cast<std::uint32_t>(one[e]) != std::bit_cast<std::uint32_t>(several[e]);
        }
        INFO("isa " << isa << ", Q " << s.n_q << " x " << s.d << ", K " << s.n_k << " x " << s.d
                    << (causal ? ", causal" : "") << ": " << differ << " entries differ");
        CHECK(differ == 0);
        CHECK(std::isnan(several[5 * s.n_k]));
      }
    }
  }
  ref::set_threads(0);  // every hardware thread
  CHECK(ref::threads() >= 1);
  ref::set_threads(1);
}

TEST_CASE("attention_weights packs K on its threads, and one range's subnormal keys unfold the scale for all of them",
          "[reference][threads]") {
  // For d = 64, 1/8 is folded into K when every entry times it stays normal. The threads
  // pack K by ranges of panels; here only the last range's keys (1400 on) are so small that
  // an eighth of them is subnormal, which rounds, so folding there would change their
  // weights' low bits. Every range must then be packed unscaled, as one thread does.
  auto rng = attn::test::rng(307);
  constexpr std::size_t n_q = 1500, n_k = 1500, d = 64;
  std::uniform_real_distribution<float> magnitude(1.0f, 2.0f);
  std::bernoulli_distribution negative(0.5);
  const auto entry = [&](float scale) { return (negative(rng) ? -scale : scale) * magnitude(rng); };
  std::vector<float> Q(n_q * d), K(n_k * d);
  for (float& q : Q) q = entry(1e36f);
  for (std::size_t j = 0; j < n_k; ++j) {
    for (std::size_t l = 0; l < d; ++l) K[j * d + l] = entry(j < 1400 ? 1e-36f : 1.5e-38f);
  }
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    for (const bool causal : {false, true}) {
      std::vector<float> one(n_q * n_k), several(n_q * n_k, -1.0f);
      ref::attention_weights({Q.data(), n_q, d}, {K.data(), n_k, d}, {one.data(), n_q, n_k}, causal);
      ref::set_threads(3);
      ref::attention_weights({Q.data(), n_q, d}, {K.data(), n_k, d}, {several.data(), n_q, n_k}, causal);
      ref::set_threads(1);
      std::size_t differ = 0, small_weights = 0;
      for (std::size_t e = 0; e < one.size(); ++e) {
        differ += std::bit_cast<std::uint32_t>(one[e]) != std::bit_cast<std::uint32_t>(several[e]);
        small_weights += e % n_k >= 1400 && one[e] > 0.0f;
      }
      INFO("isa " << isa << (causal ? ", causal" : "") << ": " << differ << " entries differ");
      CHECK(differ == 0);
      CHECK(small_weights > 0);  // the small keys' weights are there to differ
    }
  }
}

TEST_CASE("attention_weights called from several threads at once, each with helpers, gives the single thread's bits",
          "[reference][threads]") {
  // The helpers are kept between calls and serve one call at a time; a call that finds them
  // busy starts helpers of its own. Four callers at once, each asking for two threads, over
  // several rounds, must each get exactly the single-thread answer.
  auto rng = attn::test::rng(306);
  constexpr std::size_t n = 1024, d = 64;
  const std::vector<float> Q = normal_row(rng, n * d), K = normal_row(rng, n * d);
  std::vector<float> one(n * n);
  ref::attention_weights({Q.data(), n, d}, {K.data(), n, d}, {one.data(), n, n}, true);
  ref::set_threads(2);
  constexpr std::size_t kCallers = 4, kRounds = 3;
  std::vector<std::vector<float>> got(kCallers, std::vector<float>(n * n));
  std::vector<std::size_t> differ(kCallers, 0);
  {
    std::vector<std::jthread> callers;
    for (std::size_t c = 0; c < kCallers; ++c) {
      callers.emplace_back([&, c] {
        for (std::size_t r = 0; r < kRounds; ++r) {
          std::fill(got[c].begin(), got[c].end(), -1.0f);
          ref::attention_weights({Q.data(), n, d}, {K.data(), n, d}, {got[c].data(), n, n}, true);
          for (std::size_t e = 0; e < one.size(); ++e) {
            differ[c] += std::bit_cast<std::uint32_t>(one[e]) != std::bit_cast<std::uint32_t>(got[c][e]);
          }
        }
      });
    }
  }  // the callers join here
  ref::set_threads(1);
  for (std::size_t c = 0; c < kCallers; ++c) {
    INFO("caller " << c << ": " << differ[c] << " entries differ from the single thread's over " << kRounds
                   << " calls");
    CHECK(differ[c] == 0);
  }
}

// The error bound of a row of weights counts only the keys its query sees
// (tol::visible_score_error). Counting a masked key would matter exactly here: a key the
// causal mask hides from queries 0 and 1 has scores near 1e8, whose rounding (about 6 in
// float) would make exp(2E) - 1 astronomically large and every weight of those rows pass,
// right or wrong. So the bounds of rows 0 and 1 must stay as tight as if the key were not
// there at all, while row 2, which sees it, gets the loose bound it deserves.
TEST_CASE("a key the causal mask hides does not loosen the bounds of the queries that cannot see it", "[reference]") {
  const attn::matrix Q{{1.0f, 0.5f}, {-0.25f, 2.0f}, {0.5f, 0.5f}};
  const attn::matrix K{{0.5f, -1.0f}, {2.0f, 0.25f}, {1e8f, 1e8f}};
  const attn::matrix K_seen{{0.5f, -1.0f}, {2.0f, 0.25f}};
  const attn::matrix V{{1.0f, -2.0f}, {3.0f, 0.5f}, {-1.0f, 4.0f}};
  for (std::size_t i = 0; i < 2; ++i) {
    const double hidden = tol::visible_score_error(Q.row(i), K, tol::visible_keys(i, 3, true));
    const double without = tol::visible_score_error(Q.row(i), K_seen, tol::visible_keys(i, 2, true));
    CHECK(hidden == without);
    CHECK(hidden < 1e-5);
  }
  CHECK(tol::visible_score_error(Q.row(2), K, tol::visible_keys(2, 3, true)) > 1.0);
  // The bounds the step 7 and 9 tests grade with (support/attention.hpp): the outputs of
  // queries 0 and 1 are judged to within a few float roundings, so an output off by 1e-4
  // fails; with the masked key counted they would be judged to within more than 1. They
  // equal the bounds of the same queries without the hidden key up to the length of the row.
  const attn::test::expected_attention e = attn::test::reference_attention(Q, K, V, true, false);
  const attn::test::expected_attention seen = attn::test::reference_attention(
      attn::matrix{{1.0f, 0.5f}, {-0.25f, 2.0f}}, K_seen, attn::matrix{{1.0f, -2.0f}, {3.0f, 0.5f}}, true, false);
  for (std::size_t k = 0; k < 4; ++k) {  // rows 0 and 1, two columns each
    INFO("output element " << k << ": bound " << e.bounds[k] << ", without the hidden key " << seen.bounds[k]);
    // The row's length still enters the roundings' gamma_n (3 keys against 2), nothing else.
    CHECK(e.bounds[k] <= 1.25 * seen.bounds[k]);
    CHECK(e.bounds[k] < 1e-4);
  }
}

// tol::visible_score_error from precomputed sums (what the benchmarks keep for every pair)
// is the same number as from the query and the keys, and a key with an infinite or NaN
// factor does not count: its exact score is -inf, +inf or NaN, which the contract answers
// exactly. Counting it would make the score error infinite and bound nothing.
TEST_CASE("the score error of a row is the same from the sums, and skips keys with an infinite or NaN factor",
          "[reference]") {
  auto rng = attn::test::rng(320);
  for (const std::size_t d : {1u, 7u, 64u}) {
    const std::size_t n_k = 9;
    const std::vector<float> q = normal_row(rng, d, 3.0f), K = normal_row(rng, n_k * d, 3.0f);
    std::vector<double> sums(n_k);
    for (std::size_t j = 0; j < n_k; ++j) sums[j] = sum_abs_products(q, {K.data() + j * d, d});
    for (const std::size_t visible : {0u, 1u, 5u, 9u, 12u}) {
      INFO("d = " << d << ", visible = " << visible);
      CHECK(tol::visible_score_error(d, sums, visible, 1) == tol::visible_score_error(q, {K.data(), n_k, d}, visible, 1));
      CHECK(tol::visible_score_error(d, sums, visible) == tol::visible_score_error(q, {K.data(), n_k, d}, visible));
    }
  }
  // sum_t |q_t k_t| of the two finite keys: 0.5 + 0.5 = 1 and 2 + 0.125 = 2.125.
  const attn::matrix q{{1.0f, 0.5f}};
  const attn::matrix finite{{0.5f, -1.0f}, {2.0f, 0.25f}};
  const attn::matrix special{{0.5f, -1.0f}, {2.0f, 0.25f}, {-kInf, 1.0f}, {kNaN, 0.0f}, {kInf, 0.0f}};
  CHECK(tol::visible_score_error(q.row(0), finite, 2, 1) == tol::scaled_score(2, 2.125, 1));
  CHECK(tol::visible_score_error(q.row(0), special, 5, 1) == tol::scaled_score(2, 2.125, 1));
  CHECK(tol::visible_score_error(2, std::vector<double>{1.0, 2.125, kInf, kNaN}, 4, 1) == tol::scaled_score(2, 2.125, 1));
  // A key whose score is -inf gets weight exactly 0, and the others stay within the bound
  // that the finite score error gives them.
  const std::vector<float> Q{1.0f, 0.5f}, K{0.5f, -1.0f, 2.0f, 0.25f, -kInf, 1.0f};
  const std::vector<double> expected = oracle::attention_weights(Q, K, 1, 3, 2, false);
  const std::vector<double> S = oracle::scores(Q, K, 1, 3, 2);
  const std::vector<float> beta(S.begin(), S.end()), a(expected.begin(), expected.end());
  REQUIRE(S[2] == -kInf);
  const double score_error = tol::visible_score_error({Q.data(), 2}, {K.data(), 3, 2}, 3, 1);
  REQUIRE(std::isfinite(score_error));
  const std::vector<double> bound = tol::attention_row(beta, a, score_error, 1);
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    std::vector<float> A(3, kNaN);
    ref::attention_weights({Q.data(), 1, 2}, {K.data(), 3, 2}, {A.data(), 1, 3}, false);
    comparison cmp("isa " + isa + ", a key with score -inf");
    for (std::size_t j = 0; j < 3; ++j) cmp.element(j, A[j], expected[j], j == 2 ? 0.0 : bound[j]);
    ATTN_CHECK_AGREES(cmp);
  }
}
