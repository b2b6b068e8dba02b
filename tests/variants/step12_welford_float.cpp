// A correct step 12 that must be accepted: everything in float, the mean and the variance
// by Welford's one-pass update (m_k = m_{k-1} + (x_k - m_{k-1}) / k, M2 += (x_k - m_{k-1})
// (x_k - m_k)), xhat recomputed in the backward pass, and dx as r g - r mean(g) - r xhat
// mean(g xhat) term by term.
#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace attn {
namespace {

void refuse(const char* f, const_matrix_view X, std::size_t gain, std::size_t rows, std::size_t cols) {
  if (X.cols == 0) attn::invalid_input(f, "X has 0 columns (rows " + std::to_string(X.rows) + "); expected d >= 1");
  if (gain != X.cols) {
    attn::invalid_input(f, "a gain of length " + std::to_string(gain) + " for d = " + std::to_string(X.cols) +
                               "; expected length d");
  }
  if (rows != X.rows || cols != X.cols) {
    attn::invalid_input(f, "an output of " + std::to_string(rows) + " x " + std::to_string(cols) + " for X of " +
                               std::to_string(X.rows) + " x " + std::to_string(X.cols) + "; expected the same shape");
  }
}

float welford(std::span<const float> x, std::vector<float>& xhat) {
  float mean = 0.0f, m2 = 0.0f;
  for (std::size_t k = 0; k < x.size(); ++k) {
    const float before = x[k] - mean;
    mean += before / static_cast<float>(k + 1);
    m2 += before * (x[k] - mean);
  }
  const float r = 1.0f / std::sqrt(m2 / static_cast<float>(x.size()) + attn::layer_norm_epsilon);
  xhat.resize(x.size());
  for (std::size_t t = 0; t < x.size(); ++t) xhat[t] = (x[t] - mean) * r;
  return r;
}

}  // namespace

void layer_norm(const_matrix_view X, std::span<const float> gain, matrix_view Y) {
  refuse("attn::layer_norm", X, gain.size(), Y.rows, Y.cols);
  std::vector<float> xhat;
  for (std::size_t i = 0; i < X.rows; ++i) {
    welford(X.row(i), xhat);
    for (std::size_t t = 0; t < X.cols; ++t) Y(i, t) = gain[t] * xhat[t];
  }
}

void layer_norm_backward(const_matrix_view X, std::span<const float> gain, const_matrix_view dY, matrix_view dX,
                         std::span<float> dgain) {
  const char* const f = "attn::layer_norm_backward";
  refuse(f, X, gain.size(), dY.rows, dY.cols);
  refuse(f, X, dgain.size(), dX.rows, dX.cols);
  const std::size_t d = X.cols;
  for (float& v : dgain) v = 0.0f;
  std::vector<float> xhat, g(d);
  for (std::size_t i = 0; i < X.rows; ++i) {
    const float r = welford(X.row(i), xhat);
    float g_sum = 0.0f, gx_sum = 0.0f;
    for (std::size_t t = 0; t < d; ++t) {
      g[t] = gain[t] * dY(i, t);
      g_sum += g[t];
      gx_sum += g[t] * xhat[t];
      dgain[t] += dY(i, t) * xhat[t];
    }
    const float g_mean = g_sum / static_cast<float>(d), gx_mean = gx_sum / static_cast<float>(d);
    for (std::size_t t = 0; t < d; ++t) dX(i, t) = r * g[t] - r * g_mean - r * xhat[t] * gx_mean;
  }
}

}  // namespace attn
