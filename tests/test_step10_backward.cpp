// Step 10 (extension): the softmax backward pass, grad_s = a (grad_a - <grad_a, a>).
// Checked against central differences of <g, softmax(s)> computed in double, against the
// Jacobian of step 6 (attn::ref::softmax_jacobian), against attn::ref, and on the saturation
// the cards warn about. Tolerances from tolerances.hpp.
#include <attn/attn.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/growth.hpp"
#include "support/tolerances.hpp"

namespace {

namespace tol = attn::test::tol;
using attn::test::inputs;
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

/// softmax(s) in double, shifted by the max.
std::vector<double> softmax_double(std::span<const double> s) {
  double m = -INFINITY;
  for (double v : s) m = std::max(m, v);
  double sum = 0.0;
  for (double v : s) sum += std::exp(v - m);
  std::vector<double> a;
  for (double v : s) a.push_back(std::exp(v - m) / sum);
  return a;
}

double sum_abs_ag(std::span<const float> a, std::span<const float> g) {
  double s = 0.0;
  for (std::size_t l = 0; l < a.size(); ++l) s += std::fabs(static_cast<double>(a[l]) * g[l]);
  return s;
}

/// a_j (g_j - <g, a>) in double, for float a and g.
std::vector<double> exact_backward(std::span<const float> a, std::span<const float> g) {
  double c = 0.0;
  for (std::size_t l = 0; l < a.size(); ++l) c += static_cast<double>(a[l]) * g[l];
  std::vector<double> out;
  for (std::size_t j = 0; j < a.size(); ++j) out.push_back(static_cast<double>(a[j]) * (g[j] - c));
  return out;
}

std::vector<double> backward_bounds(std::span<const float> a, std::span<const float> g, int implementations) {
  const double s = sum_abs_ag(a, g);
  std::vector<double> b;
  for (std::size_t j = 0; j < a.size(); ++j) b.push_back(tol::softmax_backward(a[j], g[j], s, a.size(), implementations));
  return b;
}

// The O(n) check: two sizes 64 times apart. O(n) grows about 64 times, O(n^2) about 4096
// times; the limit is their geometric mean, 512, a margin of 8 either way. The large size
// keeps an O(n^2) version well under a second per call (also under sanitizers); the small
// one is timed in batches long enough to be far above the clock's resolution.
constexpr std::size_t kGrowthSmall = 128, kGrowthLarge = 64 * kGrowthSmall;
constexpr double kGrowthLimit = 512.0;
using backward_fn = decltype(&attn::softmax_backward);

/// How many times longer `backward` takes for kGrowthLarge entries than for kGrowthSmall
/// (the least seconds per call over batches of calls, each size: support/growth.hpp).
double backward_growth(backward_fn backward, double* small_seconds = nullptr, double* large_seconds = nullptr) {
  const auto inputs_of = [](std::size_t n) {
    auto gen = attn::test::rng(1005);
    std::vector<float> a = attn::test::uniform_row(gen, n, -3.0f, 3.0f);
    attn::ref::stable_softmax(a);
    return std::pair{a, attn::test::uniform_row(gen, n, -1.0f, 1.0f)};
  };
  const auto small = inputs_of(kGrowthSmall), large = inputs_of(kGrowthLarge);
  std::vector<float> out1(kGrowthSmall), out2(kGrowthLarge);
  const double t1 = attn::test::seconds_per_call([&] { backward(small.first, small.second, out1); });
  const double t2 = attn::test::seconds_per_call([&] { backward(large.first, large.second, out2); });
  if (small_seconds) *small_seconds = t1;
  if (large_seconds) *large_seconds = t2;
  return t2 / t1;
}

/// backward_growth for the diagnosis, which times the right function and the catalogue's.
double backward_growth_probe(void (*implementation)()) {
  return backward_growth(reinterpret_cast<backward_fn>(implementation));
}

}  // namespace

