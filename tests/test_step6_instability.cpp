// Step 6: why attention training goes unstable. Unscaled scores have variance d
// (dot_variance), so their softmax saturates: nearly one-hot weights (entropy near 0) and
// a Jacobian J = diag(a) - a a^T near 0 that passes almost no gradient. Expected values
// come from the cards, exact arithmetic, or attn::ref; tolerances from tolerances.hpp.
#include <attn/attn.hpp>

#include <cmath>
#include <cstdint>
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
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

/// The bound on one implementation's Jacobian against the exact one, entry by entry.
std::vector<double> jacobian_bounds(std::span<const float> a, int implementations) {
  std::vector<double> b;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < a.size(); ++j) b.push_back(tol::jacobian(a[i], a[j], i == j, implementations));
  }
  return b;
}

}  // namespace

TEST_CASE("dot_variance estimates Var[q.k] = 64 for d = 64 within six standard deviations", "[step6][property]") {
  const std::uint64_t seed = attn::test::seed();
  // 20000 samples: six standard deviations are 3.9, so 64 is told from d^2 = 4096, 1 (divided
  // by d) or 0 (the mean squared) at once.
  const double estimate = attn::dot_variance(64, 20000, seed);
  ATTN_CHECK_CLOSE("dot_variance(64, 20000, seed)", 64.0, estimate, tol::variance_estimate(64, 20000),
                   inputs().add("seed", static_cast<double>(seed)));
}

TEST_CASE("the variance of q.k is d: exactly over every sign pattern, and as dot_variance estimates", "[step6][property]") {
  const std::uint64_t seed = attn::test::seed();
  for (std::size_t d = 1; d <= 10; ++d) {
    ATTN_CHECK_CLOSE("dot_variance(" + std::to_string(d) + ", 20000, seed)", static_cast<double>(d),
                     attn::dot_variance(d, 20000, seed + d), tol::variance_estimate(d, 20000));
    // q ranges over all 2^d vectors of +-1, k is a fixed +-1 vector: each q.k is a small
    // integer (exact in float), its mean is 0 and the mean of its square is exactly d.
    std::vector<float> k(d);
    for (std::size_t t = 0; t < d; ++t) k[t] = (t % 3 == 1) ? -1.0f : 1.0f;
    double sum = 0.0, sum_sq = 0.0;
    const std::size_t patterns = std::size_t{1} << d;
    for (std::size_t bits = 0; bits < patterns; ++bits) {
      std::vector<float> q(d);
      for (std::size_t t = 0; t < d; ++t) q[t] = ((bits >> t) & 1u) ? -1.0f : 1.0f;
      const double qk = attn::dot(q, k);  // the student's own dot product (step 1)
      sum += qk;
      sum_sq += qk * qk;
    }
    ATTN_CHECK_CLOSE("mean of q.k over all sign patterns, d = " + std::to_string(d), 0.0,
                     sum / static_cast<double>(patterns), 0.0);
    ATTN_CHECK_CLOSE("mean of (q.k)^2 over all sign patterns, d = " + std::to_string(d), static_cast<double>(d),
                     sum_sq / static_cast<double>(patterns), 0.0);
  }
}

TEST_CASE("the same seed gives the same variance estimate", "[step6][property]") {
  const std::uint64_t seed = attn::test::seed();
  const double first = attn::dot_variance(16, 2000, seed);
  const double again = attn::dot_variance(16, 2000, seed);
  INFO("dot_variance(16, 2000, " << seed << ") gave " << first << " and then " << again);
  CHECK(first == again);
  const double other = attn::dot_variance(16, 2000, seed + 1);
  INFO("a different seed should draw different samples: " << first << " vs " << other);
  CHECK(first != other);
}

