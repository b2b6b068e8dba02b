#include <attn/contract.hpp>

#include <cstddef>
#include <functional>
#include <numeric>
#include <span>
#include <string>

namespace attn {

float dot(std::span<const float> q, std::span<const float> k) {
  if (k.size() != q.size()) {
    attn::invalid_input("attn::dot", "q has " + std::to_string(q.size()) + " elements but k has " +
                                         std::to_string(k.size()) + "; expected equal lengths");
  }
  // widen each product to double before summing; an empty range gives the initial 0
  const double total = std::transform_reduce(
      q.begin(), q.end(), k.begin(), 0.0, std::plus<>{},
      [](float a, float b) { return static_cast<double>(a) * static_cast<double>(b); });
  return static_cast<float>(total);
}

}  // namespace attn
