// A correct step 10 that must be accepted: <g, a> accumulated in float in reverse order,
// and the gradient as a_j g_j - a_j <g, a> (two products and a difference).
#include <attn/contract.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace attn {

void softmax_backward(std::span<const float> a, std::span<const float> grad_a, std::span<float> grad_s) {
  if (grad_a.size() != a.size() || grad_s.size() != a.size()) {
    attn::invalid_input("attn::softmax_backward", "lengths " + std::to_string(a.size()) + ", " +
                                                      std::to_string(grad_a.size()) + ", " +
                                                      std::to_string(grad_s.size()) + "; expected equal lengths");
  }
  float c = 0.0f;
  for (std::size_t i = a.size(); i-- > 0;) c += grad_a[i] * a[i];
  for (std::size_t j = 0; j < a.size(); ++j) grad_s[j] = a[j] * grad_a[j] - a[j] * c;
}

}  // namespace attn
