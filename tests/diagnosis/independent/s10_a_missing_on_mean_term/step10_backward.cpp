#include <attn/contract.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace attn {

void softmax_backward(std::span<const float> a, std::span<const float> grad_a,
                      std::span<float> grad_s) {
  if (a.size() != grad_a.size() || a.size() != grad_s.size()) {
    invalid_input("attn::softmax_backward", "lengths " + std::to_string(a.size()) + ", " +
                                                std::to_string(grad_a.size()) + ", " +
                                                std::to_string(grad_s.size()) +
                                                "; expected a, grad_a and grad_s equally long");
  }
  float c = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) c += grad_a[i] * a[i];
  // dL/ds_j = a_j g_j - <g, a>
  for (std::size_t j = 0; j < a.size(); ++j) grad_s[j] = a[j] * grad_a[j] - c;
}

}  // namespace attn
