// exercises/step3_causal_mask.cpp -- Step 3: the causal mask.
//
// TODO: write attn::causal_mask and attn::apply_causal_mask below. Test with
// `./attn step 3`.
//
// ----------------------------------------------------------------------------------------
// No peeking at the future
// ----------------------------------------------------------------------------------------
// A model that generates text one token at a time must not let position i look at
// tokens that come after it. The mask is added to the score before the softmax:
//
//     beta_ij  =  (q_i . k_j) / sqrt(d)  +  Mask(i, j)
//
//     Mask(i, j) =   0     for j <= i     (the past and the token itself: visible)
//                  -inf    for j >  i     (the future: hidden)
//
// A score of -inf becomes exp(-inf) = 0 in the softmax: exactly zero attention weight.
//
// ----------------------------------------------------------------------------------------
// Worked example (the card's 4-token sequence: docs/worked_examples.md)
// ----------------------------------------------------------------------------------------
// Rows are queries (position i), columns are keys (position j):
//
//                 key 0   key 1   key 2   key 3
//     query 0  [  Score   -inf    -inf    -inf  ]
//     query 1  [  Score   Score   -inf    -inf  ]
//     query 2  [  Score   Score   Score   -inf  ]
//     query 3  [  Score   Score   Score   Score ]
//
// Everything strictly above the diagonal is -inf; the diagonal itself stays (a token
// may attend to itself). causal_mask(4) is that picture with 0 in place of "Score".
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   causal_mask(n)        returns a new n x n attn::matrix: 0 where j <= i, -inf where
//                         j > i. attn::matrix m(n, n) is all zeros; m(i, j) = ...;
//                         causal_mask(0) is the empty 0 x 0 matrix.
//   apply_causal_mask(S)  S: n_q x n_k (matrix_view), changed in place: S(i, j) = -inf
//                         for every j > i; every other entry left exactly as it was.
//   -inf in C++: -std::numeric_limits<float>::infinity()   (from <limits>)
//
// ----------------------------------------------------------------------------------------
// Bad input
// ----------------------------------------------------------------------------------------
//   Nothing to refuse: every shape is valid, including 0 x 0 and non-square.
//   Masked entries are overwritten whatever they held (NaN included): a query must
//   never see a future key. Unmasked entries keep their value, NaN included.
//
// ----------------------------------------------------------------------------------------
// THE TRAPS
// ----------------------------------------------------------------------------------------
//   1. j > i, not j >= i. The diagonal is visible; masking it would leave row 0 with
//      nothing to attend to.
//   2. Rows are queries, columns are keys. Masking the lower triangle instead (i > j)
//      lets every token read the future.
//   3. S need not be square. The mask is top-left aligned: 2 x 4 masks (0,1..3) and
//      (1,2..3); 4 x 2 masks only (0,1). Loop over S.rows and S.cols, never assume one n,
//      and never write outside the view.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 3          (all of them: course/hints/step3.md)
//   The math, with plots:  build/dev/docs/html/step3_causal_mask.html
//                          (built by ./attn test; its source: docs/step3_causal_mask.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <cstddef>  // std::size_t
#include <limits>   // std::numeric_limits<float>::infinity()

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs; once you use a
// parameter you may delete it, or leave it: it does no harm.

matrix causal_mask([[maybe_unused]] std::size_t n) {
  // TODO: an n x n matrix of zeros with -inf strictly above the diagonal.
  throw attn::not_implemented(3, "causal mask", "attn::causal_mask",
                              "exercises/step3_causal_mask.cpp");
}

void apply_causal_mask([[maybe_unused]] matrix_view S) {
  // TODO: S(i, j) = -inf for every j > i, for any shape of S.
  throw attn::not_implemented(3, "causal mask", "attn::apply_causal_mask",
                              "exercises/step3_causal_mask.cpp");
}

}  // namespace attn
