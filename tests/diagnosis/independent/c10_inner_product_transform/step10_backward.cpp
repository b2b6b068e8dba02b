#include <attn/contract.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <numeric>
#include <span>
#include <string>

namespace attn {

void softmax_backward(std::span<const float> a, std::span<const float> grad_a,
                      std::span<float> grad_s) {
  if (grad_s.size() != a.size() || grad_a.size() != a.size()) {
    attn::invalid_input("attn::softmax_backward",
                        "a has " + std::to_string(a.size()) + " entries, grad_a has " +
                            std::to_string(grad_a.size()) + " and grad_s has " +
                            std::to_string(grad_s.size()) + "; expected three equal lengths");
  }
  // <g, a>, once, in double
  const double c = std::inner_product(
      grad_a.begin(), grad_a.end(), a.begin(), 0.0, std::plus<>{},
      [](float g, float w) { return static_cast<double>(g) * static_cast<double>(w); });
  std::transform(a.begin(), a.end(), grad_a.begin(), grad_s.begin(), [c](float w, float g) {
    return static_cast<float>(static_cast<double>(w) * (static_cast<double>(g) - c));
  });
}

}  // namespace attn
