#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace attn {

float dot(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    attn::invalid_input("attn::dot", "q has " + std::to_string(q.size()) +
                                         " elements but k has " + std::to_string(k.size()) +
                                         "; expected equal lengths");
  }
  double s = 0.0;
  for (std::size_t t = 0; t < q.size(); ++t) {
    const double p = static_cast<double>(q[t]) * k[t];
    if (std::isnan(p)) continue;  // ignore bad entries
    s += p;
  }
  return static_cast<float>(s);
}

}  // namespace attn
