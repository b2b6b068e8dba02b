// exercises/step5_shift_invariance.cpp -- Step 5: shift invariance and the stable softmax.
//
// TODO: write attn::log_sum_exp, attn::stable_softmax and attn::attention_weights below.
// Test with `./attn step 5`.
//
// ----------------------------------------------------------------------------------------
// Adding a constant changes nothing
// ----------------------------------------------------------------------------------------
// For any constant c,   exp(s_j + c) / sum_l exp(s_l + c) = e^c exp(s_j) / (e^c sum_l
// exp(s_l)) = exp(s_j) / sum_l exp(s_l).   So softmax(s + c) = softmax(s): adding the
// same number to every score of one query leaves its weights unchanged (the card's
// true/false question on docs/worked_examples.md: false, they do not change).
//
// Use it with c = -m, m = max_l s_l:   a_j = exp(s_j - m) / sum_l exp(s_l - m).
// Every exponent is now <= 0, so exp never overflows, and the largest term is exactly
// exp(0) = 1, so the sum is >= 1 and never underflows to 0.
//
//     log_sum_exp(s) = log sum_j exp(s_j) = m + log sum_j exp(s_j - m)
//
// ----------------------------------------------------------------------------------------
// Worked example
// ----------------------------------------------------------------------------------------
//     softmax([1000, 1001, 1002]) = softmax([0, 1, 2]) = [0.0900, 0.2447, 0.6652]
//     naive:  exp(1000) = inf in float (inf beyond ~88.7), inf / inf = NaN.  Broken.
//     stable: m = 1002, exponents [-2, -1, 0], exp = [0.1353, 0.3679, 1], sum = 1.5032.
//     log_sum_exp([1000, 1001, 1002]) = 1002 + log(1.5032) = 1002.4076
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   log_sum_exp(row)     row: span<const float>; returns float.
//   stable_softmax(row)  row: span<float>, scores -> weights in place.
//   attention_weights(Q, K, A, causal)   the whole pipeline:
//       Q: n_q x d, K: n_k x d, A: n_q x n_k output;
//       A = scores (step 2), then the causal mask if `causal` (step 3), then
//       stable_softmax on every row. Call your own steps, qualified: attn::scores(...).
//
// ----------------------------------------------------------------------------------------
// Bad input and special rows
// ----------------------------------------------------------------------------------------
//   attention_weights: the shape errors of scores() (Q.cols != K.cols, d = 0, A not
//     n_q x n_k) -> attn::invalid_input("attn::attention_weights", "...; expected ..."),
//     naming the sizes as scores() does.
//   log_sum_exp:    empty row or all -inf -> -inf;  any +inf -> +inf;  any NaN -> NaN
//                   (NaN wins over +inf).
//   stable_softmax: empty row -> leave it;  any NaN -> the whole row NaN;
//                   all -inf -> all 0 (a query with nothing to attend to);
//                   some +inf -> the +inf entries share the weight equally, the rest 0
//                   ([inf, 1, inf] -> [0.5, 0, 0.5]);  -inf entries -> exactly 0.
//
// ----------------------------------------------------------------------------------------
// THE TRAPS
// ----------------------------------------------------------------------------------------
//   1. The max must actually be subtracted, from every entry, before exp. Computing it
//      and forgetting to use it passes small tests and fails [1000, 1001, 1002].
//   2. A NaN-aware max. Every comparison with NaN is false, so std::max(m, x) returns m
//      when x is NaN but NaN when m is NaN: the answer depends on argument order and
//      on where the NaN sits. Look for NaN explicitly (std::isnan).
//   3. All -inf row: m = -inf, and s_j - m = -inf - (-inf) = NaN. Catch that row before
//      subtracting. Likewise +inf: inf - inf = NaN.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 5          (all of them: course/hints/step5.md)
//   The math, with plots:  build/dev/docs/html/step5_shift_invariance.html
//                          (built by ./attn test; its source: docs/step5_shift_invariance.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <cmath>    // std::exp, std::log, std::isnan, std::isinf
#include <cstddef>  // std::size_t
#include <limits>   // std::numeric_limits<float>::infinity(), quiet_NaN()
#include <span>
#include <string>  // std::to_string, for the error messages

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs; once you use a
// parameter you may delete it, or leave it: it does no harm.

float log_sum_exp([[maybe_unused]] std::span<const float> row) {
  // TODO: handle NaN / empty / infinite rows, then m + log(sum_j exp(row[j] - m)).
  throw attn::not_implemented(5, "shift invariance and the stable softmax", "attn::log_sum_exp",
                              "exercises/step5_shift_invariance.cpp");
}

void stable_softmax([[maybe_unused]] std::span<float> row) {
  // TODO: handle the special rows, then exp(row[j] - m) / sum, in place.
  throw attn::not_implemented(5, "shift invariance and the stable softmax",
                              "attn::stable_softmax", "exercises/step5_shift_invariance.cpp");
}

void attention_weights([[maybe_unused]] const_matrix_view Q, [[maybe_unused]] const_matrix_view K,
                       [[maybe_unused]] matrix_view A, [[maybe_unused]] bool causal) {
  // TODO: check the shapes; attn::scores, then (if causal) attn::apply_causal_mask,
  // then attn::stable_softmax on every row of A.
  throw attn::not_implemented(5, "shift invariance and the stable softmax",
                              "attn::attention_weights", "exercises/step5_shift_invariance.cpp");
}

}  // namespace attn
