// Fuzz target: ALiBi, step 8: attn::ref::alibi_slopes and add_alibi_bias, with any number of
// heads, any shape, any finite slope and any float bit patterns in the scores. (Both are
// scalar: one run, not one per instruction set.)
//
//   - alibi_slopes(H): H slopes, each within tol::alibi_slope of the exact 2^(-8h/H), and
//     strictly decreasing (the exact ones are);
//   - add_alibi_bias(S, slope): every entry is the exact s + slope (j - i) (in double) within
//     tol::alibi_bias; NaN stays NaN, -inf stays -inf, +inf stays +inf; where a product
//     slope * j or the sum may reach float's overflow threshold, an infinity or the bounded
//     value. Nothing outside S changes (a fenced buffer).
// The slope is fuzzed among floats of magnitude at most 1024 (ALiBi's slopes are in (0, 1]):
// a bias slope (j - i) that itself overflows (or inf * 0 on the diagonal) would turn an
// infinite score into NaN, a case the contract leaves open.
//
// Input: [heads: size] [rows: size] [columns: size] [slope: float] [floats, row after row]
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "support/tolerances.hpp"

namespace {

using namespace attn::fuzz;
namespace tol = attn::test::tol;

void check_slopes(std::size_t heads) {
  const std::vector<float> slopes = attn::ref::alibi_slopes(heads);
  ATTN_FUZZ_REQUIRE(slopes.size() == heads, "alibi_slopes(" + std::to_string(heads) + ") returned " +
                                                std::to_string(slopes.size()) + " slopes, expected " +
                                                std::to_string(heads));
  for (std::size_t h = 1; h <= heads; ++h) {
    const double exact = std::exp2(-8.0 * static_cast<double>(h) / static_cast<double>(heads));
    const double bound = tol::alibi_slope(h, heads, 1);
    ATTN_FUZZ_REQUIRE(close(exact, slopes[h - 1], bound),
                      "alibi_slopes(" + std::to_string(heads) + "): slope of head " + std::to_string(h) + " is " +
                          show(slopes[h - 1]) + ", expected 2^(-8h/H) = " + show(exact) + ", bound " + show(bound));
    ATTN_FUZZ_REQUIRE(h == 1 || slopes[h - 1] < slopes[h - 2],
                      "alibi_slopes(" + std::to_string(heads) + "): slope " + std::to_string(h) + " (" +
                          show(slopes[h - 1]) + ") is not below slope " + std::to_string(h - 1) + " (" +
                          show(slopes[h - 2]) + ")");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  check_slopes(in.size_in(0, 2100));
  const std::size_t rows = in.size_in(0, 100), cols = in.size_in(0, 100);
  float slope = in.value();
  if (!(std::fabs(slope) <= 1024.0f)) slope = 0.5f;  // NaN, infinities and huge slopes
  const std::vector<float> S0 = in.values(rows * cols);

  // S inside a buffer fenced on both sides: a write outside S changes a fence.
  constexpr std::size_t fence = 8;
  constexpr float kFence = -7777.25f;
  std::vector<float> buffer(rows * cols + 2 * fence, kFence);
  std::copy(S0.begin(), S0.end(), buffer.begin() + fence);
  attn::ref::add_alibi_bias({buffer.data() + fence, rows, cols}, slope);
  for (std::size_t k = 0; k < fence; ++k) {
    ATTN_FUZZ_REQUIRE(same(buffer[k], kFence) && same(buffer[fence + rows * cols + k], kFence),
                      "add_alibi_bias wrote outside its " + std::to_string(rows) + " x " + std::to_string(cols) +
                          " matrix");
  }
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      const float s = S0[i * cols + j], got = buffer[fence + i * cols + j];
      const double exact =
          static_cast<double>(s) + static_cast<double>(slope) * (static_cast<double>(j) - static_cast<double>(i));
      const double bound = tol::alibi_bias(s, slope, i, j, 1);
      const auto what = [&] {
        return "add_alibi_bias(slope " + show(slope) + "): entry (" + std::to_string(i) + ", " + std::to_string(j) +
               ") of " + std::to_string(rows) + " x " + std::to_string(cols) + ", score " + show(s) + ", is " +
               show(got) + ", expected " + show(exact) + ", bound " + show(bound);
      };
      if (std::isnan(s) || std::isinf(s)) {
        ATTN_FUZZ_REQUIRE(same(got, s), what() + " (NaN and infinities stay as they are)");
      } else if (std::fabs(s) + 2.0 * std::fabs(static_cast<double>(slope)) * static_cast<double>(i + j) >=
                 static_cast<double>(FLT_MAX) / 2) {
        // slope (j - i), or slope j - slope i, or the sum may overflow in float.
        ATTN_FUZZ_REQUIRE(std::isinf(got) || close(exact, got, bound), what() + " (may overflow: an infinity or the bound)");
      } else {
        ATTN_FUZZ_REQUIRE(close(exact, got, bound), what());
      }
    }
  }
  return 0;
}
