// exercises/step1_dot.cpp -- Step 1: the dot product.
//
// TODO: write attn::dot below. Test just this step with `./attn step 1`.
//
// ----------------------------------------------------------------------------------------
// Why this comes first
// ----------------------------------------------------------------------------------------
// Attention asks, for every query position i and key position j, "how well does the
// query q_i match the key k_j?". The answer starts as one number, the dot product
//
//     q . k  =  sum_{t=0}^{d-1}  q_t * k_t
//
// Step 2 scales it into the attention score beta_ij = (q_i . k_j) / sqrt(d); step 4
// turns the scores into attention weights alpha_ij. Everything rests on this loop.
//
// ----------------------------------------------------------------------------------------
// Worked example (the card's vectors; step 2 uses them again; the cards, the course's
// worked examples, are on docs/worked_examples.md)
// ----------------------------------------------------------------------------------------
//     q = [2.0, 0.5,  1.0, -1.5]
//     k = [1.0, 1.0, -0.5,  2.0]
//
//     q . k = 2.0*1.0 + 0.5*1.0 + 1.0*(-0.5) + (-1.5)*2.0
//           = 2.0     + 0.5     - 0.5        - 3.0
//           = -1.0
//
// A negative dot product means the two vectors point more apart than together. Here
// barely: |q| = sqrt(7.5) and |k| = 2.5, so cos(angle) = -1.0 / (2.5 sqrt(7.5)) = -0.146,
// nearly orthogonal. Among keys of the same length, one that points the query's way
// scores higher and gets more of the attention weight than this one.
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//     q        std::span<const float>, length d   one query vector
//     k        std::span<const float>, length d   one key vector
//     returns  float                              the sum; 0 for empty vectors (d = 0)
//
// ----------------------------------------------------------------------------------------
// Bad input
// ----------------------------------------------------------------------------------------
//   * q.size() != k.size(): call
//         attn::invalid_input("attn::dot",
//             "q has 3 elements but k has 4; expected equal lengths");
//     (with the real sizes, std::to_string helps). It throws std::invalid_argument.
//   * NaN in, NaN out: a NaN element, or inf * 0, must make the result NaN. A plain
//     sum does that for you; never skip or "clean" a NaN.
//
// ----------------------------------------------------------------------------------------
// THE TRAP
// ----------------------------------------------------------------------------------------
//   Mismatched lengths. Looping to q.size() when k is shorter reads past the end of k:
//   undefined behaviour that may even "work" on your machine. Check the sizes first,
//   then loop.
//
//   Not a trap: the accumulator. A float accumulator passes (the tests allow any
//   summation order, float or double); a double one is a little more accurate.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 1          (all of them: course/hints/step1.md)
//   The math, with plots:  build/dev/docs/html/step1_dot.html
//                          (built by ./attn test; its source: docs/step1_dot.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <cstddef>  // std::size_t
#include <span>
#include <string>  // std::to_string, for the error message

namespace attn {

// [[maybe_unused]] only silences the compiler while the body is a stub. Once you use a
// parameter you may delete it, or leave it: it does no harm.
float dot([[maybe_unused]] std::span<const float> q, [[maybe_unused]] std::span<const float> k) {
  // TODO: check that q and k have the same length, then return sum_t q[t] * k[t].
  throw attn::not_implemented(1, "dot product", "attn::dot", "exercises/step1_dot.cpp");
}

}  // namespace attn
