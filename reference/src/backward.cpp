// Step 10 of the reference: the softmax backward pass, grad_s = a (grad_a - <grad_a, a>).
// Two vectorised passes: the dot product of step 1, then the scaled difference.
#include <span>
#include <string>

#include <attn/errors.hpp>
#include <attn/reference.hpp>

#include "kernel_table.hpp"

namespace attn::ref {

void softmax_backward(std::span<const float> a, std::span<const float> grad_a, std::span<float> grad_s) {
  if (grad_a.size() != a.size() || grad_s.size() != a.size()) {
    invalid_input("attn::ref::softmax_backward",
                  "a has " + std::to_string(a.size()) + " elements, grad_a " + std::to_string(grad_a.size()) +
                      " and grad_s " + std::to_string(grad_s.size()) + "; expected equal lengths");
  }
  const detail::kernel_table& kernels = detail::active_kernels();
  const float mean = kernels.dot(grad_a.data(), a.data(), a.size());  // <grad_a, a>
  kernels.scaled_difference(a.data(), grad_a.data(), mean, grad_s.data(), a.size());
}

}  // namespace attn::ref
