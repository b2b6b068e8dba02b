// What every fuzz target shares: turning libFuzzer's bytes into sizes and floats, running
// on every instruction set the CPU has, and stopping loudly (abort, so libFuzzer saves the
// input) when the reference breaks the contract. The expected values come from the
// double-precision oracle (tests/support/oracle.hpp) and the bounds from
// tests/support/tolerances.hpp, exactly as in the reference tests.
#pragma once

#include <attn/attn.hpp>

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/close.hpp"
#include "support/placed.hpp"
#include "support/tolerances.hpp"

namespace attn::fuzz {

inline constexpr float inf = std::numeric_limits<float>::infinity();
inline constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

/// The input as a stream: bytes, sizes, flags and floats. Past the end every read gives 0,
/// so any input, even an empty one, decodes to something.
class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool exhausted() const { return pos_ >= size_; }

  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

  std::uint64_t bytes(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | byte();
    return v;
  }

  /// A size in [lo, hi]: mostly small (one byte, up to lo + 71: every SIMD tail), and
  /// anything up to hi when the byte is 0xC0 or more (two more bytes).
  std::size_t size_in(std::size_t lo, std::size_t hi) {
    const std::size_t count = hi - lo + 1;
    const std::uint8_t b = byte();
    if (b < 0xC0) return lo + b % std::min<std::size_t>(count, 72);
    return lo + static_cast<std::size_t>(bytes(2)) % count;
  }

  bool flag() { return (byte() & 1u) != 0; }

  /// One float. A tag byte chooses the kind, so that the fuzzer can reach every kind
  /// with a one-byte change:
  ///   0x00-0xBF  finite and moderate: m * 2^(e - 15) with m a 16-bit integer and
  ///              e in [-24, 23] (so |x| < 2^23, down to 2^-39, often in exp's range)
  ///   0xC0-0xEF  a value from specials() (NaN, +-inf, denormals, FLT_MAX, exp thresholds)
  ///   0xF0-0xFF  any bit pattern (the next four bytes)
  float value() {
    const std::uint8_t tag = byte();
    if (tag < 0xC0) {
      const auto m = static_cast<std::int16_t>(bytes(2));
      return std::ldexp(static_cast<float>(m), static_cast<int>(tag % 48) - 24 - 15);
    }
    if (tag < 0xF0) {
      const std::span<const float> table = specials();
      return table[(tag - 0xC0u) % table.size()];
    }
    return std::bit_cast<float>(static_cast<std::uint32_t>(bytes(4)));
  }

  /// n floats. Once the input runs out the values decoded so far repeat, so a short
  /// input can still describe a long row (or a row of zeros if nothing was decoded).
  std::vector<float> values(std::size_t n) {
    std::vector<float> v;
    v.reserve(n);
    while (v.size() < n && !exhausted()) v.push_back(value());
    const std::size_t decoded = v.size();
    for (std::size_t i = decoded; i < n; ++i) v.push_back(decoded == 0 ? 0.0f : v[i % decoded]);
    return v;
  }

  /// The values the contract singles out, and those where float arithmetic and xsimd's exp
  /// are known to go wrong (overflow near 88.7, denormals, signed zeros).
  static std::span<const float> specials() {
    static const float table[] = {
        0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 2.0f,
        qnan, -qnan, std::numeric_limits<float>::signaling_NaN(), inf, -inf,
        std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
        FLT_MIN, -FLT_MIN, FLT_MIN / 2, FLT_MAX, -FLT_MAX,
        88.7228f, 88.72284f, 88.376f, 89.0f, -87.3365f, -103.972f, -104.0f, -150.0f,  // exp's edges
        1e30f, -1e30f, 1.8446744e19f, -1.8446744e19f, 1e-23f, -1e-23f,  // products overflow / underflow
        3e38f, -3e38f, 100.0f, -100.0f, 1000.0f, 30.0f, 1e-20f, 16777216.0f,
    };
    return table;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// Prints what went wrong and aborts: libFuzzer reports the crash and saves the input.
[[noreturn]] inline void violation(const std::string& what) {
  std::fprintf(stderr, "\nattn fuzz: CONTRACT VIOLATION: %s\n", what.c_str());
  std::abort();
}

/// Aborts with `message` unless `condition` holds; the message (often a long string) is
/// built only when the condition fails, which keeps the targets fast.
#define ATTN_FUZZ_REQUIRE(condition, message)           \
  do {                                                  \
    if (!(condition)) ::attn::fuzz::violation(message); \
  } while (false)


inline std::string show(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

/// The names of the instruction sets compiled in that this CPU runs, narrowest first.
inline const std::vector<std::string>& isas() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const ref::isa& set : ref::instruction_sets()) {
      if (set.supported) n.push_back(set.name);
    }
    return n;
  }();
  return names;
}

