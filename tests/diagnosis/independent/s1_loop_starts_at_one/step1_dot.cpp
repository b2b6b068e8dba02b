// Step 1: the dot product.
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
  if (q.empty()) return 0.0f;
  double sum = 0.0;
  for (std::size_t t = 1; t < q.size(); ++t) {
    sum += static_cast<double>(q[t]) * static_cast<double>(k[t]);
  }
  return static_cast<float>(sum);
}

}  // namespace attn
