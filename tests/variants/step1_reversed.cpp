// A correct step 1 that must be accepted: a float accumulator summing from the last
// element to the first. Any summation order is within the tolerance.
#include <attn/contract.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace attn {

float dot(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    attn::invalid_input("attn::dot", "q has " + std::to_string(q.size()) + " elements but k has " +
                                         std::to_string(k.size()) + "; expected equal lengths");
  }
  float sum = 0.0f;
  for (std::size_t t = q.size(); t-- > 0;) sum += q[t] * k[t];
  return sum;
}

}  // namespace attn
