// The reference's own exp (reference/src/exp.hpp, exp_nonpositive) against the
// correctly rounded exp, for EVERY float in [-104, 0] and on every instruction set: the
// softmax bounds in tolerances.hpp assume exp accurate to tol::kLibmUlps ULP. Below
// -103.97 the correctly rounded result is 0; subnormal results are counted in ULP of the
// subnormal grid like any other. Plus the special values: exp(-inf) = 0 exactly, exp(NaN)
// is NaN, exp(-0) = 1.
//
// Optimised builds test every float; sanitized or unoptimised builds (10-50x slower) test
// every 97th bit pattern (a prime stride, so every exponent and many mantissas are hit), so
// that the whole suite still runs under the sanitizers in CI.
//
// The kernel is reached through the kernel table (an internal header): sum_exp_shifted with
// a shift of 0 writes exp(x_i) for every x_i.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/tolerances.hpp"
#include "helpers.hpp"

#include "../../reference/src/kernel_table.hpp"

namespace {

using attn::ref::detail::active_kernels;

#if defined(NDEBUG) && !defined(ATTN_SANITIZED)
constexpr std::uint32_t kStride = 1;   // every float
#else
constexpr std::uint32_t kStride = 97;  // a sample: see the file's comment
#endif

/// Distance in ULP between two non-negative floats (their bit patterns are ordered).
std::uint32_t ulps(float a, float b) {
  const auto x = std::bit_cast<std::uint32_t>(a), y = std::bit_cast<std::uint32_t>(b);
  return x > y ? x - y : y - x;
}

}  // namespace

TEST_CASE("the reference exp is within kLibmUlps of the correctly rounded exp on every float in [-104, 0]",
          "[reference][exp]") {
  const std::vector<std::string> isas = attn::test::reference::supported_isas();
  const std::uint32_t first = std::bit_cast<std::uint32_t>(-0.0f);   // 0x80000000
  const std::uint32_t last = std::bit_cast<std::uint32_t>(-104.0f);  // larger magnitude, larger pattern
  constexpr std::uint32_t chunk = 1u << 20;
  std::vector<float> x(chunk), expected(chunk), got(chunk);
  std::vector<std::uint32_t> worst(isas.size(), 0);
  std::vector<float> worst_at(isas.size(), 0.0f);
  for (std::uint64_t start = first; start <= last; start += std::uint64_t{chunk} * kStride) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, (std::uint64_t{last} - start) / kStride + 1));
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = std::bit_cast<float>(static_cast<std::uint32_t>(start + i * kStride));
      expected[i] = static_cast<float>(std::exp(static_cast<double>(x[i])));  // correctly rounded but for ties
    }
    for (std::size_t k = 0; k < isas.size(); ++k) {
      attn::ref::scoped_isa pin(isas[k]);
      active_kernels().sum_exp_shifted(x.data(), 0.0f, got.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t e = ulps(got[i], expected[i]);
        if (e > worst[k] || std::isnan(got[i])) {
          worst[k] = std::isnan(got[i]) ? ~0u : e;
          worst_at[k] = x[i];
        }
      }
    }
  }
  for (std::size_t k = 0; k < isas.size(); ++k) {
    INFO("isa " << isas[k] << ": at most " << worst[k] << " ULP (first worst at x = " << worst_at[k] << ")");
    CHECK(worst[k] <= static_cast<std::uint32_t>(attn::test::tol::kLibmUlps));
  }
}

TEST_CASE("the reference exp gives exactly 0 for -inf, NaN for NaN and 1 for -0", "[reference][exp]") {
  for (const std::string& isa : attn::test::reference::supported_isas()) {
    attn::ref::scoped_isa pin(isa);
    INFO("isa " << isa);
    for (std::size_t n : {1u, 3u, 17u, 40u}) {  // full batches and tails
      std::vector<float> x(n, -std::numeric_limits<float>::infinity()), out(n, 1.0f);
      x[0] = std::numeric_limits<float>::quiet_NaN();
      if (n > 2) x[2] = -0.0f;
      active_kernels().sum_exp_shifted(x.data(), 0.0f, out.data(), n);
      CHECK(std::isnan(out[0]));
      for (std::size_t i = 1; i < n; ++i) CHECK(out[i] == (i == 2 ? 1.0f : 0.0f));
      if (n > 1) CHECK(std::bit_cast<std::uint32_t>(out[1]) == 0u);  // +0, not -0
    }
  }
}