/// Runs `check(isa_name)` once with the reference pinned to each instruction set.
template <class F>
void on_every_isa(F&& check) {
  for (const std::string& name : isas()) {
    ref::scoped_isa pin(name);
    check(name);
  }
}

/// Runs `call`; true when it threw std::invalid_argument whose message starts with
/// "<function>: " (the course's convention, errors.hpp). Any other exception escapes
/// (libFuzzer reports it as a crash).
template <class F>
bool refuses(F&& call, const std::string& function) {
  try {
    call();
  } catch (const std::invalid_argument& e) {
    ATTN_FUZZ_REQUIRE(std::string(e.what()).rfind(function + ": ", 0) == 0,
            "the message '" + std::string(e.what()) + "' does not start with '" + function + ": '");
    return true;
  }
  return false;
}

/// Same bits, or both NaN: the reference computes each value one way, so repeating or
/// composing it must reproduce it exactly.
inline bool same(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

/// The one rule of tests/support/close.hpp: NaN needs NaN, an infinity the same infinity,
/// a finite value a finite value within `bound` (0: exactly).
using test::close;

/// sum_i |q_i k_i| over the products of finite factors (exact in double), and whether a
/// factor is infinite or NaN.
struct product_scale {
  double finite_abs_sum = 0.0;
  bool special = false;
};

inline product_scale products(std::span<const float> q, std::span<const float> k) {
  product_scale s;
  for (std::size_t i = 0; i < q.size() && i < k.size(); ++i) {
    if (std::isfinite(q[i]) && std::isfinite(k[i])) {
      s.finite_abs_sum += std::fabs(static_cast<double>(q[i]) * static_cast<double>(k[i]));
    } else {
      s.special = true;
    }
  }
  return s;
}

/// Can a float dot product of these d products overflow in SOME summation order?
/// Every partial sum of the finite products, computed in float, is at most
/// (1 + gamma_d) sum |q_i k_i| plus the underflow terms (Higham, sec. 3.1, the model of
/// tolerances.hpp); below FLT_MAX nothing overflows and the error analysis applies.
/// Above it a float result may be +-inf or NaN where the double oracle is finite.
inline bool may_overflow(std::size_t d, double finite_abs_sum) {
  return (1.0 + test::tol::gamma(d)) * finite_abs_sum + test::tol::underflow(2 * d) >= static_cast<double>(FLT_MAX);
}

/// Checks one dot-product-like result (dot, scaled_score or one element of scores)
/// against the oracle's `expected`:
///   - NaN expected (a NaN input, inf * 0, inf - inf): NaN, whatever the order;
///   - an infinity expected: that infinity exactly, unless the finite products may
///     overflow (then any non-finite value: their overflow can meet the infinity);
///   - finite expected: a finite result is within `bound` (a finite result means no
///     operation overflowed, so the error analysis holds); a non-finite result only
///     where the finite products may overflow.
/// `what()` names the value for the message.
template <class What>
void check_dot_like(What&& what, double expected, float actual, double bound, std::size_t d,
                    const product_scale& scale) {
  const bool overflow = may_overflow(d, scale.finite_abs_sum);
  const auto detail = [&] {
    return what() + ": expected " + show(expected) + ", got " + show(actual) + ", bound " + show(bound) +
           ", d = " + std::to_string(d) + ", sum |q_i k_i| = " + show(scale.finite_abs_sum);
  };
  if (std::isnan(expected)) {
    ATTN_FUZZ_REQUIRE(std::isnan(actual), detail() + " (NaN in must give NaN out)");
  } else if (std::isinf(expected)) {
    ATTN_FUZZ_REQUIRE(overflow ? !std::isfinite(actual) : static_cast<double>(actual) == expected, detail());
  } else if (std::isfinite(actual)) {
    ATTN_FUZZ_REQUIRE(std::fabs(static_cast<double>(actual) - expected) <= bound, detail() + " (outside the error bound)");
  } else {
    ATTN_FUZZ_REQUIRE(overflow, detail() + " (non-finite although no partial sum can overflow)");
  }
}

/// The fuzzers' buffers are support/placed.hpp's, with the allocation ending where the
/// buffer ends (fences::allocation) so that AddressSanitizer sees any access past it.
using test::fences;
using test::placed;

}  // namespace attn::fuzz
