// A correct step 1 that must be accepted: std::transform_reduce (the standard library's
// inner product, free to reorder the sum) with a float initial value.
#include <attn/contract.hpp>

#include <functional>
#include <numeric>
#include <span>
#include <string>

namespace attn {

float dot(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    attn::invalid_input("attn::dot", "q has " + std::to_string(q.size()) + " elements but k has " +
                                         std::to_string(k.size()) + "; expected equal lengths");
  }
  return std::transform_reduce(q.begin(), q.end(), k.begin(), 0.0f, std::plus<>(), std::multiplies<>());
}

}  // namespace attn
