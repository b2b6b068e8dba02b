// Step 6's worked example: Var[q.k] grows like d; unscaled scores saturate the softmax,
// collapse its entropy and shrink its Jacobian, through the answer key.
#include <attn/attn.hpp>

#include <cstddef>
#include <cstdio>
#include <vector>

#include "print.hpp"

int main() {
  //! [example]
  for (const std::size_t d : {4u, 16u, 64u, 256u}) {
    const double variance = attn::dot_variance(d, /*samples=*/20000, /*seed=*/1);
    std::printf("d = %3zu: dot_variance = %8.2f\n", d, variance);
  }

  // At d = 64: scores with and without the 1/sqrt(64) = 1/8 of step 2.
  const std::vector<std::vector<float>> rows{
      {1.0f, 2.0f, 3.0f}, {8.0f, 16.0f, 24.0f}, {14.0f, 12.0f}, {112.0f, 96.0f}};
  for (std::vector<float> a : rows) {
    docs::print_row("scores   ", a, 0);
    attn::stable_softmax(a);
    attn::matrix J(a.size(), a.size());
    attn::softmax_jacobian(a, J);
    double trace = 0;
    for (std::size_t i = 0; i < a.size(); ++i) trace += J(i, i);
    docs::print_row_sig("  weights", a);
    std::printf("  entropy %.4g nats, trace J %.4g\n", attn::entropy(a), trace);
  }
  attn::matrix J(3, 3);
  std::vector<float> a{1.0f, 2.0f, 3.0f};
  attn::stable_softmax(a);
  attn::softmax_jacobian(a, J);
  docs::print_matrix("softmax_jacobian(softmax([1, 2, 3]))", J);
  //! [example]
}
