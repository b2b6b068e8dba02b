// exercises/step9_online_softmax.cpp -- Step 9 (extension): the online softmax and
// streaming attention.
//
// TODO: write attn::push, attn::merge, attn::weight and attn::streaming_attention below.
// Test with `./attn step 9`.
//
// ----------------------------------------------------------------------------------------
// The normaliser in one pass instead of two (Milakov and Gimelshein 2018)
// ----------------------------------------------------------------------------------------
// The stable softmax of step 5 reads a row twice: once for the max m, once for the sum.
// The online softmax keeps both as it goes (attn::online_softmax {max, sum}):
//
//     push x:   m' = max(m, x)
//               l' = l * e^(m - m') + e^(x - m')      <- the old sum is RESCALED when m grows
//
// so that after every push l = sum_j e^(x_j - m) for the current m. Two states of two
// parts of a row merge the same way, in any order and any split (associative):
//
//     merge:    m = max(m_a, m_b),   l = l_a e^(m_a - m) + l_b e^(m_b - m)
//
// At the end, the weight of x_j is e^(x_j - m) / l. FlashAttention (Dao et al. 2022)
// carries the same rescale into the output: o' = o e^(m - m') + e^(beta_ij - m') v_j,
// and finally o / l.
// Then the n_q x n_k weight matrix never exists: one pass over the keys, in blocks.
//
// ----------------------------------------------------------------------------------------
// Worked example: x = [1, 3, 2]
// ----------------------------------------------------------------------------------------
//   start       m = -inf  l = 0                        (the empty state)
//   push 1      m = 1     l = 0 * e^(-inf) + e^0  = 1
//   push 3      m = 3     l = 1 * e^(1 - 3) + e^0 = 1.135335
//   push 2      m = 3     l = 1.135335 + e^(2 - 3) = 1.503215
//   weights     e^(x - 3) / 1.503215 = [0.0900, 0.6652, 0.2447]     (= stable_softmax)
//   merge({m 1, l 1}, {m 3, l 1.367879}) = {m 3, l 1.503215}         (split [1] | [3, 2])
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   push(state, x)           updates state (attn::online_softmax&) in place.
//   merge(a, b) -> state     the state of the concatenation of a's and b's parts.
//   weight(state, x) -> float    e^(x - state.max) / state.sum.
//   streaming_attention(Q, K, V, O, causal, block_size)   same result as step 7's
//       attention, but each query walks its keys ONCE, block_size keys at a time: score
//       the block (attn::scaled_score), push its scores into a block state, merge it into
//       the running state, rescale o by e^(old max - new max), add e^(beta - m) v_j.
//       Divide by the sum at the end. Under `causal`, stop at key i.
//
// ----------------------------------------------------------------------------------------
// Special values (the traps)
// ----------------------------------------------------------------------------------------
//   1. The empty state has m = -inf. Pushing -inf into it must NOT compute
//      e^(-inf - (-inf)) = e^NaN: pushing -inf changes nothing. A query whose scores are
//      all -inf ends with l = 0 and gets weights 0 and an output of ZEROS, not NaN.
//   2. +inf: when x == m (both +inf) the term is e^0 = 1; never compute inf - inf. In
//      streaming_attention too: +inf scores share the weight equally, the rest get 0,
//      exactly as in step 7's attention.
//   3. NaN in, NaN out: a NaN score makes the state NaN for good (max and sum). In
//      streaming_attention every key up to i (causal) or n_k adds its term even when its
//      weight is 0, so a NaN value there gives NaN; keys after i under the causal mask are
//      never read, so NaN or inf in their rows changes nothing (as in step 7).
//   4. Forgetting the rescale (l' = l + e^(x - m')) gives the right answer whenever the max
//      never grows -- e.g. on sorted descending rows -- and wrong answers otherwise.
//   5. merge with the empty state must return the other state unchanged.
//   6. block_size == 0 -> attn::invalid_input("attn::streaming_attention", "block_size = 0...");
//      shape errors as in step 7's attention, naming attn::streaming_attention and the sizes.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 9          (all of them: course/hints/step9.md)
//   The math, with plots:  build/dev/docs/html/step9_online_softmax.html
//                          (built by ./attn test; its source: docs/step9_online_softmax.md)
//   The contract:          contract/include/attn/contract.hpp, online_softmax.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <algorithm>  // std::max, std::min, std::fill
#include <cmath>      // std::exp, std::isnan
#include <cstddef>    // std::size_t
#include <limits>     // std::numeric_limits<float>::infinity(), quiet_NaN()
#include <string>     // std::to_string, for the error messages
#include <vector>

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs.

void push([[maybe_unused]] online_softmax& state, [[maybe_unused]] float x) {
  // TODO: NaN -> NaN state; -inf -> nothing; else raise the max (rescaling the sum) and add.
  throw attn::not_implemented(9, "online softmax and streaming attention", "attn::push",
                              "exercises/step9_online_softmax.cpp");
}

online_softmax merge([[maybe_unused]] const online_softmax& a, [[maybe_unused]] const online_softmax& b) {
  // TODO: NaN -> NaN; an empty side -> the other; else rescale both sums to the larger max.
  throw attn::not_implemented(9, "online softmax and streaming attention", "attn::merge",
                              "exercises/step9_online_softmax.cpp");
}

float weight([[maybe_unused]] const online_softmax& state, [[maybe_unused]] float x) {
  // TODO: NaN (x or the state) -> NaN, first; 0 for x = -inf or an empty state; else e^(x - max) / sum.
  throw attn::not_implemented(9, "online softmax and streaming attention", "attn::weight",
                              "exercises/step9_online_softmax.cpp");
}

void streaming_attention([[maybe_unused]] const_matrix_view Q, [[maybe_unused]] const_matrix_view K,
                         [[maybe_unused]] const_matrix_view V, [[maybe_unused]] matrix_view O,
                         [[maybe_unused]] bool causal, [[maybe_unused]] std::size_t block_size) {
  // TODO: per query, one pass over the keys in blocks: push, merge, rescale o, accumulate.
  throw attn::not_implemented(9, "online softmax and streaming attention",
                              "attn::streaming_attention", "exercises/step9_online_softmax.cpp");
}

}  // namespace attn