TEST_CASE("scaling by 1/sqrt(d) brings the variance of the scores back to 1", "[step6][property]") {
  // Var[q.k / sqrt(d)] = Var[q.k] / d = 1 (tol::scaled_variance_estimate).
  // Sample counts: enough to tell 1 from 1/sqrt(d) or sqrt(d) (a wrong scaling) by far more
  // than six standard deviations (0.15 and 0.21 for d = 16), few enough to keep the step's
  // verdict quick: each score of the loop is one call into the student's code.
  auto gen = attn::test::rng(601);
  const std::size_t samples = 4000, scored = 2000;
  for (const std::size_t d : {16u, 64u, 256u}) {
    const double dd = static_cast<double>(d);
    ATTN_CHECK_CLOSE("dot_variance(d, N, seed) / d for d = " + std::to_string(d), 1.0,
                     attn::dot_variance(d, samples, attn::test::seed()) / dd, tol::scaled_variance_estimate(d, samples));
    double sum_sq = 0.0;
    for (std::size_t s = 0; s < scored; ++s) {
      const auto q = attn::test::gaussian_row(gen, d);
      const auto k = attn::test::gaussian_row(gen, d);
      const double score = attn::scaled_score(q, k);  // the student's own scaled score (step 2)
      sum_sq += score * score;
    }
    ATTN_CHECK_CLOSE("mean squared scaled score for d = " + std::to_string(d), 1.0,
                     sum_sq / static_cast<double>(scored), tol::scaled_variance_estimate(d, scored));
  }
}

TEST_CASE("dot_variance refuses zero samples and gives 0 for d = 0", "[step6][input]") {
  ATTN_REQUIRE_INVALID(attn::dot_variance(8, 0, 1), "dot_variance", 0);
  ATTN_CHECK_CLOSE("dot_variance(0, 10, seed)", 0.0, attn::dot_variance(0, 10, attn::test::seed()), 0.0);
}

TEST_CASE("one or two samples give a finite, non-negative estimate: the mean of the squares divides by N", "[step6][special]") {
  // (1/N) sum_s (q_s . k_s)^2 is a mean of squares: finite and >= 0 for any N >= 1. Dividing
  // by N - 1 (the sample variance's correction, wrong here: the mean 0 is known) makes N = 1
  // a division by zero.
  for (const std::size_t samples : {1u, 2u}) {
    for (const std::size_t d : {1u, 4u, 64u}) {
      const double v = attn::dot_variance(d, samples, attn::test::seed());
      INFO("dot_variance(" << d << ", " << samples << ", seed) = " << v << "; expected a finite value >= 0");
      CHECK(std::isfinite(v));
      CHECK(v >= 0.0);
    }
  }
}

TEST_CASE("one sample gives that sample's (q.k)^2, which is positive: the known mean 0 is not subtracted",
          "[step6][special]") {
  // With N = 1 the estimate (1/N) sum_s (q_s . k_s)^2 is one square, (q.k)^2, and q.k is 0 only
  // by an exact cancellation: for d = 1024 a float dot product of standard normal vectors comes
  // out exactly 0 about once in 10^9 draws. Subtracting the sample mean (the variance of the
  // N dot products about their own mean) gives exactly 0 for one sample, whatever it is. The
  // draws themselves are the implementation's choice, so only the sign is checked here.
  const std::uint64_t seed = attn::test::seed();
  for (const std::uint64_t s : {seed, seed + 1}) {
    const double v = attn::dot_variance(1024, 1, s);
    INFO("dot_variance(1024, 1, " << s << ") = " << v
                                  << "; one sample's (q.k)^2 must be positive (0 means the sample mean was "
                                     "subtracted, or one sample was not counted)");
    CHECK(std::isfinite(v));
    CHECK(v > 0.0);
  }
}

