// exercises/step10_backward.cpp -- Step 10 (extension): the softmax backward pass.
//
// TODO: write attn::softmax_backward below.
// Test with `./attn step 10`.
//
// ----------------------------------------------------------------------------------------
// From the Jacobian of step 6 to a gradient in O(n)
// ----------------------------------------------------------------------------------------
// Training needs dL/ds, the gradient of a loss L with respect to the scores s, given
// g = dL/da with respect to the weights a = softmax(s). The chain rule with step 6's
// Jacobian J_lj = d a_l / d s_j = a_l (delta_lj - a_j):
//
//     (dL/ds)_j = sum_l g_l J_lj = a_j g_j - a_j sum_l a_l g_l = a_j (g_j - <g, a>)
//
// One dot product and one pass: O(n), where forming J costs O(n^2). Note what it says:
// the gradient is a_j times how much g_j beats the weighted average of g. Its entries sum
// to 0 (shift invariance: moving every score together changes nothing).
//
// ----------------------------------------------------------------------------------------
// Worked example: two scores with gap Delta
// ----------------------------------------------------------------------------------------
//   a = softmax([Delta, 0]) = [sigma(Delta), 1 - sigma(Delta)],  g = [1, -1],
//   with sigma(x) = 1 / (1 + e^-x), the logistic function
//   <g, a> = 2 sigma - 1,   grad_s = 2 sigma (1 - sigma) [1, -1]
//   Delta = 0: 0.5 [1, -1];  Delta = 2: 0.2100 [1, -1];  Delta = 10: 9.08e-5 [1, -1]
// As the weights saturate the gradient vanishes: the instability of step 6, measured.
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   softmax_backward(a, grad_a, grad_s)
//       a, grad_a: span<const float> of length n;  grad_s: span<float> of length n, output.
//   Lengths that differ -> attn::invalid_input("attn::softmax_backward", "...; expected ..."),
//   naming the three lengths.
//   NaN in, NaN out: a NaN in grad_a makes <g, a> and so every entry NaN, even where
//   a_j = 0 (0 x NaN = NaN): do not skip zero weights.
//
// ----------------------------------------------------------------------------------------
// THE TRAPS
// ----------------------------------------------------------------------------------------
//   1. The mean is weighted by a: <g, a> = sum_l g_l a_l, not (1/n) sum_l g_l.
//   2. a_j multiplies the WHOLE difference: a_j g_j - <g, a> (missing a_j on the second
//      term) is wrong, and its entries no longer sum to 0.
//   3. Compute <g, a> once, before the loop that writes grad_s: recomputing it inside the
//      loop is O(n^2), and the tests time your function at n and 64 n to check the O(n):
//      no speed target, only the growth (at most 512x for 64x more entries).
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 10         (all of them: course/hints/step10.md)
//   The math, with plots:  build/dev/docs/html/step10_backward.html
//                          (built by ./attn test; its source: docs/step10_backward.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <cstddef>  // std::size_t
#include <span>
#include <string>  // std::to_string, for the error messages

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs.

void softmax_backward([[maybe_unused]] std::span<const float> a,
                      [[maybe_unused]] std::span<const float> grad_a,
                      [[maybe_unused]] std::span<float> grad_s) {
  // TODO: check the lengths; g_dot_a = <grad_a, a>;
  //       grad_s[j] = a[j] * (grad_a[j] - g_dot_a).
  throw attn::not_implemented(10, "softmax backward", "attn::softmax_backward",
                              "exercises/step10_backward.cpp");
}

}  // namespace attn
