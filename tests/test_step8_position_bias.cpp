// Step 8 (extension): relative position as a query-key bias (ALiBi). The slopes
// 2^(-8h/H), the bias slope * (j - i), and shift invariance: under the causal mask the bias
// slope * j of ALiBi's reference code gives the same weights. Expected values come from
// exact arithmetic (powers of two, small integers) or double; tolerances from tolerances.hpp.
#include <attn/attn.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/tolerances.hpp"

namespace {

namespace tol = attn::test::tol;
using attn::test::inputs;
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float inf = std::numeric_limits<float>::infinity();

/// 2^(-8h/H) in double, and its bound, for h = 1..H.
void exact_slopes(std::size_t heads, std::vector<double>& exact, std::vector<double>& bounds) {
  for (std::size_t h = 1; h <= heads; ++h) {
    exact.push_back(std::exp2(-8.0 * static_cast<double>(h) / static_cast<double>(heads)));
    bounds.push_back(tol::alibi_slope(h, heads, 1));
  }
}

}  // namespace

TEST_CASE("eight heads get the slopes 1/2, 1/4, ..., 1/256", "[step8][card]") {
  const std::vector<float> slopes = attn::alibi_slopes(8);
  std::vector<double> expected, bounds;
  for (int h = 1; h <= 8; ++h) expected.push_back(std::ldexp(1.0, -h));  // 2^(-8h/8) = 2^-h
  for (std::size_t h = 1; h <= 8; ++h) bounds.push_back(tol::alibi_slope(h, 8, 1));
  ATTN_CHECK_ALL_CLOSE("alibi_slopes(8)", expected, slopes, bounds);
}

TEST_CASE("H heads get the geometric slopes 2^(-8h/H), h = 1..H, the last always 1/256", "[step8][property]") {
  for (std::size_t heads = 1; heads <= 64; ++heads) {
    std::vector<double> expected, bounds;
    exact_slopes(heads, expected, bounds);
    ATTN_CHECK_ALL_CLOSE("alibi_slopes(" + std::to_string(heads) + ")", expected, attn::alibi_slopes(heads), bounds);
  }
  INFO("alibi_slopes(0) must be empty");
  CHECK(attn::alibi_slopes(0).empty());
}

TEST_CASE("the bias is slope * (j - i): zero on the diagonal, negative for keys in the past", "[step8][property]") {
  attn::matrix S(3, 3, 0.0f);
  attn::add_alibi_bias(S, 0.5f);
  ATTN_CHECK_ALL_CLOSE("add_alibi_bias(zeros(3, 3), 0.5)",
                       (std::initializer_list<double>{0, 0.5, 1, -0.5, 0, 0.5, -1, -0.5, 0}), S, 0.0);
  // Any shape, any scores: against S + lambda (j - i) in double.
  auto gen = attn::test::rng(801);
  for (const std::size_t nq : {1u, 2u, 5u, 17u, 33u}) {
    for (const std::size_t nk : {1u, 3u, 8u, 16u, 65u}) {
      const attn::matrix original = attn::test::uniform_matrix(gen, nq, nk, -10.0f, 10.0f);
      const float slope = attn::test::uniform_row(gen, 1, 0.001f, 1.0f)[0];
      std::vector<double> expected, bounds;
      for (std::size_t i = 0; i < nq; ++i) {
        for (std::size_t j = 0; j < nk; ++j) {
          const double s = original(i, j);
          expected.push_back(s + slope * (static_cast<double>(j) - static_cast<double>(i)));
          bounds.push_back(tol::alibi_bias(s, slope, i, j, 1));
        }
      }
      attn::test::guarded_matrix S2(nq, nk, 0.0f);
      std::copy(original.elements().begin(), original.elements().end(), S2.view().data);
      attn::add_alibi_bias(S2.view(), slope);
      const std::string what = "add_alibi_bias on " + std::to_string(nq) + " x " + std::to_string(nk) +
                               " scores, slope " + attn::test::fmt(slope);
      ATTN_CHECK_ALL_CLOSE(what, expected, S2.view(), bounds, inputs().add("S", original));
      INFO(what << ": nothing outside S may be written");
      CHECK(S2.intact());
    }
  }
}

