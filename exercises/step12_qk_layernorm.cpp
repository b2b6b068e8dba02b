// exercises/step12_qk_layernorm.cpp -- Step 12 (extension): QK-layernorm.
//
// TODO: write attn::layer_norm and attn::layer_norm_backward below.
// Test with `./attn step 12`.
//
// ----------------------------------------------------------------------------------------
// Why normalise the queries and the keys
// ----------------------------------------------------------------------------------------
// Step 6 showed that large scores make the softmax nearly one-hot, and then its gradient
// vanishes. In training at a high learning rate the weights that make q and k keep growing,
// so the scores s_ij = <q_i, k_j> / sqrt(d) grow with them, until each query puts all its
// weight on one key (entropy collapse). QK-layernorm normalises every query row and every
// key row before the scores: each row gets mean 0 and mean square at most 1, times a learned
// gain gamma. Then, by Cauchy-Schwarz, |s_ij| <= max|gamma_Q| max|gamma_K| d / sqrt(d),
// whatever the weights do.
//
// For one row x of length d (mean and variance over the row, eps = attn::layer_norm_epsilon):
//
//     mu = (1/d) sum_t x_t,   sigma^2 = (1/d) sum_t (x_t - mu)^2,   r = 1 / sqrt(sigma^2 + eps)
//     xhat_t = (x_t - mu) r,  y_t = gamma_t xhat_t
//
// ----------------------------------------------------------------------------------------
// The backward pass, in short
// ----------------------------------------------------------------------------------------
// Given dy = dL/dy for a row, the gain first: g_t = gamma_t dy_t is dL/dxhat_t. Moving x_t
// moves xhat_t directly (by r), and also moves mu and sigma, which moves every xhat. The chain
// rule through mu and sigma^2 leaves two means over the row:
//
//     dx_t = r (g_t - mean(g) - xhat_t mean(g xhat))        (mean(g xhat) = (1/d) sum_t g_t xhat_t)
//     dgamma_t = sum over the rows of dy_t xhat_t
//
// So dx sums to 0 along each row: adding the same number to every x_t changes nothing.
//
// ----------------------------------------------------------------------------------------
// Worked example: x = [1, 2, 3, 6], gamma = [1, 1, 1, 1]
// ----------------------------------------------------------------------------------------
//   mu = 3,  x - mu = [-2, -1, 0, 3],  sigma^2 = (4 + 1 + 0 + 9) / 4 = 3.5
//   sqrt(3.5 + eps) = 1.8708,  y = xhat = [-1.0690, -0.5345, 0, 1.6036]
//   Backward with dy = [1, 0, 0, 0]: g = dy, mean(g) = 0.25, mean(g xhat) = -1.0690 / 4,
//   dx = [0.2482, -0.2100, -0.1336, 0.0954] (sums to 0),  dgamma = [-1.0690, 0, 0, 0]
//
// ----------------------------------------------------------------------------------------
// In and out
// ----------------------------------------------------------------------------------------
//   layer_norm(X, gain, Y)
//       X: const_matrix_view, n x d (one row per query or key);  gain: span<const float>, d;
//       Y: matrix_view, n x d, output. Y may be X itself: read a row before you write it.
//   layer_norm_backward(X, gain, dY, dX, dgain)
//       X, gain: as above (the forward pass's inputs);  dY: n x d, dL/dY;
//       dX: n x d, output;  dgain: span<float>, d, output: WRITTEN, not added to.
//   Refused with attn::invalid_input("attn::layer_norm", "...; expected ...") (or
//   "attn::layer_norm_backward"), naming the sizes: d = 0, gain (or dgain) not of length d,
//   Y (dY, dX) not n x d. n = 0 rows is fine (dgain is then 0).
//   NaN in, NaN out, row by row: a NaN in row i of X makes row i of Y NaN, the other rows
//   are untouched.
//
// ----------------------------------------------------------------------------------------
// THE TRAPS
// ----------------------------------------------------------------------------------------
//   1. The variance divides by d, not d - 1 (LayerNorm's biased variance).
//   2. eps goes INSIDE the square root: 1 / sqrt(sigma^2 + eps), not 1 / (sigma + eps).
//      Without eps a constant row gives 0 / 0 = NaN; with it, y = 0.
//   3. Two passes: the mean first, then the squares of x - mu. mean(x^2) - mu^2 loses every
//      digit when |mu| is large against sigma (rows such as 100 + small noise).
//   4. The backward needs both means: mean(g) (mu moves) and xhat mean(g xhat) (sigma
//      moves); and g is gamma dy, not dy.
//   5. dgamma sums over the ROWS (one number per column t), and is written, not added to
//      what dgain held.
//
// ----------------------------------------------------------------------------------------
// Help
// ----------------------------------------------------------------------------------------
//   Hints, one at a time:  ./attn hint 12         (all of them: course/hints/step12.md)
//   The math:              build/dev/docs/html/step12_qk_layernorm.html
//                          (built by ./attn test; its source: docs/step12_qk_layernorm.md)
//   The contract:          contract/include/attn/contract.hpp
// ----------------------------------------------------------------------------------------

#include <attn/contract.hpp>

// What you will probably need:
#include <cmath>    // std::sqrt
#include <cstddef>  // std::size_t
#include <span>
#include <string>  // std::to_string, for the error messages
#include <vector>

namespace attn {

// [[maybe_unused]] only silences the compiler while the bodies are stubs.

void layer_norm([[maybe_unused]] const_matrix_view X, [[maybe_unused]] std::span<const float> gain,
                [[maybe_unused]] matrix_view Y) {
  // TODO: check the shapes; for each row: mu, sigma^2 (divide by d), r = 1 / sqrt(sigma^2 +
  //       attn::layer_norm_epsilon); Y(i, t) = gain[t] * (X(i, t) - mu) * r.
  throw attn::not_implemented(12, "QK-layernorm", "attn::layer_norm", "exercises/step12_qk_layernorm.cpp");
}

void layer_norm_backward([[maybe_unused]] const_matrix_view X, [[maybe_unused]] std::span<const float> gain,
                         [[maybe_unused]] const_matrix_view dY, [[maybe_unused]] matrix_view dX,
                         [[maybe_unused]] std::span<float> dgain) {
  // TODO: check the shapes; for each row: xhat and r as in layer_norm, g = gain * dY(i, .),
  //       dX(i, t) = r * (g[t] - mean(g) - xhat[t] * mean(g * xhat));
  //       dgain[t] = sum over the rows of dY(i, t) * xhat[t].
  throw attn::not_implemented(12, "QK-layernorm", "attn::layer_norm_backward",
                              "exercises/step12_qk_layernorm.cpp");
}

}  // namespace attn
