// Steps 4-5 of the reference against the double oracle: softmax, stable_softmax,
// softmax_rows and log_sum_exp, on every instruction set, every length 0..300, unaligned
// rows, and the special rows of the policy (NaN, +-inf, all -inf, huge scores).
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

#include "helpers.hpp"

namespace {

namespace ref = attn::ref;
namespace oracle = attn::test::oracle;
namespace tol = attn::test::tol;
using namespace attn::test::reference;

std::vector<float> to_float(const std::vector<double>& x) { return {x.begin(), x.end()}; }

/// Runs every softmax of the reference on `x` (at `offset`) and log_sum_exp, and compares
/// them with the oracle. An entry whose score is -inf in a row with a finite maximum must
/// get exactly 0; special rows are exact.
void check_row(comparison& cmp, std::span<const float> x, std::size_t offset) {
  const std::vector<double> expected = oracle::softmax(x);
  const std::vector<float> weights = to_float(expected);
  const std::vector<double> bound = tol::softmax_row(x, weights, 1);
  // Rows with NaN or +inf, and -inf entries, have exact answers.
  const bool special_row = std::any_of(x.begin(), x.end(), [](float v) { return std::isnan(v) || v == kInf; });
  using variant = std::function<void(std::span<float>)>;
  const variant variants[] = {
      [](std::span<float> r) { ref::softmax(r); },
      [](std::span<float> r) { ref::stable_softmax(r); },
      [](std::span<float> r) { ref::softmax_rows({r.data(), 1, r.size()}); },
  };
  for (const variant& run : variants) {
    placed row(x, offset);
    run(row.span());
    for (std::size_t j = 0; j < x.size(); ++j) {
      cmp.element(j, row.span()[j], expected[j], special_row || x[j] == -kInf ? 0.0 : bound[j]);
    }
    if (!row.fences_intact()) cmp.fail("wrote outside the row");
  }
  const placed row(x, offset);
  const double L = oracle::log_sum_exp(x);
  cmp.element(x.size(), ref::log_sum_exp(row.span()), L, std::isfinite(L) ? tol::log_sum_exp(x, weights, L, 1) : 0.0);
}

void check_on_every_isa(std::span<const float> x, const std::string& what) {
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    for (const std::size_t offset : kOffsets) {
      comparison cmp(where(isa, x.size(), offset) + ", " + what);
      check_row(cmp, x, offset);
      ATTN_CHECK_AGREES(cmp);
    }
  }
}

}  // namespace

TEST_CASE("the reference softmax and log-sum-exp agree with the double oracle for every length 0..300 on every instruction set",
          "[reference]") {
  auto rng = attn::test::rng(201);
  for (const std::size_t n : all_lengths()) {
    for (const float scale : {1.0f, 30.0f}) {
      check_on_every_isa(normal_row(rng, n, scale), "normal scores, sd " + std::to_string(scale));
    }
  }
}

TEST_CASE("reference softmax weights are shift invariant: scores x and x + 100 give the same weights",
          "[reference]") {
  auto rng = attn::test::rng(202);
  for (std::size_t n = 1; n <= 70; ++n) {
    std::vector<float> x = normal_row(rng, n, 4.0f);
    for (float& v : x) v = std::round(v * 64.0f) / 64.0f;  // exact after adding 100
    std::vector<float> shifted = x;
    for (float& v : shifted) v += 100.0f;
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      std::vector<float> a = x, b = shifted;
      ref::stable_softmax(a);
      ref::stable_softmax(b);
      INFO("isa " << isa << ", n = " << n << ", " << attn::test::seed_note());
      CHECK(a == b);  // the same differences x_j - m, so bit for bit the same
    }
  }
}

TEST_CASE("huge, tiny and -inf scores get the oracle's weights and never overflow", "[reference]") {
  auto rng = attn::test::rng(203);
  std::uniform_int_distribution<int> pick(0, 7);
  const float extremes[] = {1e30f, -1e30f, 3e38f, -3e38f, 88.72f, 88.7228f, -kInf, 0.0f};
  for (std::size_t n = 1; n <= 80; ++n) {
    std::vector<float> x = normal_row(rng, n, 10.0f);
    for (float& v : x) {
      if (pick(rng) < 3) v = extremes[static_cast<std::size_t>(pick(rng))];
    }
    check_on_every_isa(x, "extreme scores");
  }
  check_on_every_isa(std::vector<float>{88.72f, 88.72f}, "two scores at 88.72");
  check_on_every_isa(std::vector<float>{88.7228f, 0.0f, -88.7228f}, "exp's overflow threshold");
  check_on_every_isa(std::vector<float>{1e30f, 1e30f, -1e30f}, "two huge finite scores");
}