TEST_CASE("averaged over many seeds, one- and two-sample estimates are about d: the mean of the squares over N",
          "[step6][property]") {
  // E[(q.k)^2] = d for every sample, so the estimate is unbiased for any N: its average over
  // S seeds (independent draws) is a mean of S N squares and lies within
  // tol::variance_estimate(d, S N) of d. Subtracting the sample mean makes it d (1 - 1/N) on
  // average (0 for N = 1, d / 2 for N = 2); dividing by N + 1, d N / (N + 1).
  const std::uint64_t seed = attn::test::seed();
  const std::size_t d = 16, seeds = 1000;
  for (const std::size_t samples : {1u, 2u}) {
    double sum = 0.0;
    for (std::size_t s = 0; s < seeds; ++s) sum += attn::dot_variance(d, samples, seed + 7919 * s);
    const double mean = sum / static_cast<double>(seeds);
    const std::string what = "dot_variance(16, " + std::to_string(samples) + ", seed) averaged over " +
                             std::to_string(seeds) + " seeds (E[(q.k)^2] = d = 16 for every sample)";
    ATTN_CHECK_CLOSE(what, static_cast<double>(d), mean, tol::variance_estimate(d, seeds * samples),
                     inputs().add("seed", static_cast<double>(seed)));
  }
}

TEST_CASE("uniform weights over n positions have entropy ln n", "[step6][property]") {
  // n a power of two: 1/n is exact in float, so the entropy is exactly ln n.
  for (std::size_t n = 1; n <= 4096; n *= 2) {
    const std::vector<float> a(n, 1.0f / static_cast<float>(n));
    ATTN_CHECK_CLOSE("entropy of " + std::to_string(n) + " uniform weights", std::log(static_cast<double>(n)),
                     attn::entropy(a), tol::entropy(a, 1));
  }
  // Otherwise the weights are fl(1/n), and the exact entropy of those floats is the target.
  for (const std::size_t n : {3u, 5u, 7u, 17u, 33u, 1000u}) {
    const std::vector<float> a(n, 1.0f / static_cast<float>(n));
    ATTN_CHECK_CLOSE("entropy of " + std::to_string(n) + " uniform weights", oracle::entropy(a), attn::entropy(a),
                     tol::entropy(a, 1));
  }
}

TEST_CASE("one-hot weights have entropy 0: 0 ln 0 counts as 0", "[step6][special]") {
  for (const std::size_t n : {1u, 2u, 5u, 17u, 64u}) {
    for (const std::size_t at : {std::size_t{0}, n / 2, n - 1}) {
      std::vector<float> a(n, 0.0f);
      a[at] = 1.0f;
      ATTN_CHECK_CLOSE("entropy of one-hot weights at " + std::to_string(at) + " of " + std::to_string(n), 0.0,
                       attn::entropy(a), tol::entropy(a, 1), inputs().add("a", a));
    }
  }
}

TEST_CASE("entropy matches the reference for weights of every length", "[step6][property]") {
  auto gen = attn::test::rng(602);
  for (const std::size_t n : attn::test::tail_sizes()) {
    for (const float spread : {1.0f, 10.0f}) {
      std::vector<float> a = attn::test::uniform_row(gen, n, -spread, spread);
      attn::ref::stable_softmax(a);
      ATTN_CHECK_CLOSE("entropy of softmax weights, n = " + std::to_string(n), attn::ref::entropy(a),
                       attn::entropy(a), tol::entropy(a), inputs().add("a", a));
    }
  }
}

TEST_CASE("the card's scaled scores [112, 96] / 8 give weights [0.8808, 0.1192] and entropy 0.365 nats", "[step6][card]") {
  // d = 64: sqrt(d) = 8, so the scaled scores are [14, 12] and the weights 1 / (1 + e^-2).
  const std::vector<float> scaled{112.0f / 8.0f, 96.0f / 8.0f};
  std::vector<float> a = scaled;
  attn::ref::stable_softmax(a);  // the reference softmax: only the entropy is under test
  ATTN_CHECK_ALL_CLOSE("softmax([14, 12]) (card, 4 decimals)", (std::initializer_list<double>{0.8808, 0.1192}), a,
                       tol::card(4), inputs().add("scores", scaled));
  const float h = attn::entropy(a);
  ATTN_CHECK_CLOSE("entropy of softmax([14, 12]) (card, 3 decimals)", 0.365, h, tol::card(3), inputs().add("a", a));
  ATTN_CHECK_CLOSE("entropy of softmax([14, 12])", oracle::entropy(a), h, tol::entropy(a, 1), inputs().add("a", a));
}

