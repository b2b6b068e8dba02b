// Step 12's typical mistakes: layer_norm and layer_norm_backward. (course/mistakes/mistake.hpp
// says what an entry is.)
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "mistake.hpp"

namespace attn::mistakes::step12 {
namespace {

using std::span;

/// What an entry gets wrong; the defaults are the right formulas.
struct twist {
  bool unbiased = false;         // sigma^2 divided by d - 1
  bool eps_outside = false;      // r = 1 / (sigma + eps)
  bool no_eps = false;           // r = 1 / sigma
  bool one_pass = false;         // sigma^2 = mean(x^2) - mu^2, in float
  bool no_gain = false;          // y = xhat
  bool no_mean_g = false;        // dx without mean(g)
  bool no_xhat_term = false;     // dx without xhat mean(g xhat)
  bool g_is_dy = false;          // g = dy in the backward
  bool dgain_added = false;      // dgain += ..., never cleared
  bool dgain_last_row = false;   // dgain = dy xhat of each row in turn: the last row's
  bool dgain_of_g = false;       // dgain sums g xhat = gamma dy xhat
};

/// xhat of one row (double), r returned, the twist's way.
double normalise(span<const float> x, std::vector<double>& xhat, const twist& w) {
  const std::size_t d = x.size();
  double mu = 0.0, var = 0.0;
  if (w.one_pass) {
    float sum = 0.0f, squares = 0.0f;
    for (float v : x) {
      sum += v;
      squares += v * v;
    }
    const float m = sum / static_cast<float>(d);
    mu = m;
    var = squares / static_cast<float>(d) - m * m;
  } else {
    for (float v : x) mu += v;
    mu /= static_cast<double>(d);
    for (float v : x) var += (v - mu) * (v - mu);
    var /= w.unbiased ? static_cast<double>(d) - 1.0 : static_cast<double>(d);
  }
  const double eps = attn::layer_norm_epsilon;
  const double r = w.no_eps ? 1.0 / std::sqrt(var) : w.eps_outside ? 1.0 / (std::sqrt(var) + eps) : 1.0 / std::sqrt(var + eps);
  xhat.resize(d);
  for (std::size_t t = 0; t < d; ++t) xhat[t] = (x[t] - mu) * r;
  return r;
}

void forward(const_matrix_view X, span<const float> gain, matrix_view Y, const twist& w) {
  matrix scratch(Y.rows, Y.cols);
  ref::layer_norm(X, gain, scratch);  // the checks, without touching Y (which may be X)
  std::vector<double> xhat;
  for (std::size_t i = 0; i < X.rows; ++i) {
    normalise(X.row(i), xhat, w);
    for (std::size_t t = 0; t < X.cols; ++t) Y(i, t) = static_cast<float>(w.no_gain ? xhat[t] : gain[t] * xhat[t]);
  }
}

void backward(const_matrix_view X, span<const float> gain, const_matrix_view dY, matrix_view dX, span<float> dgain,
              const twist& w) {
  matrix scratch(dX.rows, dX.cols);
  std::vector<float> scratch_gain(dgain.size());
  ref::layer_norm_backward(X, gain, dY, scratch, scratch_gain);  // the checks
  const std::size_t d = X.cols;
  std::vector<double> xhat, g(d), sum(d, 0.0);
  if (w.dgain_added) {
    for (std::size_t t = 0; t < d; ++t) sum[t] = dgain[t];
  }
  for (std::size_t i = 0; i < X.rows; ++i) {
    const double r = normalise(X.row(i), xhat, w);
    double g_mean = 0.0, gx_mean = 0.0;
    for (std::size_t t = 0; t < d; ++t) {
      g[t] = w.g_is_dy ? static_cast<double>(dY(i, t)) : static_cast<double>(gain[t]) * dY(i, t);
      g_mean += g[t];
      gx_mean += g[t] * xhat[t];
      const double term = (w.dgain_of_g ? static_cast<double>(gain[t]) : 1.0) * dY(i, t) * xhat[t];
      sum[t] = w.dgain_last_row ? term : sum[t] + term;
    }
    g_mean /= static_cast<double>(d);
    gx_mean /= static_cast<double>(d);
    for (std::size_t t = 0; t < d; ++t) {
      const double mean_term = w.no_mean_g ? 0.0 : g_mean;
      const double xhat_term = w.no_xhat_term ? 0.0 : xhat[t] * gx_mean;
      dX(i, t) = static_cast<float>(r * (g[t] - mean_term - xhat_term));
    }
  }
  for (std::size_t t = 0; t < d; ++t) dgain[t] = static_cast<float>(sum[t]);
}

/// An entry whose forward and backward passes both carry the twist W (a mistake in xhat).
#define ATTN_STEP12_BOTH(W)                                                                           \
  static void layer_norm(const_matrix_view X, span<const float> gain, matrix_view Y) {               \
    forward(X, gain, Y, W);                                                                           \
  }                                                                                                   \
  static void layer_norm_backward(const_matrix_view X, span<const float> gain, const_matrix_view dY, \
                                  matrix_view dX, span<float> dgain) {                                \
    backward(X, gain, dY, dX, dgain, W);                                                              \
  }
/// An entry whose backward pass alone carries the twist W.
#define ATTN_STEP12_BACKWARD(W)                                                                       \
  static void layer_norm_backward(const_matrix_view X, span<const float> gain, const_matrix_view dY, \
                                  matrix_view dX, span<float> dgain) {                                \
    backward(X, gain, dY, dX, dgain, W);                                                              \
  }

struct unbiased_variance {
  static constexpr info about{
      .step = 12, .id = "unbiased_variance", .name = "divided the variance by d - 1 instead of d",
      .why = "LayerNorm uses the biased variance sigma^2 = (1/d) sum_t (x_t - mu)^2, the mean square of the "
             "row itself, not an estimate for a larger population; with d - 1 every xhat is too small by "
             "sqrt((d - 1) / d) and the row's mean square is no longer sigma^2 / (sigma^2 + eps)",
      .hint = 1};
  ATTN_STEP12_BOTH(twist{.unbiased = true})
};
ATTN_MISTAKE(unbiased_variance);

struct eps_outside_sqrt {
  static constexpr info about{
      .step = 12, .id = "eps_outside_sqrt", .name = "1 / (sigma + eps) instead of 1 / sqrt(sigma^2 + eps)",
      .why = "eps is added to the variance, inside the square root: r = 1 / sqrt(sigma^2 + eps). Outside it, eps "
             "is compared with sigma instead of sigma^2 and is far too small to matter: a near-constant row "
             "(sigma^2 below eps) is blown up to size 1 instead of staying small",
      .hint = 2};
  ATTN_STEP12_BOTH(twist{.eps_outside = true})
};
ATTN_MISTAKE(eps_outside_sqrt);

struct no_epsilon {
  static constexpr info about{
      .step = 12, .id = "no_epsilon", .name = "no eps: divided by sigma alone",
      .why = "Without eps a constant row has sigma = 0 and gives 0 / 0 = NaN, and a near-constant row is blown "
             "up to size 1, its rounding noise included; r = 1 / sqrt(sigma^2 + attn::layer_norm_epsilon) "
             "keeps both finite and small",
      .hint = 2};
  ATTN_STEP12_BOTH(twist{.no_eps = true})
};
ATTN_MISTAKE(no_epsilon);

struct one_pass_variance {
  static constexpr info about{
      .step = 12, .id = "one_pass_variance", .name = "sigma^2 as mean(x^2) - mu^2 in float",
      .why = "mean(x^2) - mu^2 is right in exact arithmetic but subtracts two nearly equal numbers when |mu| is "
             "large against sigma: for a row 100 + noise both are about 10^4 and float keeps only about 7 "
             "digits of them, so sigma^2 loses most of its digits or even comes out negative. Take the mean "
             "first, then the mean of (x_t - mu)^2 (two passes)",
      .hint = 3};
  ATTN_STEP12_BOTH(twist{.one_pass = true})
};
ATTN_MISTAKE(one_pass_variance);

struct forward_gain_forgotten {
  static constexpr info about{
      .step = 12, .id = "forward_gain_forgotten", .name = "y = xhat, the gain never applied",
      .why = "The output is y_t = gamma_t xhat_t: the learned gain sets the size of each column after the "
             "normalisation (and bounds the scores by max|gamma_Q| max|gamma_K| sqrt(d)); without it every "
             "row comes out with the same fixed scale",
      .hint = 1};
  static void layer_norm(const_matrix_view X, span<const float> gain, matrix_view Y) {
    forward(X, gain, Y, twist{.no_gain = true});
  }
};
ATTN_MISTAKE(forward_gain_forgotten);

struct backward_no_mean_term {
  static constexpr info about{
      .step = 12, .id = "backward_no_mean_term", .name = "dx without the mean(g) term",
      .why = "Moving x_t also moves the mean mu, which moves every xhat; that path gives the -mean(g) in "
             "dx = r (g - mean(g) - xhat mean(g xhat)). Without it dx no longer sums to 0 along the row, "
             "although adding a constant to a row changes nothing",
      .hint = 4};
  ATTN_STEP12_BACKWARD(twist{.no_mean_g = true})
};
ATTN_MISTAKE(backward_no_mean_term);

struct backward_no_xhat_term {
  static constexpr info about{
      .step = 12, .id = "backward_no_xhat_term", .name = "dx without the xhat mean(g xhat) term",
      .why = "Moving x_t also moves sigma, which rescales every xhat; that path gives the -xhat_t mean(g xhat) "
             "in dx = r (g - mean(g) - xhat mean(g xhat)). Without it dx treats sigma as a constant and "
             "disagrees with the finite differences of the forward pass",
      .hint = 4};
  ATTN_STEP12_BACKWARD(twist{.no_xhat_term = true})
};
ATTN_MISTAKE(backward_no_xhat_term);

struct backward_gain_forgotten {
  static constexpr info about{
      .step = 12, .id = "backward_gain_forgotten", .name = "g = dy in the backward pass, the gain forgotten",
      .why = "y_t = gamma_t xhat_t, so the gradient reaching xhat_t is g_t = gamma_t dy_t; with g = dy the "
             "backward pass is that of a layer with gain 1, right only when every gamma_t is 1",
      .hint = 4};
  ATTN_STEP12_BACKWARD(twist{.g_is_dy = true})
};
ATTN_MISTAKE(backward_gain_forgotten);

struct dgain_accumulated {
  static constexpr info about{
      .step = 12, .id = "dgain_accumulated", .name = "dgain added to instead of written",
      .why = "dgain is an output: dgamma_t = sum over the rows of dy_t xhat_t, written whole. Adding to what "
             "the buffer held (never setting it to 0 first) gives a different answer on every call, and "
             "NaN when the buffer held garbage",
      .hint = 5};
  ATTN_STEP12_BACKWARD(twist{.dgain_added = true})
};
ATTN_MISTAKE(dgain_accumulated);

struct dgain_last_row_only {
  static constexpr info about{
      .step = 12, .id = "dgain_last_row_only", .name = "dgain set from each row in turn, so only the last row counts",
      .why = "One gain gamma_t serves every row, so its gradient sums over the rows: dgamma_t = sum_i dy_it "
             "xhat_it. Writing dgain[t] = dy_t xhat_t inside the loop over rows keeps only the last row's term",
      .hint = 5};
  ATTN_STEP12_BACKWARD(twist{.dgain_last_row = true})
};
ATTN_MISTAKE(dgain_last_row_only);

struct dgain_times_gain {
  static constexpr info about{
      .step = 12, .id = "dgain_times_gain", .name = "dgain sums g xhat = gamma dy xhat",
      .why = "dL/dgamma_t = sum_i dy_it d(y_it)/d(gamma_t) = sum_i dy_it xhat_it: the gain is what is being "
             "differentiated, so it does not appear; g = gamma dy is the gradient that flows on to xhat, "
             "not the one of the gain",
      .hint = 5};
  ATTN_STEP12_BACKWARD(twist{.dgain_of_g = true})
};
ATTN_MISTAKE(dgain_times_gain);

#undef ATTN_STEP12_BOTH
#undef ATTN_STEP12_BACKWARD

}  // namespace
}  // namespace attn::mistakes::step12
