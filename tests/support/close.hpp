// The one rule for "does a computed value stand for the expected one", shared by the
// tests (compare.hpp), the reference tests (reference/helpers.hpp), the fuzzers
// (fuzz/fuzz_support.hpp) and the benchmarks' correctness checks (bench/checks.cpp):
//   - a NaN expected needs a NaN actual (NaN in, NaN out: never hide a NaN);
//   - an infinity expected needs the same infinity;
//   - a finite expected needs a finite actual within `bound` (0: the exact value).
// The benchmarks check the code they time on finite random inputs only, where a NaN or
// an infinity on either side means the check itself is broken: they ask for
// specials::rejected, under which any non-finite value fails.
#pragma once

#include <cmath>

namespace attn::test {

/// How close() treats NaN and infinities in the expected value.
enum class specials {
  as_contract,  ///< NaN matches NaN, an infinity matches the same infinity
  rejected,     ///< only finite values within the bound match
};

/// Does `actual` stand for `expected` within the absolute `bound`? (The rule above.)
inline bool close(double expected, double actual, double bound, specials rule = specials::as_contract) {
  if (!std::isfinite(expected)) {
    if (rule == specials::rejected) return false;
    if (std::isnan(expected)) return std::isnan(actual);
    return actual == expected;
  }
  return std::isfinite(actual) && std::fabs(actual - expected) <= bound;
}

}  // namespace attn::test
