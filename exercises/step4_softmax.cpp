// exercises/step4_softmax.cpp -- Step 4: softmax.
//
// TODO: write attn::softmax and attn::softmax_rows below. Test with `./attn step 4`.
//
// ----------------------------------------------------------------------------------------
// From scores to weights
// ----------------------------------------------------------------------------------------
// Scores can be any real number; attention weights must be positive and sum to 1 over
// the keys, so that the output is a weighted average. Softmax does exactly that:
//
//     alpha_ij  =  exp(beta_ij) / sum_l exp(beta_il)
//
// One row i (one query) at a time: for a row s of scores,
//
//     a_j  =  exp(s_j) / sum_l exp(s_l)
//
// ----------------------------------------------------------------------------------------
// Worked example (from the card: docs/worked_examples.md, the course's worked examples)
// ----------------------------------------------------------------------------------------
// Three tokens; the query at position 2 has scores [1.0, 2.0, 3.0] against keys 0, 1, 2.
//
//     exp:    e^1 = 2.7183   e^2 = 7.3891   e^3 = 20.0855     sum = 30.1929
//     weight of position 1 = e^2 / (e^1 + e^2 + e^3) = 7.3891 / 30.1929 = 0.2447
//     the whole row:  softmax([1, 2, 3]) = [0.0900, 0.2447, 0.6652]   (sums to 1)
//
// A masked score of -inf gives exp(-inf) = 0: weight exactly 0, as step 3 promised.
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   softmax(row)      row: std::span<float>, changed in place from scores to weights.
//                     An empty row stays empty (do nothing).
//   softmax_rows(S)   S: n_q x n_k (matrix_view); softmax of every row, in place.
//                     S.row(i) gives row i as a std::span<float>: call attn::softmax on it.
//
// ----------------------------------------------------------------------------------------
// Bad input
// ----------------------------------------------------------------------------------------
//   Nothing to refuse (any length, any shape).
//   NaN in, NaN out: a NaN anywhere in a row makes the whole row NaN. The plain formula
//   does this by itself (the sum becomes NaN), so don't filter NaNs out.
//   -inf gets weight exactly 0 (again, by itself: exp(-inf) == 0).
//
// ----------------------------------------------------------------------------------------
// THE TRAPS
// ----------------------------------------------------------------------------------------
//   1. Normalise rows, not columns. Row i is query i; its weights over the keys sum to
//      1. Summing down a column mixes different queries. On a square matrix of equal
//      rows the wrong direction can even pass a quick check.
//   2. Compute the whole sum before dividing: dividing as you go uses a partial sum.
//   3. Not your problem yet: exp(1000) overflows to inf and inf / inf = NaN. The naive
//      formula is fine here (tests keep the scores small); step 5 fixes overflow.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 4          (all of them: course/hints/step4.md)
//   The math, with plots:  build/dev/docs/html/step4_softmax.html
//                          (built by ./attn test; its source: docs/step4_softmax.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <cmath>    // std::exp
#include <cstddef>  // std::size_t
#include <span>

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs; once you use a
// parameter you may delete it, or leave it: it does no harm.

void softmax([[maybe_unused]] std::span<float> row) {
  // TODO: replace each s_j by exp(s_j), add them up, then divide each by the sum.
  throw attn::not_implemented(4, "softmax", "attn::softmax", "exercises/step4_softmax.cpp");
}

void softmax_rows([[maybe_unused]] matrix_view S) {
  // TODO: attn::softmax on each row S.row(i).
  throw attn::not_implemented(4, "softmax", "attn::softmax_rows", "exercises/step4_softmax.cpp");
}

}  // namespace attn
