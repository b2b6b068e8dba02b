// Shared by the tests/reference/*.cpp files: the instruction sets to loop over, unaligned
// guarded buffers (support/placed.hpp), random rows, and an element-wise comparison that
// reports the first few mismatches with everything needed to reproduce them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <attn/attn.hpp>

#include "support/close.hpp"
#include "support/compare.hpp"
#include "support/lengths.hpp"
#include "support/placed.hpp"
#include "support/seed.hpp"

namespace attn::test::reference {

/// Names of the instruction sets compiled in that this CPU can run, narrowest first.
inline std::vector<std::string> supported_isas() {
  std::vector<std::string> names;
  for (const ref::isa& set : ref::instruction_sets()) {
    if (set.supported) names.push_back(set.name);
  }
  return names;
}

/// Every length from 0 to 300 and the long ones (support/lengths.hpp).
using attn::test::all_lengths;

/// Starting offsets (in floats) inside a larger buffer: aligned and misaligned.
inline constexpr float kInf = std::numeric_limits<float>::infinity();
inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

inline constexpr std::size_t kOffsets[] = {0, 1, 2, 3};

/// Buffers `offset` floats off alignment with sentinels on both sides (support/placed.hpp).
using test::placed;

/// n normal draws with standard deviation `scale`.
inline std::vector<float> normal_row(std::mt19937_64& rng, std::size_t n, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  return x;
}

/// Element-wise comparison against the oracle by the one rule (support/close.hpp: NaN must be
/// NaN, an infinity the same infinity, anything else within `bound`, 0 means exactly). Keeps
/// the first mismatches.
class comparison {
 public:
  explicit comparison(std::string context) : context_(std::move(context)) {}

  void element(std::size_t index, float actual, double expected, double bound) {
    if (test::close(expected, actual, bound)) return;
    if (++failures_ <= kShown) {
      std::ostringstream line;
      line.precision(9);
      line << "\n  element " << index << ": expected " << expected << " +- " << bound << ", actual "
           << actual << " (off by " << std::fabs(static_cast<double>(actual) - expected) << ")";
      details_ += line.str();
    }
  }
  void fail(const std::string& what) {
    if (++failures_ <= kShown) details_ += "\n  " + what;
  }

  std::size_t failures() const { return failures_; }
  std::string report() const {
    return context_ + ": " + std::to_string(failures_) + " mismatch(es)" + details_ + "\n  " + test::seed_note();
  }

 private:
  static constexpr std::size_t kShown = 5;
  std::string context_;
  std::string details_;
  std::size_t failures_ = 0;
};

/// The what() of the std::invalid_argument `f` throws, or "" (support/compare.hpp).
using attn::test::invalid_argument_message;

/// Describes where a check ran, for failure messages.
inline std::string where(const std::string& isa, std::size_t n, std::size_t offset) {
  return "isa " + isa + ", n = " + std::to_string(n) + ", offset " + std::to_string(offset);
}

}  // namespace attn::test::reference

/// One CHECK per comparison, printing its report when it fails.
#define ATTN_CHECK_AGREES(cmp)         \
  do {                                 \
    INFO((cmp).report());              \
    CHECK((cmp).failures() == 0u);     \
  } while (false)
