// exercises/step7_output.cpp -- Step 7 (extension): the attention output.
//
// TODO: write attn::attention_output and attn::attention below.
// Test with `./attn step 7`.
//
// ----------------------------------------------------------------------------------------
// The weights were never the goal: what a query gets back
// ----------------------------------------------------------------------------------------
// Steps 1-5 computed the weights alpha_ij: how much query i attends to key j. Each key
// j also carries a value vector v_j (row j of V, length d_v). The output of query i is
// the weighted sum of the values,
//
//     o_i = sum_j alpha_ij v_j,        i.e.   O = A V      (n_q x n_k) (n_k x d_v)
//
// Each row of A sums to 1, so o_i is a weighted average of the values: it lies between
// the smallest and largest value in every coordinate.
//
// ----------------------------------------------------------------------------------------
// Worked example (check it by hand)
// ----------------------------------------------------------------------------------------
// 3 tokens, all scores 0 (e.g. Q all zero), causal mask:
//     weights A = [ 1    0    0  ]        values V = [1]      outputs O = [1  ]
//                 [ 1/2  1/2  0  ]                   [2]                  [1.5]
//                 [ 1/3  1/3  1/3]                   [3]                  [2  ]
// Token 0 sees only itself; token 2 averages all three.
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   attention_output(A, V, O)   A: n_q x n_k weights, V: n_k x d_v values,
//                               O: n_q x d_v output, every element written (O may hold
//                               garbage on entry; with n_k = 0 every output is 0).
//   attention(Q, K, V, O, causal)   the whole of attention:
//       Q: n_q x d, K: n_k x d, V: n_k x d_v, O: n_q x d_v.
//       attn::attention_weights (your step 5) into an attn::matrix A(n_q, n_k), then
//       attn::attention_output(A, V, O) -- under the causal mask, for query i, over the
//       first i + 1 keys only (see the special values below).
//
// ----------------------------------------------------------------------------------------
// Bad input
// ----------------------------------------------------------------------------------------
//   attention_output: A.cols != V.rows, or O not A.rows x V.cols ->
//       attn::invalid_input("attn::attention_output", "A is 2 x 3 but V is 4 x 1; expected ...");
//   attention: V.rows != K.rows, O not Q.rows x V.cols, and the shape errors of scores()
//       -> invalid_input naming "attn::attention" (or, for Q and K, the step 5 function
//       it calls) and the sizes; V and O are attention's to check, not attention_output's.
//   NaN in, NaN out: a NaN weight or value makes that output NaN -- even behind a weight
//       of 0 (0 x NaN = NaN), so do not skip zero weights in attention_output.
//   Except the causal mask: under it query i depends on keys and values 0..i only. A
//       masked key (j > i) contributes nothing whatever its rows hold (NaN, inf), exactly
//       as if it were not there, so attention must not read V's rows j > i for query i.
//
// ----------------------------------------------------------------------------------------
// THE TRAPS
// ----------------------------------------------------------------------------------------
//   1. O = A V, not A V^T or V A: row i of O needs column j of A matched with ROW j of V.
//      The tests use d_v != n_k so a transposed index reads the wrong element.
//   2. Overwrite O. `O(i, c) += ...` on an O that was not zeroed first adds to garbage.
//   3. A masked key has weight exactly 0 and contributes nothing; do not renormalise the
//      weights here -- step 5 already made every row sum to 1.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 7          (all of them: course/hints/step7.md)
//   The math, with plots:  build/dev/docs/html/step7_output.html
//                          (built by ./attn test; its source: docs/step7_output.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <algorithm>  // std::fill
#include <cstddef>    // std::size_t
#include <string>     // std::to_string, for the error messages

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs.

void attention_output([[maybe_unused]] const_matrix_view A, [[maybe_unused]] const_matrix_view V,
                      [[maybe_unused]] matrix_view O) {
  // TODO: check the shapes; O(i, c) = sum_j A(i, j) * V(j, c).
  throw attn::not_implemented(7, "attention output", "attn::attention_output",
                              "exercises/step7_output.cpp");
}

void attention([[maybe_unused]] const_matrix_view Q, [[maybe_unused]] const_matrix_view K,
               [[maybe_unused]] const_matrix_view V, [[maybe_unused]] matrix_view O,
               [[maybe_unused]] bool causal) {
  // TODO: check V and O; attn::attention_weights into a matrix A, then attn::attention_output.
  throw attn::not_implemented(7, "attention output", "attn::attention",
                              "exercises/step7_output.cpp");
}

}  // namespace attn
