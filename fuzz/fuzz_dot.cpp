// Fuzz target: attn::ref::dot and attn::ref::scaled_score (steps 1-2) on every
// instruction set, with arbitrary lengths (mismatched ones too), unaligned starts and any
// float bit patterns, against the long-double oracle within tol::dot / tol::scaled_score.
//
// Input: [offset q] [offset k] [length q: 2 bytes] [different k length? 1 byte]
//        [length k: 2 bytes] [floats of q, then of k; see input::value()]
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

namespace {

using namespace attn::fuzz;
namespace oracle = attn::test::oracle;
namespace tol = attn::test::tol;

void check(const std::vector<float>& q_values, const std::vector<float>& k_values, std::size_t offset_q,
           std::size_t offset_k) {
  const placed q(q_values, offset_q, fences::allocation), k(k_values, offset_k, fences::allocation);
  const std::size_t n = q_values.size();
  const std::string shape = "q has " + std::to_string(n) + ", k has " + std::to_string(k_values.size());
  on_every_isa([&](const std::string& isa) {
    const std::string where = " [isa " + isa + ", " + shape + "]";
    if (n != k_values.size()) {
      // Bad input: refused with a message naming the function and both sizes.
      ATTN_FUZZ_REQUIRE(refuses([&] { attn::ref::dot(q.span(), k.span()); }, "attn::ref::dot"), "dot accepted" + where);
      ATTN_FUZZ_REQUIRE(refuses([&] { attn::ref::scaled_score(q.span(), k.span()); }, "attn::ref::scaled_score"),
              "scaled_score accepted" + where);
      return;
    }
    const product_scale scale = products(q_values, k_values);
    const float result = attn::ref::dot(q.span(), k.span());
    check_dot_like([&] { return "dot" + where; }, oracle::dot(q_values, k_values), result,
                   tol::dot(n, scale.finite_abs_sum, 1), n, scale);
    ATTN_FUZZ_REQUIRE(same(result, attn::ref::dot(q.span(), k.span())), "dot is not deterministic" + where);
    if (n == 0) {
      ATTN_FUZZ_REQUIRE(std::bit_cast<std::uint32_t>(result) == 0u, "dot of empty vectors is not +0" + where);
      ATTN_FUZZ_REQUIRE(refuses([&] { attn::ref::scaled_score(q.span(), k.span()); }, "attn::ref::scaled_score"),
              "scaled_score accepted d = 0" + where);
    } else {
      check_dot_like([&] { return "scaled_score" + where; }, oracle::scaled_score(q_values, k_values),
                     attn::ref::scaled_score(q.span(), k.span()), tol::scaled_score(n, scale.finite_abs_sum, 1), n,
                     scale);
    }
    ATTN_FUZZ_REQUIRE(q.fences_intact() && k.fences_intact(), "wrote outside q or k" + where);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const std::size_t offset_q = in.byte() % 4, offset_k = in.byte() % 4;
  const std::size_t n = in.size_in(0, 4100);
  const bool mismatch = (in.byte() % 16) == 0;
  const std::size_t m = mismatch ? in.size_in(0, 64) : n;
  const std::vector<float> q = in.values(n);
  const std::vector<float> k = in.values(m);
  check(q, k, offset_q, offset_k);
  return 0;
}