TEST_CASE("exponents far below zero give weights within FLT_MIN of the oracle, and -inf gives exactly 0",
          "[reference]") {
  // exp's underflow tail: xsimd 8.1 flushes results below about 2^-126 to 0.
  for (float t = 0.0f; t >= -120.0f; t -= 0.25f) {
    check_on_every_isa(std::vector<float>{0.0f, t}, "tail of exp at " + std::to_string(t));
  }
  for (std::size_t n = 1; n <= 40; ++n) {
    std::vector<float> x(n, -100.0f);
    x[n / 2] = 0.0f;
    if (n > 2) x[n - 1] = -kInf;
    check_on_every_isa(x, "one 0 among -100s");
  }
}

TEST_CASE("reference special rows: NaN anywhere poisons the row, all -inf gives zeros, +inf entries share the weight",
          "[reference]") {
  for (std::size_t n = 1; n <= 40; ++n) {
    for (std::size_t p = 0; p < n; ++p) {
      std::vector<float> x(n);
      for (std::size_t j = 0; j < n; ++j) x[j] = static_cast<float>(j % 7) - 3.0f;
      std::vector<float> nan_row = x;
      nan_row[p] = kNaN;
      check_on_every_isa(nan_row, "NaN at " + std::to_string(p));
      std::vector<float> inf_row = x;
      inf_row[p] = kInf;
      inf_row[(p * 7) % n] = kInf;  // one or two +inf entries
      check_on_every_isa(inf_row, "+inf at " + std::to_string(p));
      std::vector<float> both = inf_row;
      both[n - 1 - p] = kNaN;
      check_on_every_isa(both, "+inf and NaN");
      std::vector<float> masked(n, -kInf);
      check_on_every_isa(masked, "every score -inf");
      masked[p] = kNaN;
      check_on_every_isa(masked, "-inf and NaN");
      masked[p] = 2.5f;
      check_on_every_isa(masked, "one finite score among -inf");
    }
  }
}

TEST_CASE("a one-element row gets weight exactly 1 and an empty row is left alone", "[reference]") {
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    INFO("isa " << isa);
    for (const float s : {0.0f, -87.0f, 1e30f, -3e38f, 88.72f}) {
      std::vector<float> x{s};
      ref::stable_softmax(x);
      CHECK(x[0] == 1.0f);
      CHECK(ref::log_sum_exp(std::vector<float>{s}) == s);
    }
    std::vector<float> empty;
    ref::stable_softmax(empty);
    ref::softmax(empty);
    ref::softmax_rows({nullptr, 3, 0});
    ref::softmax_rows({nullptr, 0, 5});
    CHECK(ref::log_sum_exp({}) == -kInf);
  }
}

TEST_CASE("reference softmax_rows normalises each row of a matrix on its own", "[reference]") {
  auto rng = attn::test::rng(204);
  for (std::size_t cols = 0; cols <= 70; ++cols) {
    const std::size_t rows = 4;
    std::vector<float> S = normal_row(rng, rows * cols, 5.0f);
    if (cols > 0) {
      S[0] = kNaN;                                                 // row 0: all NaN
      for (std::size_t j = 0; j < cols; ++j) S[cols + j] = -kInf;  // row 1: all zeros
    }
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      placed A(S, cols % 4);
      ref::softmax_rows({A.span().data(), rows, cols});
      comparison cmp(where(isa, cols, cols % 4) + ", 4 rows");
      for (std::size_t i = 0; i < rows; ++i) {
        const std::span<const float> x(S.data() + i * cols, cols);
        const std::vector<double> expected = oracle::softmax(x);
        const std::vector<double> bound = tol::softmax_row(x, to_float(expected), 1);
        for (std::size_t j = 0; j < cols; ++j) {
          cmp.element(i * cols + j, A.span()[i * cols + j], expected[j], std::isfinite(x[j]) ? bound[j] : 0.0);
        }
      }
      if (!A.fences_intact()) cmp.fail("wrote outside S");
      ATTN_CHECK_AGREES(cmp);
    }
  }
}
