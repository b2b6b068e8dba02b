#include <attn/contract.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace attn {

void softmax_backward(std::span<const float> a, std::span<const float> grad_a,
                      std::span<float> grad_s) {
  const std::size_t n = a.size();
  if (grad_a.size() != n || grad_s.size() != n) {
    attn::invalid_input("attn::softmax_backward",
                        "a has " + std::to_string(n) + " elements, grad_a " +
                            std::to_string(grad_a.size()) + " and grad_s " +
                            std::to_string(grad_s.size()) + "; expected equal lengths");
  }
  if (n == 0) return;
  // the average of the incoming gradient
  double mean = 0.0;
  for (std::size_t i = 0; i < n; ++i) mean += grad_a[i];
  mean /= static_cast<double>(n);
  for (std::size_t j = 0; j < n; ++j) {
    grad_s[j] = static_cast<float>(a[j] * (grad_a[j] - mean));
  }
}

}  // namespace attn
