// A correct step 1 that must be accepted: pairwise (recursive halving) summation in
// float, the order a tree reduction or a SIMD kernel uses.
#include <attn/contract.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace attn {
namespace {

float pairwise(std::span<const float> q, std::span<const float> k) {
  if (q.size() <= 2) {
    float s = 0.0f;
    for (std::size_t t = 0; t < q.size(); ++t) s += q[t] * k[t];
    return s;
  }
  const std::size_t half = q.size() / 2;
  return pairwise(q.first(half), k.first(half)) + pairwise(q.subspan(half), k.subspan(half));
}

}  // namespace

float dot(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    attn::invalid_input("attn::dot", "q has " + std::to_string(q.size()) + " elements but k has " +
                                         std::to_string(k.size()) + "; expected equal lengths");
  }
  return pairwise(q, k);
}

}  // namespace attn
