#include <attn/contract.hpp>

#include <cstddef>
#include <numeric>
#include <span>
#include <string>

namespace attn {

float dot(std::span<const float> q, std::span<const float> k) {
  if (q.empty() || k.empty()) {
    attn::invalid_input("attn::dot", "empty vectors; expected at least one element");
  }
  if (q.size() != k.size()) {
    attn::invalid_input("attn::dot", "q has " + std::to_string(q.size()) + " elements but k has " +
                                         std::to_string(k.size()) + "; expected equal lengths");
  }
  return std::inner_product(q.begin(), q.end(), k.begin(), 0.0f);
}

}  // namespace attn
