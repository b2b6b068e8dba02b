// exercises/step2_scaling.cpp -- Step 2: scaling by 1/sqrt(d).
//
// TODO: write attn::scaled_score and attn::scores below. Test with `./attn step 2`.
//
// ----------------------------------------------------------------------------------------
// The attention score
// ----------------------------------------------------------------------------------------
// The score of query i against key j is the dot product, scaled:
//
//     beta_ij  =  (q_i . k_j) / sqrt(d)          d = length of each query and key
//
// (step 3 adds a mask to it). Why sqrt(d)? With independent unit-variance components,
// Var[q . k] = d, so the raw dot product grows like sqrt(d). Dividing by sqrt(d) keeps
// the scores around unit size whatever d is; step 6 measures what goes wrong otherwise.
//
// All the scores at once are a matrix product:
//
//     S = Q K^T / sqrt(d),     S(i, j) = q_i . k_j / sqrt(d)
//
// ----------------------------------------------------------------------------------------
// Worked example (from the card: docs/worked_examples.md, the course's worked examples)
// ----------------------------------------------------------------------------------------
//     q = [2.0, 0.5, 1.0, -1.5],  k = [1.0, 1.0, -0.5, 2.0],  d = 4
//     q . k = 2.0 + 0.5 - 0.5 - 3.0 = -1.0            (step 1)
//     score = -1.0 / sqrt(4) = -1.0 / 2 = -0.5
//
// For scores: with Q holding 3 queries (3 x 4) and K holding 5 keys (5 x 4), S is
// 3 x 5: row i lists query i's scores against every key.
//
//          key 0   key 1   key 2   key 3   key 4
//   q 0  [ S(0,0)  S(0,1)  S(0,2)  S(0,3)  S(0,4) ]
//   q 1  [ S(1,0)  ...                            ]
//   q 2  [ S(2,0)  ...                     S(2,4) ]
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   scaled_score(q, k)   q, k: spans of length d          returns q . k / sqrt(d)
//   scores(Q, K, S)      Q: n_q x d, one query per row (const_matrix_view)
//                        K: n_k x d, one key per row   (const_matrix_view)
//                        S: n_q x n_k output           (matrix_view); write every element
//   Views: Q.rows, Q.cols, Q(i, j), and Q.row(i) gives row i as a std::span.
//   You may call your own attn::dot from step 1 (write it qualified: attn::dot).
//
// ----------------------------------------------------------------------------------------
// Bad input: attn::invalid_input("attn::<function>", "<what was wrong>; expected <what>")
// ----------------------------------------------------------------------------------------
//   * scaled_score: q and k of different lengths; d = 0 (empty q and k).
//   * scores: Q.cols != K.cols; d = Q.cols = 0; S not n_q x n_k.
//   Every message names the sizes (std::to_string; "d = 0" for d = 0), e.g.
//       "S is 5 x 3 but Q has 3 rows and K has 5 rows; expected S to be 3 x 5".
//   * NaN in, NaN out.
//
// ----------------------------------------------------------------------------------------
// THE TRAPS
// ----------------------------------------------------------------------------------------
//   1. Divide by sqrt(d), not by d. (-1 / 4 = -0.25 is wrong; -1 / 2 = -0.5 is right.)
//   2. d = 0 makes 1/sqrt(d) = 1/0: refuse it with invalid_input, don't return inf/NaN.
//   3. S is n_q x n_k, not n_k x n_q: rows are queries, columns are keys. With a
//      square test (n_q == n_k) the transposed answer can even look right.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 2          (all of them: course/hints/step2.md)
//   The math, with plots:  build/dev/docs/html/step2_scaling.html
//                          (built by ./attn test; its source: docs/step2_scaling.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <cmath>    // std::sqrt
#include <cstddef>  // std::size_t
#include <span>
#include <string>  // std::to_string, for the error messages

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs; once you use a
// parameter you may delete it, or leave it: it does no harm.

float scaled_score([[maybe_unused]] std::span<const float> q,
                   [[maybe_unused]] std::span<const float> k) {
  // TODO: check the lengths and d, then return attn::dot(q, k) / sqrt(d).
  throw attn::not_implemented(2, "scaling by 1/sqrt(d)", "attn::scaled_score",
                              "exercises/step2_scaling.cpp");
}

void scores([[maybe_unused]] const_matrix_view Q, [[maybe_unused]] const_matrix_view K,
            [[maybe_unused]] matrix_view S) {
  // TODO: check the shapes, then S(i, j) = (row i of Q) . (row j of K) / sqrt(d).
  throw attn::not_implemented(2, "scaling by 1/sqrt(d)", "attn::scores",
                              "exercises/step2_scaling.cpp");
}

}  // namespace attn
