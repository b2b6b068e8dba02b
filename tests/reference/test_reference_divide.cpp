// The reference's division kernel (kernel_table::divide, the last step of every softmax)
// against float division itself, which IEEE 754 rounds correctly: the kernel promises the
// same bits for every quotient, on every instruction set. With FMA it multiplies by 1/c
// and applies Markstein's correction, which is correct only if each of its three
// operations is rounded exactly where the code says; a compiler or library that fuses a
// product into a later sum (xsimd 8.1 has no AVX-512 fma and falls back to x * y + z)
// breaks that for some quotients, and only a bit-exact comparison sees it.
//
// Quotients: softmax-like (x in [0, 1], c in [1, n]), any normal x and c, and the special
// ones (0, -0, subnormal, inf, NaN, quotients that overflow or underflow).
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/seed.hpp"
#include "helpers.hpp"

#include "../../reference/src/kernel_table.hpp"

namespace {

using attn::ref::detail::active_kernels;
using namespace attn::test::reference;

/// Divides `x` by `c` with the active kernel and counts the quotients whose bits differ
/// from x / c (NaN matches any NaN); reports the first few.
std::size_t count_wrong(const std::vector<float>& x, float c, std::string& report) {
  std::vector<float> got = x;
  active_kernels().divide(got.data(), c, got.size());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float want = x[i] / c;
    const bool same = std::isnan(want) ? std::isnan(got[i])
                                       : std::bit_cast<std::uint32_t>(got[i]) == std::bit_cast<std::uint32_t>(want);
    if (!same && ++wrong <= 3) {
      std::ostringstream line;
      line.precision(9);
      line << "\n  " << x[i] << " / " << c << ": got " << got[i] << ", expected " << want;
      report += line.str();
    }
  }
  return wrong;
}

}  // namespace

TEST_CASE("the reference division is correctly rounded, bit for bit like x / c, on every instruction set",
          "[reference][divide]") {
  auto rng = attn::test::rng(401);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f), sums(1.0f, 4096.0f);
  std::uniform_int_distribution<std::uint32_t> normal_bits(std::bit_cast<std::uint32_t>(0x1p-100f),
                                                           std::bit_cast<std::uint32_t>(0x1p100f));
  constexpr std::size_t kDivisors = 200, kRow = 4099;  // a row of full batches and a tail
  std::vector<std::vector<float>> rows;
  std::vector<float> divisors;
  for (std::size_t t = 0; t < kDivisors; ++t) {
    std::vector<float> x(kRow);
    const bool softmax_like = t % 2 == 0;
    for (float& v : x) {
      v = softmax_like ? unit(rng) : std::bit_cast<float>(normal_bits(rng)) * (rng() % 2 ? 1.0f : -1.0f);
    }
    rows.push_back(std::move(x));
    divisors.push_back(softmax_like ? sums(rng) : std::bit_cast<float>(normal_bits(rng)));
  }
  // Special quotients against ordinary and extreme divisors.
  const float specials[] = {0.0f, -0.0f, 0x1p-149f, -0x1p-140f, 0x1p-126f, 0x1.fffffep127f, -0x1p127f, kInf, -kInf, kNaN,
                            1.0f, 3.0f};
  for (float c : {3.0f, 0.1f, 0x1p-126f, 0x1p-149f, 0x1p126f, 0x1.fffffep127f, -7.0f, kInf, 0.0f, kNaN}) {
    rows.emplace_back(std::begin(specials), std::end(specials));
    divisors.push_back(c);
  }
  for (const std::string& isa : supported_isas()) {
    attn::ref::scoped_isa pin(isa);
    std::size_t wrong = 0;
    std::string report;
    for (std::size_t t = 0; t < rows.size(); ++t) wrong += count_wrong(rows[t], divisors[t], report);
    INFO("isa " << isa << ": " << wrong << " quotient(s) differ from x / c" << report << "\n  " << attn::test::seed_note());
    CHECK(wrong == 0);
  }
}
