// solutions/step12_qk_layernorm.cpp -- answer key for step 12: QK-layernorm, the layer
// normalisation of each query and key row, forward and backward.
#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace attn {
namespace {

std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

/// d >= 1 and a vector (gain or dgain) of length d.
void check_gain(const char* function, const char* name, std::size_t size, const_matrix_view X) {
  if (X.cols == 0) {
    attn::invalid_input(function, "X is " + shape(X.rows, X.cols) +
                                      ", so d = 0; expected d >= 1 columns to take a mean over");
  }
  if (size != X.cols) {
    attn::invalid_input(function, std::string(name) + " has " + std::to_string(size) + " elements but X is " +
                                      shape(X.rows, X.cols) + "; expected d = " + std::to_string(X.cols));
  }
}

/// A matrix of the shape of X.
void check_like_x(const char* function, const char* name, std::size_t rows, std::size_t cols, const_matrix_view X) {
  if (rows != X.rows || cols != X.cols) {
    attn::invalid_input(function, std::string(name) + " is " + shape(rows, cols) + " but X is " +
                                      shape(X.rows, X.cols) + "; expected " + shape(X.rows, X.cols));
  }
}

//! [normalise_row]
/// xhat = (x - mu) r for one row, r = 1 / sqrt(sigma^2 + eps) returned. Two passes: first
/// the mean, then the squares of the deviations from it (not mean(x^2) - mu^2, which
/// cancels catastrophically when |mu| is large against sigma).
double normalise_row(std::span<const float> x, std::span<double> xhat) {
  const double d = static_cast<double>(x.size());
  double sum = 0.0;
  for (float v : x) sum += v;
  const double mu = sum / d;
  double squares = 0.0;
  for (float v : x) squares += (v - mu) * (v - mu);
  const double var = squares / d;  // biased: divide by d, as LayerNorm does
  const double r = 1.0 / std::sqrt(var + attn::layer_norm_epsilon);  // eps inside the root
  for (std::size_t t = 0; t < x.size(); ++t) xhat[t] = (x[t] - mu) * r;
  return r;
}
//! [normalise_row]

}  // namespace

//! [layer_norm]
void layer_norm(const_matrix_view X, std::span<const float> gain, matrix_view Y) {
  check_gain("attn::layer_norm", "gain", gain.size(), X);
  check_like_x("attn::layer_norm", "Y", Y.rows, Y.cols, X);
  std::vector<double> xhat(X.cols);
  for (std::size_t i = 0; i < X.rows; ++i) {
    normalise_row(X.row(i), xhat);  // reads the whole row before writing it: Y may be X
    for (std::size_t t = 0; t < X.cols; ++t) Y(i, t) = static_cast<float>(gain[t] * xhat[t]);
  }
}
//! [layer_norm]

//! [layer_norm_backward]
void layer_norm_backward(const_matrix_view X, std::span<const float> gain, const_matrix_view dY,
                         matrix_view dX, std::span<float> dgain) {
  const char* const f = "attn::layer_norm_backward";
  check_gain(f, "gain", gain.size(), X);
  check_gain(f, "dgain", dgain.size(), X);
  check_like_x(f, "dY", dY.rows, dY.cols, X);
  check_like_x(f, "dX", dX.rows, dX.cols, X);
  const std::size_t d = X.cols;
  std::vector<double> xhat(d), g(d), dgain_sum(d, 0.0);
  for (std::size_t i = 0; i < X.rows; ++i) {
    const double r = normalise_row(X.row(i), xhat);
    double g_mean = 0.0, gx_mean = 0.0;
    for (std::size_t t = 0; t < d; ++t) {
      g[t] = static_cast<double>(gain[t]) * dY(i, t);  // the gradient reaching xhat
      g_mean += g[t];
      gx_mean += g[t] * xhat[t];
      dgain_sum[t] += dY(i, t) * xhat[t];  // y_t = gamma_t xhat_t: dL/dgamma_t sums dy_t xhat_t
    }
    g_mean /= static_cast<double>(d);
    gx_mean /= static_cast<double>(d);
    // dx = r (g - mean(g) - xhat mean(g xhat)): the two means are what moving mu and sigma
    // takes back.
    for (std::size_t t = 0; t < d; ++t) dX(i, t) = static_cast<float>(r * (g[t] - g_mean - xhat[t] * gx_mean));
  }
  for (std::size_t t = 0; t < d; ++t) dgain[t] = static_cast<float>(dgain_sum[t]);  // written, not added to
}
//! [layer_norm_backward]

}  // namespace attn
