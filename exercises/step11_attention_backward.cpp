// exercises/step11_attention_backward.cpp -- Step 11 (extension): the attention backward pass.
//
// TODO: write attn::attention_backward below.
// Test with `./attn step 11`.
//
// ----------------------------------------------------------------------------------------
// Training attention: the gradients of Q, K and V
// ----------------------------------------------------------------------------------------
// The forward pass (steps 5 and 7) is
//
//     S = Q K^T / sqrt(d) + Mask,     A = softmax_rows(S),     O = A V.
//
// Training gives you dO = dL/dO (n_q x d_v, one row per query) and wants dQ, dK and dV.
// Run the forward pass backwards, one line at a time:
//
//     O = A V       ->  dV = A^T dO            (n_k x d_v)
//                       dA = dO V^T            (n_q x n_k): dA_ij = <dO_i, v_j>
//     A = softmax   ->  dS_i = softmax_backward(A_i, dA_i), row by row (your step 10):
//                       dS_ij = A_ij (dA_ij - <dA_i, A_i>)
//     S = Q K^T/sqrt(d) ->  dQ = dS K / sqrt(d)     (n_q x d)
//                           dK = dS^T Q / sqrt(d)   (n_k x d)
//
// Each line is the chain rule for a product: if O = A V, a small change of A changes O by
// (change of A) V, so dL/dA = dO V^T, and likewise dL/dV = A^T dO. Under the causal mask
// a masked score is the constant -inf: its weight is 0 whatever Q and K are, so its dS is 0
// and it passes no gradient. Query i simply works on its visible keys 0..i.
//
// ----------------------------------------------------------------------------------------
// Worked example (check it by hand)
// ----------------------------------------------------------------------------------------
// d = 1 and d_v = 1, two keys, no mask, one query:
//     Q = [0],  K = [1, -1]^T,  V = [1, 3]^T,  dO = [1]
// The scores are 0 and 0, so A = [0.5, 0.5] and O = 0.5 * 1 + 0.5 * 3 = 2.
//     dV = A^T dO = [0.5, 0.5]^T
//     dA = dO V^T = [1, 3],  <dA, A> = 2,  dS = [0.5 (1 - 2), 0.5 (3 - 2)] = [-0.5, 0.5]
//     dQ = dS K / sqrt(1) = -0.5 * 1 + 0.5 * (-1) = -1
//     dK = dS^T Q / sqrt(1) = [0, 0]^T      (the query is 0)
// Check dQ: moving q to a small epsilon gives scores [epsilon, -epsilon], more weight on
// the value 1, so O falls, at the rate dO/dq = -1.
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   attention_backward(Q, K, V, dO, causal, dQ, dK, dV)
//       Q: n_q x d, K: n_k x d, V: n_k x d_v, dO: n_q x d_v (inputs);
//       dQ: n_q x d, dK: n_k x d, dV: n_k x d_v (outputs: every element written; they may
//       hold garbage on entry, so set them to zero before you add to them).
//   Bad input -> attn::invalid_input("attn::attention_backward", "dO is 2 x 3; expected ..."):
//       V.rows != K.rows, dO not n_q x d_v, an output not the shape of its input; the shape
//       errors of Q and K (different d, d = 0) may come from your attention_weights.
//   Your earlier steps help: attn::attention_weights (step 5) gives A, and
//   attn::softmax_backward (step 10) gives each row of dS.
//   Special values, as in attention() (step 7): under the causal mask query i must not
//   read the rows j > i of K and V (NaN or inf there changes nothing); every visible key
//   counts even with weight 0, so a NaN in a row a query sees gives NaN.
//
// ----------------------------------------------------------------------------------------
// THE TRAPS
// ----------------------------------------------------------------------------------------
//   1. Both dQ and dK carry the 1/sqrt(d) of the scores: forget it and every gradient of
//      Q and K is sqrt(d) times too large.
//   2. Transposes: dV = A^T dO sums over QUERIES (dV_j = sum_i A_ij dO_i), dK = dS^T Q
//      too; dQ = dS K sums over keys. The tests use n_q != n_k and d_v != d, so a
//      confused index reads the wrong element or the wrong row.
//   3. dS is not dA: the softmax sits between A and S, and skipping its backward pass
//      gives gradients that move every score even when that cannot change the weights.
//   4. dK and dV add up a term from every query: clear them first, or the garbage they
//      held (or the last call's result) is added in.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 11         (all of them: course/hints/step11.md)
//   The math, with plots:  build/dev/docs/html/step11_attention_backward.html
//                          (built by ./attn test; its source: docs/step11_attention_backward.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <algorithm>  // std::fill, std::min
#include <cmath>      // std::sqrt
#include <cstddef>    // std::size_t
#include <span>
#include <string>  // std::to_string, for the error messages
#include <vector>

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs.

void attention_backward([[maybe_unused]] const_matrix_view Q, [[maybe_unused]] const_matrix_view K,
                        [[maybe_unused]] const_matrix_view V, [[maybe_unused]] const_matrix_view dO,
                        [[maybe_unused]] bool causal, [[maybe_unused]] matrix_view dQ,
                        [[maybe_unused]] matrix_view dK, [[maybe_unused]] matrix_view dV) {
  // TODO: check the shapes; A = attention_weights(Q, K, causal); zero dQ, dK, dV; then for
  //       each query i over its visible keys j: dA_ij = <dO_i, v_j>, dS_i from
  //       softmax_backward, dV_j += A_ij dO_i, dQ_i += dS_ij k_j / sqrt(d),
  //       dK_j += dS_ij q_i / sqrt(d).
  throw attn::not_implemented(11, "the attention backward pass", "attn::attention_backward",
                              "exercises/step11_attention_backward.cpp");
}

}  // namespace attn
