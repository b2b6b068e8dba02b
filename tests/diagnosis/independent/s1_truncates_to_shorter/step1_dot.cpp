#include <attn/contract.hpp>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>

namespace attn {

float dot(std::span<const float> q, std::span<const float> k) {
  // only go as far as the shorter vector so we never read past the end
  const std::size_t len = std::min(q.size(), k.size());
  float acc = 0.0f;
  for (std::size_t t = 0; t < len; ++t) {
    acc += q[t] * k[t];
  }
  return acc;
}

}  // namespace attn
