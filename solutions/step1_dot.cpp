// solutions/step1_dot.cpp -- answer key for step 1: the dot product.
#include <attn/contract.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace attn {

//! [dot]
float dot(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    attn::invalid_input("attn::dot", "q has " + std::to_string(q.size()) +
                                         " elements but k has " + std::to_string(k.size()) +
                                         "; expected equal lengths");
  }
  // Each float product is exact in double, so the only rounding left is in the sum, and
  // a double sum of d terms stays well inside the tests' float tolerance for any d.
  double sum = 0.0;
  for (std::size_t t = 0; t < q.size(); ++t) {
    sum += static_cast<double>(q[t]) * static_cast<double>(k[t]);
  }
  return static_cast<float>(sum);
}
//! [dot]

}  // namespace attn