TEST_CASE("unscaled scores [112, 96] give nearly one-hot weights with almost no entropy or gradient", "[step6][card]") {
  const std::vector<float> unscaled{112.0f, 96.0f};
  std::vector<float> a = unscaled;
  attn::ref::stable_softmax(a);
  INFO("weights of [112, 96]: " << attn::test::fmt(a[0]) << ", " << attn::test::fmt(a[1]));
  CHECK(a[0] > 0.999999f);  // 1 / (1 + e^-16) = 0.99999989
  const float h = attn::entropy(a);
  ATTN_CHECK_CLOSE("entropy of softmax([112, 96])", oracle::entropy(a), h, tol::entropy(a, 1), inputs().add("a", a));
  INFO("entropy of softmax([112, 96]) is " << attn::test::fmt(h) << " nats");
  CHECK(h < 1e-5f);
  // The Jacobian's largest entry is a_0 a_1 = e^-16 / (1 + e^-16)^2 ~ 1.1e-7: no gradient.
  attn::matrix J(2, 2);
  attn::softmax_jacobian(a, J);
  ATTN_CHECK_ALL_CLOSE("softmax_jacobian of nearly one-hot weights", oracle::softmax_jacobian(a), J, jacobian_bounds(a, 1),
                       inputs().add("a", a));
  for (const float x : J.elements()) CHECK(std::fabs(x) < 1e-6f);
}

TEST_CASE("the softmax Jacobian of softmax([1, 2, 3]) has rows summing to 0 and trace 0.48946", "[step6][card]") {
  const std::vector<float> scores{1.0f, 2.0f, 3.0f};
  const auto exact = oracle::softmax(scores);
  const std::vector<float> a(exact.begin(), exact.end());
  attn::matrix J(3, 3, qnan);
  attn::softmax_jacobian(a, J);
  const auto bounds = jacobian_bounds(a, 1);
  ATTN_CHECK_ALL_CLOSE("softmax_jacobian(softmax([1, 2, 3]))", oracle::softmax_jacobian(a), J, bounds, inputs().add("a", a));
  // Row i sums to a_i (1 - sum_j a_j), which is 0 up to the rounding of the float weights.
  const double total = static_cast<double>(a[0]) + a[1] + a[2];
  for (std::size_t i = 0; i < 3; ++i) {
    const double row_sum = static_cast<double>(J(i, 0)) + J(i, 1) + J(i, 2);
    const double bound = bounds[3 * i] + bounds[3 * i + 1] + bounds[3 * i + 2];
    ATTN_CHECK_CLOSE("sum of Jacobian row " + std::to_string(i), a[i] * (1.0 - total), row_sum, bound,
                     inputs().add("a", a));
  }
  // trace J = sum_i a_i (1 - a_i) = 1 - sum_i a_i^2.
  const double trace = static_cast<double>(J(0, 0)) + J(1, 1) + J(2, 2);
  ATTN_CHECK_CLOSE("trace of the Jacobian (card, 5 decimals)", 0.48946, trace, tol::card(5), inputs().add("a", a));
  double exact_trace = 0.0;
  for (float ai : a) exact_trace += static_cast<double>(ai) * (1.0 - static_cast<double>(ai));
  ATTN_CHECK_CLOSE("trace of the Jacobian", exact_trace, trace, bounds[0] + bounds[4] + bounds[8], inputs().add("a", a));
}

TEST_CASE("one-hot weights have a zero Jacobian: a saturated softmax passes no gradient", "[step6][property]") {
  for (const std::size_t n : {1u, 3u, 8u}) {
    std::vector<float> a(n, 0.0f);
    a[n / 2] = 1.0f;
    attn::matrix J(n, n, qnan);
    attn::softmax_jacobian(a, J);
    ATTN_CHECK_ALL_CLOSE("softmax_jacobian of one-hot weights, n = " + std::to_string(n),
                         std::vector<double>(n * n, 0.0), J, jacobian_bounds(a, 1), inputs().add("a", a));
  }
}

