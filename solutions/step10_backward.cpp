// solutions/step10_backward.cpp -- answer key for step 10: the softmax backward pass.
#include <attn/contract.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace attn {

//! [softmax_backward]
void softmax_backward(std::span<const float> a, std::span<const float> grad_a,
                      std::span<float> grad_s) {
  if (grad_a.size() != a.size() || grad_s.size() != a.size()) {
    attn::invalid_input("attn::softmax_backward",
                        "a has " + std::to_string(a.size()) + " elements, grad_a has " +
                            std::to_string(grad_a.size()) + " and grad_s has " +
                            std::to_string(grad_s.size()) + "; expected equal lengths");
  }
  // (J^T g)_j = sum_l g_l a_l (delta_lj - a_j) = a_j g_j - a_j <g, a> = a_j (g_j - <g, a>).
  // O(n) work instead of the n x n Jacobian of step 6.
  double sum = 0.0;
  for (std::size_t l = 0; l < a.size(); ++l) sum += static_cast<double>(grad_a[l]) * a[l];
  const float g_dot_a = static_cast<float>(sum);
  for (std::size_t j = 0; j < a.size(); ++j) grad_s[j] = a[j] * (grad_a[j] - g_dot_a);
}
//! [softmax_backward]

}  // namespace attn