TEST_CASE("the gradient matches central differences of <grad_a, softmax(s)>", "[step10][property]") {
  auto gen = attn::test::rng(1001);
  const double h = 0x1p-12;
  for (const std::size_t n : {1u, 2u, 3u, 5u, 8u, 17u}) {
    const std::vector<float> s_f = attn::test::uniform_row(gen, n, -3.0f, 3.0f);
    const std::vector<float> g = attn::test::uniform_row(gen, n, -2.0f, 2.0f);
    const std::vector<double> s(s_f.begin(), s_f.end());
    const std::vector<double> a_exact = softmax_double(s);
    const std::vector<float> a(a_exact.begin(), a_exact.end());
    std::vector<float> grad(n, qnan);
    attn::softmax_backward(a, g, grad);
    double sum_abs_g = 0.0, s_max = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      sum_abs_g += std::fabs(g[j]);
      s_max = std::max(s_max, std::fabs(s[j]));
    }
    const double sag = sum_abs_ag(a, g);
    std::vector<double> fd, bounds;
    for (std::size_t j = 0; j < n; ++j) {
      std::vector<double> up = s, down = s;
      up[j] += h;
      down[j] -= h;
      const auto a_up = softmax_double(up), a_down = softmax_double(down);
      double f_up = 0.0, f_down = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        f_up += g[i] * a_up[i];
        f_down += g[i] * a_down[i];
      }
      fd.push_back((f_up - f_down) / (2 * h));
      bounds.push_back(tol::softmax_backward(a[j], g[j], sag, n, 1) + tol::rounded_weights(a[j], g[j], sag) +
                       tol::central_difference(h, sum_abs_g, n, s_max));
    }
    ATTN_CHECK_ALL_CLOSE("softmax_backward vs central differences, n = " + std::to_string(n), fd, grad, bounds,
                         inputs().add("s", s_f).add("grad_a", g));
  }
}

TEST_CASE("the gradient is the Jacobian of step 6 applied to grad_a: J^T g", "[step10][property]") {
  auto gen = attn::test::rng(1002);
  for (const std::size_t n : attn::test::small_tail_sizes()) {
    std::vector<float> a = attn::test::uniform_row(gen, n, -4.0f, 4.0f);
    attn::ref::stable_softmax(a);
    const std::vector<float> g = attn::test::uniform_row(gen, n, -1.0f, 1.0f);
    attn::matrix J(n, n);
    attn::ref::softmax_jacobian(a, J);
    std::vector<double> jt_g(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) jt_g[j] += static_cast<double>(J(i, j)) * g[i];
    }
    std::vector<float> grad(n, qnan);
    attn::softmax_backward(a, g, grad);
    ATTN_CHECK_ALL_CLOSE("softmax_backward vs J^T grad_a, n = " + std::to_string(n), jt_g, grad,
                         backward_bounds(a, g, 2), inputs().add("a", a).add("grad_a", g));
  }
}

TEST_CASE("the gradient matches the reference for rows of every length", "[step10][property]") {
  auto gen = attn::test::rng(1003);
  for (const std::size_t n : attn::test::tail_sizes()) {
    std::vector<float> a = attn::test::uniform_row(gen, n, -5.0f, 5.0f);
    attn::ref::stable_softmax(a);
    const std::vector<float> g = attn::test::uniform_row(gen, n, -3.0f, 3.0f);
    std::vector<float> expected(n), grad(n, qnan);
    attn::ref::softmax_backward(a, g, expected);
    attn::softmax_backward(a, g, grad);
    ATTN_CHECK_ALL_CLOSE("softmax_backward, n = " + std::to_string(n), expected, grad, backward_bounds(a, g, 2),
                         inputs().add("a", a).add("grad_a", g));
  }
}

TEST_CASE("the gradient's entries sum to 0: moving every score together changes nothing", "[step10][property]") {
  auto gen = attn::test::rng(1004);
  for (const std::size_t n : {2u, 3u, 9u, 64u, 257u}) {
    std::vector<float> a = attn::test::uniform_row(gen, n, -2.0f, 2.0f);
    attn::ref::stable_softmax(a);
    const std::vector<float> g = attn::test::uniform_row(gen, n, -1.0f, 1.0f);
    std::vector<float> grad(n, qnan);
    attn::softmax_backward(a, g, grad);
    // sum_j a_j (g_j - c) = c (1 - sum_j a_j): 0 up to the rounding of the float weights.
    double total = 0.0, sum_a = 0.0, c = 0.0, bound = 0.0;
    const auto b = backward_bounds(a, g, 1);
    for (std::size_t j = 0; j < n; ++j) {
      total += grad[j];
      sum_a += a[j];
      c += static_cast<double>(a[j]) * g[j];
      bound += b[j];
    }
    ATTN_CHECK_CLOSE("sum of softmax_backward, n = " + std::to_string(n), c * (1.0 - sum_a), total, bound,
                     inputs().add("a", a).add("grad_a", g));
  }
}

