// Fuzz target: attn::ref::softmax_backward (step 10) on every instruction set, with any row
// length and any float bit patterns in the gradient.
//
// The weights a are either the oracle's softmax of fuzzed scores rounded to float (what the
// step is given in a backward pass) or raw fuzzed floats (the function's formula does not
// need a to be weights). The result grad_s_j = a_j (g_j - <g, a>) is checked against the
// exact value in long double:
//   - a NaN anywhere in a or g: grad_s is all NaN (<g, a> is NaN, and NaN in gives NaN out);
//   - every a and g finite, every |a_j| <= 1 (as weights are: the bound's underflow term
//     counts the underflows of <g, a> once, which a factor a_j > 1 would magnify) and far
//     from overflow (|g_j| + sum_l |a_l g_l| and the partial sums of <g, a> well below
//     FLT_MAX): every entry within tol::softmax_backward, the bound of
//     tests/support/tolerances.hpp;
//   - otherwise (an infinity, a raw |a_j| > 1, or values whose float products may
//     overflow): no check of the values beyond the NaN rule, only that nothing is read or
//     written out of bounds.
// Mismatched lengths must be refused with std::invalid_argument naming the function.
//
// Input: [offset] [n: size] [mode: 1 byte, bit 0: raw a] [mismatch: 1 byte] [floats: a (raw
// mode) or the scores, then g]
#include <algorithm>
#include <cfloat>
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

bool any_nan(std::span<const float> x) {
  return std::any_of(x.begin(), x.end(), [](float v) { return std::isnan(v); });
}

bool all_finite(std::span<const float> x) {
  return std::all_of(x.begin(), x.end(), [](float v) { return std::isfinite(v); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const std::size_t offset = in.byte() % 4;
  const std::size_t n = in.size_in(0, 2100);
  const bool raw_weights = (in.byte() & 1u) != 0;
  const std::uint8_t mismatch = in.byte();

  std::vector<float> a;
  if (raw_weights) {
    a = in.values(n);
  } else {
    const std::vector<float> scores = in.values(n);
    const std::vector<double> weights = oracle::softmax(scores);
    a.assign(weights.begin(), weights.end());
  }
  const std::vector<float> g = in.values(n);

  // Bad input: a, grad_a and grad_s must have one length.
  if (mismatch % 8 == 7 && n > 0) {
    on_every_isa([&](const std::string& isa) {
      std::vector<float> out(n, 0.0f);
      const std::span<const float> short_g = std::span<const float>(g).first(n - 1);
      ATTN_FUZZ_REQUIRE(refuses([&] { attn::ref::softmax_backward(a, short_g, out); }, "attn::ref::softmax_backward"),
                        "isa " + isa + ": softmax_backward accepted grad_a of " + std::to_string(n - 1) +
                            " entries for a of " + std::to_string(n));
      std::vector<float> long_out(n + 1, 0.0f);
      ATTN_FUZZ_REQUIRE(refuses([&] { attn::ref::softmax_backward(a, g, long_out); }, "attn::ref::softmax_backward"),
                        "isa " + isa + ": softmax_backward accepted grad_s of " + std::to_string(n + 1) +
                            " entries for a of " + std::to_string(n));
    });
    return 0;
  }

  // The exact result, and whether the error analysis applies.
  const bool has_nan = any_nan(a) || any_nan(g);
  const bool finite = all_finite(a) && all_finite(g);
  long double c = 0.0L;
  double sum_abs = 0.0;
  if (finite) {
    for (std::size_t l = 0; l < n; ++l) {
      c += static_cast<long double>(a[l]) * g[l];
      sum_abs += std::fabs(static_cast<double>(a[l]) * g[l]);
    }
  }
  double largest = sum_abs;
  for (std::size_t j = 0; finite && j < n; ++j) {
    // The difference g_j - <g, a> before the product (a_j = 0 does not save an overflow there:
    // 0 * inf is NaN), and the product.
    const double difference = std::fabs(static_cast<double>(g[j])) + sum_abs;
    largest = std::max({largest, difference, std::fabs(static_cast<double>(a[j])) * difference});
  }
  // Every float partial sum of <g, a> is at most (1 + gamma_n) sum_abs, each difference at
  // most (1 + gamma_{n+4}) (|g_j| + sum_abs) and each result entry |a_j| times that: below
  // FLT_MAX / 4 nothing overflows.
  const bool weights_like = std::all_of(a.begin(), a.end(), [](float v) { return std::fabs(v) <= 1.0f; });
  const bool bounded =
      finite && weights_like && (1.0 + tol::gamma(n + 4)) * largest < static_cast<double>(FLT_MAX) / 4;

  on_every_isa([&](const std::string& isa) {
    placed out(n, -7.0f, offset, fences::allocation);
    attn::ref::softmax_backward(a, g, out.span());
    const std::string where = "isa " + isa + ", softmax_backward of " + std::to_string(n) +
                              (raw_weights ? " raw values" : " weights");
    ATTN_FUZZ_REQUIRE(out.fences_intact(), where + ": wrote before grad_s");
    for (std::size_t j = 0; j < n; ++j) {
      const float got = out.data()[j];
      if (has_nan) {
        ATTN_FUZZ_REQUIRE(std::isnan(got), where + ": grad_s[" + std::to_string(j) + "] is " + show(got) +
                                               ", expected NaN (a NaN in a or g makes <g, a> NaN)");
      } else if (bounded) {
        const double expected = static_cast<double>(static_cast<long double>(a[j]) * (g[j] - c));
        const double bound = tol::softmax_backward(a[j], g[j], sum_abs, n, 1);
        ATTN_FUZZ_REQUIRE(close(expected, got, bound), where + ": grad_s[" + std::to_string(j) + "] is " +
                                                           show(got) + ", expected " + show(expected) + ", bound " +
                                                           show(bound));
      }
    }
  });
  return 0;
}
