// A correct step 1 that must be accepted: eight float accumulators updated with fused
// multiply-add, combined at the end, and a scalar tail: what a SIMD kernel does.
#include <attn/contract.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace attn {

float dot(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    attn::invalid_input("attn::dot", "q has " + std::to_string(q.size()) + " elements but k has " +
                                         std::to_string(k.size()) + "; expected equal lengths");
  }
  constexpr std::size_t lanes = 8;
  std::array<float, lanes> acc{};
  const std::size_t body = q.size() / lanes * lanes;
  for (std::size_t t = 0; t < body; t += lanes) {
    for (std::size_t l = 0; l < lanes; ++l) acc[l] = std::fma(q[t + l], k[t + l], acc[l]);
  }
  float sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (std::size_t t = body; t < q.size(); ++t) sum = std::fma(q[t], k[t], sum);
  return sum;
}

}  // namespace attn