TEST_CASE("the gradient vanishes as two weights saturate: 2 sigma(s) (1 - sigma(s)) = 0.5, 0.2100, 9.08e-5",
          "[step10][card]") {
  // a = softmax([s, 0]) = [sigma, 1 - sigma]; J = sigma (1 - sigma) [[1, -1], [-1, 1]], whose
  // norm 2 sigma (1 - sigma) is the gain for g = [1, -1]: grad_s = 2 sigma (1 - sigma) [1, -1].
  const std::vector<std::pair<double, double>> card{{0.0, 0.5}, {2.0, 0.2100}, {10.0, 9.08e-5}};
  for (const auto& [gap, quoted] : card) {
    const double sigma = 1.0 / (1.0 + std::exp(-gap));
    const std::vector<float> a{static_cast<float>(sigma), static_cast<float>(1.0 - sigma)};
    const std::vector<float> g{1.0f, -1.0f};
    std::vector<float> grad(2, qnan);
    attn::softmax_backward(a, g, grad);
    const double gain = std::hypot(grad[0], grad[1]) / std::sqrt(2.0);
    const int decimals = gap < 5 ? 4 : 7;  // 9.08e-5 is quoted to 7 decimal places
    ATTN_CHECK_CLOSE("Jacobian norm for a gap of " + attn::test::fmt(gap) + " (the value the docs quote)", quoted, gain,
                     tol::card(decimals), inputs().add("a", a));
    ATTN_CHECK_ALL_CLOSE("softmax_backward for a gap of " + attn::test::fmt(gap), exact_backward(a, g), grad,
                         backward_bounds(a, g, 1), inputs().add("a", a));
  }
  // And it keeps shrinking: the gain 2 sigma (1 - sigma) falls monotonically with the gap.
  double previous = 1.0;
  for (int gap = 0; gap <= 16; ++gap) {
    const double sigma = 1.0 / (1.0 + std::exp(-static_cast<double>(gap)));
    const std::vector<float> a{static_cast<float>(sigma), static_cast<float>(1.0 - sigma)};
    const std::vector<float> g{1.0f, -1.0f};
    std::vector<float> grad(2, qnan);
    attn::softmax_backward(a, g, grad);
    INFO("gap " << gap << ": gradient " << grad[0] << " after " << previous);
    CHECK(grad[0] < previous);
    previous = grad[0];
  }
}

TEST_CASE("one-hot weights pass no gradient, uniform weights pass g minus its mean", "[step10][special]") {
  const std::vector<float> one_hot{0.0f, 1.0f, 0.0f, 0.0f}, g{3.0f, -1.0f, 2.0f, 5.0f};
  std::vector<float> grad(4, qnan);
  attn::softmax_backward(one_hot, g, grad);
  ATTN_CHECK_ALL_CLOSE("softmax_backward of one-hot weights", std::vector<double>(4, 0.0), grad,
                       backward_bounds(one_hot, g, 1), inputs().add("grad_a", g));
  const std::vector<float> uniform(4, 0.25f);
  attn::softmax_backward(uniform, g, grad);
  // mean of g = 9/4; grad = (g - 9/4) / 4, exact in float.
  ATTN_CHECK_ALL_CLOSE("softmax_backward of uniform weights", (std::initializer_list<double>{0.1875, -0.8125, -0.0625, 0.6875}),
                       grad, backward_bounds(uniform, g, 1), inputs().add("grad_a", g));
}

TEST_CASE("a NaN weight makes every entry NaN: <g, a> takes every term", "[step10][special]") {
  // NaN in, NaN out, with the NaN in a rather than in grad_a: <g, a> = 0.5 * 1 + NaN * 2 +
  // 0.5 * 4 is NaN, so every entry a_j (g_j - <g, a>) is NaN, also where a_j = 0.5. Leaving
  // the NaN weight out of <g, a> (a test such as !isnan(a_l), or a_l > 0) makes only entry 1 NaN.
  const std::vector<float> a{0.5f, qnan, 0.5f}, g{1.0f, 2.0f, 4.0f};
  std::vector<float> grad(3, 0.0f);
  attn::softmax_backward(a, g, grad);
  ATTN_CHECK_ALL_CLOSE("softmax_backward with a NaN weight (every entry NaN)", std::vector<double>(3, qnan), grad, 0.0,
                       inputs().add("a", a).add("grad_a", g));
  const std::vector<float> a2{qnan, 0.0f, 1.0f}, g2{-1.0f, 3.0f, 0.5f};
  std::vector<float> grad2(3, 0.0f);
  attn::softmax_backward(a2, g2, grad2);
  ATTN_CHECK_ALL_CLOSE("softmax_backward with a NaN first weight (every entry NaN)", std::vector<double>(3, qnan), grad2,
                       0.0, inputs().add("a", a2).add("grad_a", g2));
}

