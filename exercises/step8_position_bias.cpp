// exercises/step8_position_bias.cpp -- Step 8 (extension): relative position as a
// query-key bias (ALiBi).
//
// TODO: write attn::alibi_slopes and attn::add_alibi_bias below.
// Test with `./attn step 8`.
//
// ----------------------------------------------------------------------------------------
// Position as a bias on the score
// ----------------------------------------------------------------------------------------
// The scores of steps 1-5 ignore where tokens are: only their content. ALiBi (Press,
// Smith and Lewis 2022) adds a penalty that grows linearly with the distance from the
// query to the key, with a different slope lambda_h for each attention head h:
//
//     beta_ij = q_i . k_j / sqrt(d) + lambda_h (j - i) + Mask(i, j)
//
// Under the causal mask j <= i, so lambda_h (j - i) <= 0: the further back a key, the lower
// its score. Head h uses lambda_h = 2^(-8h/H), h = 1..H: for H = 8 heads the slopes are
// 1/2, 1/4, 1/8, ..., 1/256 -- steep heads look locally, shallow heads far back.
//
// Shift invariance (step 5) again: lambda (j - i) = lambda j - lambda i, and -lambda i is the same for every
// key of row i, so it cancels in the softmax. ALiBi's reference code adds just lambda j;
// under the causal mask the weights are identical.
//
// ----------------------------------------------------------------------------------------
// Worked example
// ----------------------------------------------------------------------------------------
//   alibi_slopes(8) = [0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625]
//   alibi_slopes(4) = [0.25, 0.0625, 0.015625, 0.00390625]   (2^-2, 2^-4, 2^-6, 2^-8)
//   zero 3 x 3 scores, slope 0.5, add_alibi_bias:   [  0    0.5  1  ]
//                                                   [ -0.5  0    0.5]
//                                                   [ -1   -0.5  0  ]
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   alibi_slopes(heads) -> std::vector<float> of `heads` slopes, m_1 first (the largest);
//                          empty for 0 heads.
//   add_alibi_bias(S, slope)   S: any n_q x n_k scores, in place: S(i, j) += slope * (j - i).
//
// ----------------------------------------------------------------------------------------
// THE TRAPS
// ----------------------------------------------------------------------------------------
//   1. j - i with std::size_t wraps around for j < i (0 - 1 = 18446744073709551615).
//      Convert each index to float (or a signed type) BEFORE subtracting.
//   2. The sign: keys in the past (j < i) get a NEGATIVE bias. slope * (i - j) rewards the
//      past instead of penalising it.
//   3. h runs from 1 to H, not 0 to H - 1: the first slope is 2^(-8/H), not 2^0 = 1.
//   4. Masked entries (-inf) must stay -inf: adding a finite bias does that for free;
//      do not overwrite S(i, j) with the bias.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 8          (all of them: course/hints/step8.md)
//   The math, with plots:  build/dev/docs/html/step8_position_bias.html
//                          (built by ./attn test; its source: docs/step8_position_bias.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <cmath>    // std::exp2 or std::pow
#include <cstddef>  // std::size_t
#include <vector>

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs.

std::vector<float> alibi_slopes([[maybe_unused]] std::size_t heads) {
  // TODO: slopes[h - 1] = 2^(-8 h / heads) for h = 1..heads.
  throw attn::not_implemented(8, "relative position as a query-key bias", "attn::alibi_slopes",
                              "exercises/step8_position_bias.cpp");
}

void add_alibi_bias([[maybe_unused]] matrix_view S, [[maybe_unused]] float slope) {
  // TODO: S(i, j) += slope * (j - i), with j - i computed in a signed or float type.
  throw attn::not_implemented(8, "relative position as a query-key bias", "attn::add_alibi_bias",
                              "exercises/step8_position_bias.cpp");
}

}  // namespace attn