TEST_CASE("masked scores stay -inf and NaN stays NaN under the bias", "[step8][special]") {
  attn::matrix S(4, 4, 1.0f);
  attn::ref::apply_causal_mask(S);
  S(2, 1) = qnan;
  attn::add_alibi_bias(S, 0.25f);
  for (std::size_t i = 0; i < 4; ++i) {
    for (std::size_t j = 0; j < 4; ++j) {
      if (j > i) {
        ATTN_CHECK_CLOSE("masked S(" + std::to_string(i) + ", " + std::to_string(j) + ")", -inf, S(i, j), 0.0);
      } else if (i == 2 && j == 1) {
        ATTN_CHECK_CLOSE("S(2, 1) that held NaN", qnan, S(i, j), 0.0);
      } else {
        ATTN_CHECK_CLOSE("S(" + std::to_string(i) + ", " + std::to_string(j) + ")",
                         1.0 + 0.25 * (static_cast<double>(j) - static_cast<double>(i)), S(i, j), 0.0);
      }
    }
  }
}

TEST_CASE("under the causal mask, slope * j gives the same weights as slope * (j - i): shift invariance",
          "[step8][property]") {
  // slope * (j - i) = slope * j - slope * i, and slope * i is the same for every key of row
  // i: the softmax cancels it (step 5). ALiBi's reference code adds slope * j.
  auto gen = attn::test::rng(802);
  const std::vector<float> slopes = attn::ref::alibi_slopes(8);
  for (const std::size_t n : {1u, 2u, 5u, 16u, 33u, 100u}) {
    for (const float slope : slopes) {
      const attn::matrix scores = attn::test::uniform_matrix(gen, n, n, -3.0f, 3.0f);
      attn::matrix relative = scores, absolute = scores;
      attn::add_alibi_bias(relative, slope);
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) absolute(i, j) += slope * static_cast<float>(j);
      }
      attn::ref::apply_causal_mask(relative);
      attn::ref::apply_causal_mask(absolute);
      attn::matrix a_relative = relative, a_absolute = absolute;
      attn::ref::softmax_rows(a_relative);
      attn::ref::softmax_rows(a_absolute);
      for (std::size_t i = 0; i < n; ++i) {
        double E = 0.0;  // the two rows' rounding: one add_alibi_bias, one slope * j and a sum
        for (std::size_t j = 0; j <= i; ++j) E = std::max(E, tol::alibi_bias(scores(i, j), slope, i, j, 2));
        const auto bounds = attn::test::exact_where_masked(
            tol::shifted_rows(relative.row(i), absolute.row(i), a_absolute.row(i), E), absolute.row(i));
        ATTN_CHECK_ALL_CLOSE("row " + std::to_string(i) + " of causal weights with slope " + attn::test::fmt(slope) +
                                 " * (j - i) vs slope * j, n = " + std::to_string(n),
                             a_absolute.row(i), a_relative.row(i), bounds, inputs().add("scores", scores.row(i)));
      }
    }
  }
}

TEST_CASE("with equal content scores the bias makes the weights decay geometrically into the past", "[step8][property]") {
  // Zero scores, causal, slope lambda: row i has scores -lambda (i - j) for j <= i, so
  // a_ij = e^(-lambda (i - j)) / sum_{l <= i} e^(-lambda (i - l)).
  for (const float slope : {0.5f, 0.0625f}) {
    const std::size_t n = 6;
    attn::matrix S(n, n, 0.0f);
    attn::add_alibi_bias(S, slope);
    attn::ref::apply_causal_mask(S);
    const attn::matrix beta = S;
    attn::ref::softmax_rows(S);
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<double> exact(n, 0.0);
      double sum = 0.0;
      for (std::size_t l = 0; l <= i; ++l) sum += std::exp(-static_cast<double>(slope) * static_cast<double>(i - l));
      for (std::size_t j = 0; j <= i; ++j) exact[j] = std::exp(-static_cast<double>(slope) * static_cast<double>(i - j)) / sum;
      double E = 0.0;
      for (std::size_t j = 0; j < n; ++j) E = std::max(E, tol::alibi_bias(0.0, slope, i, j, 1));
      const std::vector<float> a(exact.begin(), exact.end());
      const auto bounds = attn::test::exact_where_masked(tol::attention_row(beta.row(i), a, E, 1), beta.row(i));
      ATTN_CHECK_ALL_CLOSE("row " + std::to_string(i) + " of the weights of zero scores, slope " + attn::test::fmt(slope),
                           exact, S.row(i), bounds);
    }
  }
}