TEST_CASE("a NaN or inf in grad_a makes every entry NaN, even where a_j = 0: <g, a> is NaN", "[step10][special]") {
  // <g, a> = 0.5 * 1 + 0 * NaN + 0.5 * 2 = NaN, and 1 * 2 + 0 * inf = NaN: a weight of 0 does
  // not remove a term (0 x NaN = NaN: NaN in, NaN out), so every entry a_j (g_j - <g, a>) is NaN.
  const std::vector<float> a{0.5f, 0.0f, 0.5f}, g{1.0f, qnan, 2.0f};
  std::vector<float> grad(3, 0.0f);
  attn::softmax_backward(a, g, grad);
  ATTN_CHECK_ALL_CLOSE("softmax_backward with a NaN in grad_a where a_j = 0", std::vector<double>(3, qnan), grad, 0.0,
                       inputs().add("a", a).add("grad_a", g));
  const std::vector<float> one_hot{1.0f, 0.0f}, g_inf{2.0f, std::numeric_limits<float>::infinity()};
  std::vector<float> grad2(2, 0.0f);
  attn::softmax_backward(one_hot, g_inf, grad2);
  ATTN_CHECK_ALL_CLOSE("softmax_backward with grad_a = inf where a_j = 0", std::vector<double>(2, qnan), grad2, 0.0,
                       inputs().add("a", one_hot).add("grad_a", g_inf));
}

TEST_CASE("the gradient takes O(n): 64 times the entries take far less than 4096 times as long", "[step10][property]") {
  // No speed target: only how the time grows, measured on this machine (steady_clock, the
  // least of several batches of calls). O(n) grows about 64x, O(n^2) about 4096x.
  double t1 = 0.0, t2 = 0.0;
  const double growth = backward_growth(&attn::softmax_backward, &t1, &t2);
  if (growth > kGrowthLimit) {
    std::string message = "softmax_backward grew " + attn::test::fmt_short(growth) + "x for 64x more entries (" +
                          std::to_string(kGrowthSmall) + " -> " + std::to_string(kGrowthLarge) + ", " +
                          attn::test::fmt_short(t1 * 1e6) + " -> " + attn::test::fmt_short(t2 * 1e6) +
                          " microseconds per call): O(n^2), where O(n) grows about 64x (the limit, " +
                          attn::test::fmt_short(kGrowthLimit) + "x, is halfway to O(n^2)'s 4096x); compute <g, a> " +
                          "once, before the loop that writes grad_s\n";
    namespace diagnosis = attn::test::diagnosis;
    if (diagnosis::on_growth) message += diagnosis::on_growth("softmax_backward", kGrowthLimit, &backward_growth_probe);
    FAIL_CHECK(message);
  } else {
    SUCCEED("softmax_backward grew " << growth << "x for 64x more entries (at most " << kGrowthLimit << "x)");
  }
}

TEST_CASE("NaN in, NaN out; lengths that differ are refused", "[step10][special]") {
  const std::vector<float> a{0.5f, 0.25f, 0.25f}, g{1.0f, qnan, 0.0f};
  std::vector<float> grad(3, 0.0f);
  attn::softmax_backward(a, g, grad);
  // A NaN in grad_a reaches <grad_a, a> and so every entry.
  ATTN_CHECK_ALL_CLOSE("softmax_backward with a NaN in grad_a", std::vector<double>(3, qnan), grad, 0.0,
                       inputs().add("a", a).add("grad_a", g));
  const std::vector<float> g2{1.0f, 2.0f}, g3{1.0f, 2.0f, 3.0f};
  std::vector<float> out2(2), out3(3);
  ATTN_REQUIRE_INVALID(attn::softmax_backward(a, g2, out3), "softmax_backward", 3, 2);
  ATTN_REQUIRE_INVALID(attn::softmax_backward(a, g3, out2), "softmax_backward", 3, 2);
  attn::softmax_backward({}, {}, std::span<float>());  // empty is fine
}
