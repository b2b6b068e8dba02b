// Fuzz target: the online softmax of step 9, attn::ref::push, merge and weight, with any row
// length and any float bit patterns. (They are scalar: one run, not one per instruction set.)
//
// The row is summarised three ways: pushed score by score, split at a fuzzed point with
// both parts merged (in both orders), and cut into fuzzed blocks merged left to right. Each
// state and every weight is checked against the exact one (long double), under the
// contract's policy (contract/include/attn/contract.hpp, step 9):
//   - a NaN score: both fields NaN, and every weight NaN;
//   - no finite or +inf score (empty, or only -inf): the empty state, m = -inf and l = 0,
//     and every weight 0;
//   - +inf present: m = +inf, l = the number of +inf scores (exact), each +inf score weighs
//     1 / l correctly rounded and every other score 0;
//   - otherwise m is the row's maximum exactly, l within tol::online_sum and each weight
//     within tol::online_softmax_row (tests/support/tolerances.hpp), whatever the order.
//
// Input: [n: size] [split: size] [block: 1 byte] [floats]
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

/// What the policy and the oracle say about one row.
struct expected_state {
  bool has_nan = false;
  double m = -inf;
  double l = 0.0;            // exact: the count of +inf scores when m = +inf
  double l_bound = 0.0;      // tol::online_sum, for a finite m
  std::vector<double> a;     // exact weights
  std::vector<double> bound; // tol::online_softmax_row, for a finite m

  explicit expected_state(std::span<const float> x) {
    has_nan = std::any_of(x.begin(), x.end(), [](float v) { return std::isnan(v); });
    if (has_nan) return;
    for (float v : x) m = std::max(m, static_cast<double>(v));
    a.assign(x.size(), 0.0);
    if (m == inf) {
      l = static_cast<double>(std::count(x.begin(), x.end(), inf));
      for (std::size_t j = 0; j < x.size(); ++j) a[j] = x[j] == inf ? 1.0 / l : 0.0;
    } else if (m > -inf) {
      long double sum = 0.0L;
      for (float v : x) sum += std::exp(static_cast<long double>(v) - m);
      l = static_cast<double>(sum);
      l_bound = tol::online_sum(x, l, 1);
      a = oracle::softmax(x);
      const std::vector<float> af(a.begin(), a.end());
      bound = tol::online_softmax_row(x, af, 1);
    }
  }
};

void check_state(const std::string& how, std::span<const float> x, const expected_state& e,
                 const attn::online_softmax& s) {
  const std::string what = how + " of " + std::to_string(x.size()) + " scores: state {max " + show(s.max) +
                           ", sum " + show(s.sum) + "}";
  if (e.has_nan) {
    ATTN_FUZZ_REQUIRE(std::isnan(s.max) && std::isnan(s.sum), what + ", expected both NaN (a NaN score)");
  } else if (e.m == -inf) {
    ATTN_FUZZ_REQUIRE(s.max == -inf && s.sum == 0.0f, what + ", expected the empty state {-inf, 0}");
  } else if (e.m == inf) {
    ATTN_FUZZ_REQUIRE(s.max == inf && static_cast<double>(s.sum) == e.l,
                      what + ", expected {inf, " + show(e.l) + "} (each +inf score counts 1)");
  } else {
    ATTN_FUZZ_REQUIRE(static_cast<double>(s.max) == e.m, what + ", expected the row's max " + show(e.m));
    ATTN_FUZZ_REQUIRE(close(e.l, s.sum, e.l_bound),
                      what + ", expected sum " + show(e.l) + ", bound " + show(e.l_bound));
  }
  for (std::size_t j = 0; j < x.size(); ++j) {
    const float w = attn::ref::weight(s, x[j]);
    const auto at = [&] {
      return what + ": weight of score " + std::to_string(j) + " (" + show(x[j]) + ") is " + show(w) + ", expected " +
             (e.has_nan ? std::string("NaN") : show(e.a[j]));
    };
    if (e.has_nan) {
      ATTN_FUZZ_REQUIRE(std::isnan(w), at());
    } else if (e.m == -inf || e.m == inf || x[j] == -inf) {
      ATTN_FUZZ_REQUIRE(w == static_cast<float>(e.a[j]), at() + " (exactly)");
    } else {
      ATTN_FUZZ_REQUIRE(close(e.a[j], w, e.bound[j]), at() + ", bound " + show(e.bound[j]));
    }
  }
}

attn::online_softmax pushed(std::span<const float> x) {
  attn::online_softmax s;
  for (float v : x) attn::ref::push(s, v);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const std::size_t n = in.size_in(0, 2100);
  const std::size_t split = std::min(n, in.size_in(0, 2100));
  const std::size_t block = 1 + in.byte() % 64;
  const std::vector<float> x = in.values(n);
  const std::span<const float> row(x);
  const expected_state e(row);

  check_state("pushed", row, e, pushed(row));
  const attn::online_softmax left = pushed(row.first(split)), right = pushed(row.subspan(split));
  const std::string where = "split at " + std::to_string(split) + ",";
  check_state(where + " merged left to right", row, e, attn::ref::merge(left, right));
  check_state(where + " merged right to left", row, e, attn::ref::merge(right, left));
  attn::online_softmax blocks;
  for (std::size_t start = 0; start < n; start += block) {
    blocks = attn::ref::merge(blocks, pushed(row.subspan(start, std::min(block, n - start))));
  }
  check_state("blocks of " + std::to_string(block) + " merged", row, e, blocks);
  // The empty state is merge's identity.
  const attn::online_softmax whole = pushed(row);
  const attn::online_softmax with_empty = attn::ref::merge(whole, attn::online_softmax{});
  ATTN_FUZZ_REQUIRE(same(with_empty.max, whole.max) && same(with_empty.sum, whole.sum),
                    "merging the empty state changed {" + show(whole.max) + ", " + show(whole.sum) + "} into {" +
                        show(with_empty.max) + ", " + show(with_empty.sum) + "}");
  return 0;
}
