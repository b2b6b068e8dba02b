#include <attn/contract.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace attn {

// q . k = sum_t q[t] * k[t]
float dot(std::span<const float> q, std::span<const float> k) {
  const std::size_t n = q.size();
  if (n != k.size())
    attn::invalid_input("attn::dot", "q has " + std::to_string(n) + " elements but k has " +
                                         std::to_string(k.size()) + "; expected equal lengths");
  auto total = 0;
  for (std::size_t i = 0; i < n; i++) total += q[i] * k[i];
  return total;
}

}  // namespace attn
