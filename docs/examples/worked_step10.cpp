// Step 10's worked example: the gradient through softmax for two scores with a growing gap,
// and for the card's scores [1, 2, 3], through the answer key.
#include <attn/attn.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#include "print.hpp"

int main() {
  //! [example]
  const std::vector<float> g{1.0f, -1.0f};
  for (const float gap : {0.0f, 2.0f, 10.0f}) {
    std::vector<float> a{gap, 0.0f};
    attn::stable_softmax(a);  // [sigma(gap), 1 - sigma(gap)]
    std::vector<float> grad(2);
    attn::softmax_backward(a, g, grad);
    std::printf("gap %4.1f: a = [%.6f, %.6f], grad_s = [%.4g, %.4g]\n", gap, a[0], a[1], grad[0], grad[1]);
  }
  std::vector<float> a{1.0f, 2.0f, 3.0f};
  attn::stable_softmax(a);
  const std::vector<float> g3{0.0f, 0.0f, 1.0f};  // the loss is the weight of the last key
  std::vector<float> grad(3);
  attn::softmax_backward(a, g3, grad);
  docs::print_row("a = softmax([1, 2, 3])", a);
  docs::print_row("grad_s for grad_a = [0, 0, 1]", grad);
  //! [example]
}