TEST_CASE("the softmax Jacobian matches the reference for weights of every length", "[step6][property]") {
  auto gen = attn::test::rng(603);
  std::vector<std::size_t> sizes = attn::test::small_tail_sizes();
  for (const std::size_t n : {0u, 63u, 64u, 65u, 127u, 128u, 129u, 255u, 256u, 257u}) sizes.push_back(n);
  for (const std::size_t n : sizes) {
    std::vector<float> a = attn::test::uniform_row(gen, n, -3.0f, 3.0f);
    attn::ref::stable_softmax(a);
    attn::matrix expected(n, n);
    attn::ref::softmax_jacobian(a, expected);
    attn::test::guarded_matrix J(n, n, qnan);
    attn::softmax_jacobian(a, J.view());
    ATTN_CHECK_ALL_CLOSE("softmax_jacobian, n = " + std::to_string(n), expected, J.view(), jacobian_bounds(a, 2),
                         inputs().add("a", a));
    INFO("softmax_jacobian, n = " << n << ": nothing outside J may be written");
    CHECK(J.intact());
  }
}

TEST_CASE("the softmax Jacobian refuses an output of the wrong shape", "[step6][input]") {
  const std::vector<float> a{0.25f, 0.25f, 0.5f};
  attn::matrix wide(3, 4), tall(4, 3), small(2, 2), empty(0, 0);
  // The sizes: J's wrong rows or columns and n = 3.
  ATTN_REQUIRE_INVALID(attn::softmax_jacobian(a, wide), "softmax_jacobian", 4, 3);
  ATTN_REQUIRE_INVALID(attn::softmax_jacobian(a, tall), "softmax_jacobian", 4, 3);
  ATTN_REQUIRE_INVALID(attn::softmax_jacobian(a, small), "softmax_jacobian", 2, 3);
  ATTN_REQUIRE_INVALID(attn::softmax_jacobian(a, empty), "softmax_jacobian", 0, 3);
  attn::softmax_jacobian(std::span<const float>(), empty);  // 0 x 0 for no weights is fine
}

TEST_CASE("NaN weights give NaN entropy and NaN Jacobian rows and columns", "[step6][special]") {
  const std::vector<float> a{0.25f, qnan, 0.5f};
  ATTN_CHECK_CLOSE("entropy([0.25, nan, 0.5])", qnan, attn::entropy(a), 0.0);
  attn::matrix J(3, 3, 0.0f);
  attn::softmax_jacobian(a, J);
  ATTN_CHECK_ALL_CLOSE("row 1 of softmax_jacobian([0.25, nan, 0.5])", std::vector<float>(3, qnan), J.row(1), 0.0,
                       inputs().add("a", a));
  ATTN_CHECK_ALL_CLOSE("column 1 of softmax_jacobian([0.25, nan, 0.5])", std::vector<float>(3, qnan),
                       (std::vector<float>{J(0, 1), J(1, 1), J(2, 1)}), 0.0, inputs().add("a", a));
  ATTN_CHECK_CLOSE("entropy([])", 0.0, attn::entropy(std::span<const float>()), 0.0);
}

TEST_CASE("a million uniform weights have entropy ln 2^20", "[step6][property]") {
  const std::size_t n = std::size_t{1} << 20;
  const std::vector<float> a(n, 0x1p-20f);  // exact: 1 / 2^20
  ATTN_CHECK_CLOSE("entropy of 2^20 uniform weights", 20.0 * std::log(2.0), attn::entropy(a), tol::entropy(a, 1));
}

TEST_CASE("weights that underflow to denormals still count in the entropy", "[step6][special]") {
  // 1e-40 and 1.4e-45 are denormal floats: their terms -a ln a = 9.2e-39 and 1.4e-43 are
  // the whole entropy here (1 ln 1 = 0), and tol::entropy allows only their rounding.
  const std::vector<float> a{1.0f, 1e-40f, std::numeric_limits<float>::denorm_min()};
  ATTN_CHECK_CLOSE("entropy with denormal weights", oracle::entropy(a), attn::entropy(a), tol::entropy(a, 1),
                   inputs().add("a", a));
}
