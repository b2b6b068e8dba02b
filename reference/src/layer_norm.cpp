// Step 12 of the reference: layer normalisation of each row (QK-layernorm), forward and
// backward, vectorised with the kernels of the other steps (kernel_table.hpp). Per row, in
// float: the sum by the dot product with a row of ones, the centred row x - mu by
// scaled_difference, sigma^2 by the dot product of the centred row with itself (two passes:
// no cancellation of E[x^2] - mu^2), then products by scale_add and scaled_difference.
// Only r = 1 / sqrt(sigma^2 + eps) is taken in double, once per row.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <attn/contract.hpp>  // attn::layer_norm_epsilon
#include <attn/errors.hpp>
#include <attn/reference.hpp>

#include "kernel_table.hpp"
#include "shapes.hpp"

namespace attn::ref {
namespace {

void require_rows(const char* function, const char* name, std::size_t rows, std::size_t cols, const_matrix_view X) {
  if (rows != X.rows || cols != X.cols) {
    invalid_input(function, std::string(name) + " is " + detail::shape(rows, cols) + " but X is " +
                                detail::shape(X.rows, X.cols) + "; expected " + name + " to be " +
                                detail::shape(X.rows, X.cols) + ", the shape of X");
  }
}

void require_gain(const char* function, const char* name, std::size_t size, const_matrix_view X) {
  if (X.cols == 0) {
    invalid_input(function, "X is " + detail::shape(X.rows, X.cols) +
                                ", so d = 0; expected d >= 1 columns to take a mean over");
  }
  if (size != X.cols) {
    invalid_input(function, std::string(name) + " has " + std::to_string(size) + " elements but X is " +
                                detail::shape(X.rows, X.cols) + "; expected d = " + std::to_string(X.cols) +
                                " elements, one per column of X");
  }
}

/// xhat = (x - mu) r for one row of length d; returns r. `ones` holds d ones. x and xhat
/// may not overlap.
float normalise_row(const detail::kernel_table& k, const float* x, const float* ones, float* xhat, std::size_t d) {
  const float fd = static_cast<float>(d);
  const float mean = k.dot(x, ones, d) / fd;             // the sum, each product exact
  k.scaled_difference(ones, x, mean, xhat, d);           // xhat_t = 1 (x_t - mu)
  const float var = k.dot(xhat, xhat, d) / fd;           // two-pass: sum of (x_t - mu)^2
  const float r = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var) + attn::layer_norm_epsilon));
  k.scale_add(xhat, r, 0.0f, ones, d);                   // xhat_t = r (x_t - mu) + 0
  return r;
}

}  // namespace

void layer_norm(const_matrix_view X, std::span<const float> gain, matrix_view Y) {
  const char* const f = "attn::ref::layer_norm";
  require_gain(f, "gain", gain.size(), X);
  require_rows(f, "Y", Y.rows, Y.cols, X);
  const std::size_t d = X.cols;
  const detail::kernel_table& k = detail::active_kernels();
  const std::vector<float> ones(d, 1.0f);
  std::vector<float> xhat(d);  // a copy, so Y may be X
  for (std::size_t i = 0; i < X.rows; ++i) {
    normalise_row(k, X.data + i * d, ones.data(), xhat.data(), d);
    k.scaled_difference(gain.data(), xhat.data(), 0.0f, Y.data + i * d, d);  // y_t = gamma_t (xhat_t - 0)
  }
}

void layer_norm_backward(const_matrix_view X, std::span<const float> gain, const_matrix_view dY, matrix_view dX,
                         std::span<float> dgain) {
  const char* const f = "attn::ref::layer_norm_backward";
  require_gain(f, "gain", gain.size(), X);
  require_gain(f, "dgain", dgain.size(), X);
  require_rows(f, "dY", dY.rows, dY.cols, X);
  require_rows(f, "dX", dX.rows, dX.cols, X);
  const std::size_t d = X.cols;
  const detail::kernel_table& k = detail::active_kernels();
  const std::vector<float> ones(d, 1.0f);
  std::vector<float> xhat(d), g(d), product(d), sum(d, 0.0f);
  const float fd = static_cast<float>(d);
  for (std::size_t i = 0; i < X.rows; ++i) {
    const float* dy = dY.data + i * d;
    float* dx = dX.data + i * d;
    const float r = normalise_row(k, X.data + i * d, ones.data(), xhat.data(), d);
    k.scaled_difference(gain.data(), dy, 0.0f, g.data(), d);   // g = gamma dy
    const float g_mean = k.dot(g.data(), ones.data(), d) / fd;
    const float gx_mean = k.dot(g.data(), xhat.data(), d) / fd;
    k.scaled_difference(ones.data(), g.data(), g_mean, dx, d);  // g - mean(g)
    k.scale_add(dx, 1.0f, -gx_mean, xhat.data(), d);            // - xhat mean(g xhat)
    k.scale_add(dx, r, 0.0f, ones.data(), d);                   // times r
    k.scaled_difference(dy, xhat.data(), 0.0f, product.data(), d);  // dy xhat
    k.scale_add(sum.data(), 1.0f, 1.0f, product.data(), d);
  }
  std::copy(sum.begin(), sum.end(), dgain.begin());  // written, not added to
}

}  // namespace attn::ref
