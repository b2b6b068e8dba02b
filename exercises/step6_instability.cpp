// exercises/step6_instability.cpp -- Step 6: why attention training goes unstable.
//
// TODO: write attn::dot_variance, attn::entropy and attn::softmax_jacobian below.
// Test with `./attn step 6`.
//
// ----------------------------------------------------------------------------------------
// The story these three functions tell
// ----------------------------------------------------------------------------------------
// 1. Scores grow with d. For q, k with independent standard normal components,
//        Var[q . k] = sum_t Var[q_t k_t] = d.
//    dot_variance measures it: with d = 64 the raw dot product has spread sqrt(64) = 8.
// 2. Big scores saturate the softmax. Without the 1/sqrt(d) of step 2, scores [1, 2, 3]
//    become [8, 16, 24]; the weights go from [0.090, 0.245, 0.665] to almost one-hot
//    [1.1e-7, 0.00034, 0.99966]. entropy H(a) = -sum_j a_j ln a_j measures how spread
//    out the weights are: ln 3 = 1.0986 for uniform over 3, 0.8324 for softmax([1,2,3]),
//    0.0030 for softmax([8,16,24]), 0 for one-hot.
// 3. Saturated softmax has vanishing gradients. The Jacobian of a = softmax(s) is
//        J_jl = d a_j / d s_l = a_j (delta_jl - a_l),   i.e.  J = diag(a) - a a^T.
//    Its trace sum_j a_j (1 - a_j) is 0.4895 for softmax([1,2,3]) but 0.00067 for
//    softmax([8,16,24]): the gradient through the weights all but vanishes, and
//    training stalls or lurches. That is the "training instability" of the card
//    (docs/worked_examples.md), and why beta_ij divides by sqrt(d).
//
//    J for softmax([1, 2, 3]):   [  0.0819  -0.0220  -0.0599 ]
//                                [ -0.0220   0.1848  -0.1628 ]    each row sums to 0
//                                [ -0.0599  -0.1628   0.2227 ]
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   dot_variance(d, samples, seed) -> double
//       std::mt19937_64 gen(seed); std::normal_distribution<float> (mean 0, sd 1).
//       For each of `samples` draws fill q and k (length d, std::vector<float>), add
//       (attn::dot(q, k))^2 to a double sum; return sum / samples (the mean is known to
//       be 0, so this is the variance). d = 0 gives 0. Same seed -> same answer.
//   entropy(a) -> float      a: span<const float> of weights; natural log (nats).
//                            Empty -> 0.
//   softmax_jacobian(a, J)   a: weights, length n; J: n x n output (matrix_view),
//                            J(j, l) = a_j * ((j == l ? 1 : 0) - a_l).
//
// ----------------------------------------------------------------------------------------
// Bad input
// ----------------------------------------------------------------------------------------
//   * dot_variance with samples == 0 (a mean of nothing):
//       attn::invalid_input("attn::dot_variance", "samples = 0; expected at least 1");
//   * softmax_jacobian with J not n x n: invalid_input naming J's shape and n.
//   * NaN in, NaN out: a NaN weight makes the entropy NaN.
//
// ----------------------------------------------------------------------------------------
// THE TRAPS
// ----------------------------------------------------------------------------------------
//   1. 0 * log(0) = 0 * (-inf) = NaN in floating point, but the limit of x ln x as
//      x -> 0 is 0. Skip terms with a_j == 0 (masked positions have exactly that), but
//      do not skip NaN: NaN == 0 is false, so a plain `== 0` test already lets it through.
//   2. Natural log (std::log), not log base 2 (std::log2): the tests expect ln n for
//      uniform weights, 1.0986 for n = 3, not 1.585.
//   3. The Jacobian has a diagonal term. -a_j a_l alone (forgetting delta_jl) is wrong on
//      the diagonal: J_jj = a_j (1 - a_j). Check: every row of J sums to 0.
//   4. dot_variance: square the dot product of each sample, then average; averaging first
//      and squaring at the end gives about 0.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 6          (all of them: course/hints/step6.md)
//   The math, with plots:  build/dev/docs/html/step6_instability.html
//                          (built by ./attn test; its source: docs/step6_instability.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <cmath>    // std::log
#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint64_t
#include <random>   // std::mt19937_64, std::normal_distribution
#include <span>
#include <string>  // std::to_string, for the error messages
#include <vector>

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs; once you use a
// parameter you may delete it, or leave it: it does no harm.

double dot_variance([[maybe_unused]] std::size_t d, [[maybe_unused]] std::size_t samples,
                    [[maybe_unused]] std::uint64_t seed) {
  // TODO: refuse samples == 0; average (attn::dot(q, k))^2 over `samples` random pairs.
  throw attn::not_implemented(6, "why attention training goes unstable", "attn::dot_variance",
                              "exercises/step6_instability.cpp");
}

float entropy([[maybe_unused]] std::span<const float> a) {
  // TODO: -sum_j a_j ln a_j, skipping a_j == 0.
  throw attn::not_implemented(6, "why attention training goes unstable", "attn::entropy",
                              "exercises/step6_instability.cpp");
}

void softmax_jacobian([[maybe_unused]] std::span<const float> a, [[maybe_unused]] matrix_view J) {
  // TODO: check J is n x n, then J(j, l) = a_j * (delta_jl - a_l).
  throw attn::not_implemented(6, "why attention training goes unstable",
                              "attn::softmax_jacobian", "exercises/step6_instability.cpp");
}

}  // namespace attn
