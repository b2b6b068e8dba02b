// Fuzz target: attn::ref::softmax, stable_softmax, softmax_rows and log_sum_exp (steps
// 4-5) on every instruction set, with any row length and any float bit patterns.
//
// Every row is checked against the oracle: the special rows of the policy exactly (NaN
// anywhere: all NaN; every score -inf: all 0; +inf present: the +inf entries share 1
// equally, the rest 0; a -inf score: weight exactly 0), every other weight within
// tol::softmax_row, log-sum-exp within tol::log_sum_exp. The stable softmax never
// overflows, so these bounds hold for every finite row, however large its scores.
// softmax, stable_softmax and softmax_rows must agree bit for bit (the reference's
// softmax is the stable one, and softmax_rows is softmax on each row).
//
// Input: [offset] [rows - 1: 1 byte] [columns: 2 bytes] [floats, row after row]
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

namespace {

using namespace attn::fuzz;
namespace oracle = attn::test::oracle;
namespace tol = attn::test::tol;

/// What the oracle says about one row, computed once for every instruction set.
struct expected_row {
  std::span<const float> x;
  std::vector<double> a;      // the oracle's weights
  std::vector<double> bound;  // tol::softmax_row, for the ordinary entries
  float m = 0.0f;             // the row's max (0 when it holds NaN or is empty)
  bool has_nan = false;
  double L = 0.0, L_bound = 0.0;

  explicit expected_row(std::span<const float> row) : x(row), a(oracle::softmax(row)) {
    const std::vector<float> weights(a.begin(), a.end());
    bound = tol::softmax_row(x, weights, 1);
    has_nan = std::any_of(x.begin(), x.end(), [](float v) { return std::isnan(v); });
    if (!has_nan && !x.empty()) m = *std::max_element(x.begin(), x.end());
    L = oracle::log_sum_exp(x);
    L_bound = std::isfinite(L) ? tol::log_sum_exp(x, weights, L, 1) : 0.0;
  }
};

/// The weights of one row against the oracle, under the policy.
void check_weights(const std::string& what, const expected_row& e, std::span<const float> a) {
  const std::size_t n = e.x.size();
  for (std::size_t j = 0; j < n; ++j) {
    const auto at = [&] {
      return what + ": weight " + std::to_string(j) + " of " + std::to_string(n) + " (score " + show(e.x[j]) +
             ") is " + show(a[j]) + ", expected " + show(e.a[j]);
    };
    if (e.has_nan) {
      ATTN_FUZZ_REQUIRE(std::isnan(a[j]), at() + " (NaN anywhere makes the whole row NaN)");
    } else if (e.m == -inf) {
      ATTN_FUZZ_REQUIRE(a[j] == 0.0f, at() + " (a row of -inf gets all-zero weights)");
    } else if (e.m == inf) {
      // The +inf entries share the weight: each gets the correctly rounded 1 / count.
      ATTN_FUZZ_REQUIRE(a[j] == static_cast<float>(e.a[j]), at() + " (+inf entries share the weight equally)");
    } else if (e.x[j] == -inf) {
      ATTN_FUZZ_REQUIRE(a[j] == 0.0f, at() + " (-inf gets weight exactly 0)");
    } else {
      ATTN_FUZZ_REQUIRE(close(e.a[j], a[j], e.bound[j]), at() + ", bound " + show(e.bound[j]));
      ATTN_FUZZ_REQUIRE(a[j] >= 0.0f && a[j] <= 1.0f, at() + " (a weight outside [0, 1])");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const std::size_t offset = in.byte() % 4;
  const std::size_t rows = 1 + in.byte() % 4;
  const std::size_t cols = in.size_in(0, 2100);
  const std::vector<float> x = in.values(rows * cols);
  std::vector<expected_row> expected;
  for (std::size_t i = 0; i < rows; ++i) expected.emplace_back(std::span<const float>(x).subspan(i * cols, cols));
  const std::span<const float> first = expected[0].x;
  on_every_isa([&](const std::string& isa) {
    const std::string where = "isa " + isa;
    // One row, three ways: the reference's softmax is the stable one, and softmax_rows is
    // softmax on every row, so all three agree bit for bit.
    placed soft(first, offset, fences::allocation), stable(first, offset, fences::allocation),
        as_matrix(first, offset, fences::allocation);
    attn::ref::softmax(soft.span());
    attn::ref::stable_softmax(stable.span());
    attn::ref::softmax_rows({as_matrix.data(), 1, cols});
    check_weights(where + ", stable_softmax", expected[0], stable.span());
    for (std::size_t j = 0; j < cols; ++j) {
      ATTN_FUZZ_REQUIRE(same(soft.data()[j], stable.data()[j]) && same(as_matrix.data()[j], stable.data()[j]),
              where + ": softmax, stable_softmax and softmax_rows differ at " + std::to_string(j));
    }
    ATTN_FUZZ_REQUIRE(soft.fences_intact() && stable.fences_intact() && as_matrix.fences_intact(),
                      where + ": wrote before the row");
    const placed row(first, offset, fences::allocation);
    const float L = attn::ref::log_sum_exp(row.span());
    ATTN_FUZZ_REQUIRE(close(expected[0].L, L, expected[0].L_bound),
            where + ": log_sum_exp of a row of " + std::to_string(cols) + " is " + show(L) + ", expected " +
                show(expected[0].L) + ", bound " + show(expected[0].L_bound));
    // Every row of a matrix on its own.
    placed S(x, offset, fences::allocation);
    attn::ref::softmax_rows({S.data(), rows, cols});
    for (std::size_t i = 0; i < rows; ++i) {
      check_weights(where + ", softmax_rows row " + std::to_string(i), expected[i], S.span().subspan(i * cols, cols));
    }
    ATTN_FUZZ_REQUIRE(S.fences_intact(), where + ": softmax_rows wrote before S");
  });
  return 0;
}
