// Steps 11 and 12 of the reference, first version: the attention backward pass and
// layer normalisation, forward and backward, in plain loops with double sums. Correct, not
// yet vectorised.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <attn/contract.hpp>  // attn::layer_norm_epsilon
#include <attn/errors.hpp>
#include <attn/reference.hpp>

#include "shapes.hpp"

namespace attn::ref {
namespace {

void require_shape(const char* function, const char* name, std::size_t rows, std::size_t cols,
                   std::size_t want_rows, std::size_t want_cols, const char* what) {
  if (rows != want_rows || cols != want_cols) {
    invalid_input(function, std::string(name) + " is " + detail::shape(rows, cols) + "; expected " +
                                detail::shape(want_rows, want_cols) + " (" + what + ")");
  }
}

}  // namespace

void attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V, const_matrix_view dO,
                        bool causal, matrix_view dQ, matrix_view dK, matrix_view dV) {
  const char* const f = "attn::ref::attention_backward";
  detail::check_score_shapes(f, Q, K, matrix_view(nullptr, Q.rows, K.rows), "A");
  detail::check_value_shapes(f, Q.rows, K.rows, "K (n_k x d)", V, matrix_view(nullptr, Q.rows, V.cols));
  require_shape(f, "dO", dO.rows, dO.cols, Q.rows, V.cols, "n_q x d_v, the shape of O");
  require_shape(f, "dQ", dQ.rows, dQ.cols, Q.rows, Q.cols, "n_q x d, the shape of Q");
  require_shape(f, "dK", dK.rows, dK.cols, K.rows, K.cols, "n_k x d, the shape of K");
  require_shape(f, "dV", dV.rows, dV.cols, V.rows, V.cols, "n_k x d_v, the shape of V");
  const std::size_t nq = Q.rows, nk = K.rows, d = Q.cols, dv = V.cols;
  matrix A(nq, nk);
  ref::attention_weights(Q, K, A.view(), causal);
  std::fill(dQ.data, dQ.data + dQ.size(), 0.0f);
  std::fill(dK.data, dK.data + dK.size(), 0.0f);
  std::fill(dV.data, dV.data + dV.size(), 0.0f);
  const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<float> dA(nk), dS(nk);
  for (std::size_t i = 0; i < nq; ++i) {
    const std::size_t visible = causal ? std::min(nk, i + 1) : nk;
    for (std::size_t j = 0; j < visible; ++j) {
      double s = 0.0;
      for (std::size_t t = 0; t < dv; ++t) s += static_cast<double>(dO(i, t)) * V(j, t);
      dA[j] = static_cast<float>(s);
    }
    ref::softmax_backward(A.row(i).first(visible), std::span<const float>(dA).first(visible),
                          std::span<float>(dS).first(visible));
    for (std::size_t j = 0; j < visible; ++j) {
      for (std::size_t t = 0; t < dv; ++t) dV(j, t) += A(i, j) * dO(i, t);
    }
    for (std::size_t t = 0; t < d; ++t) {
      double s = 0.0;
      for (std::size_t j = 0; j < visible; ++j) s += static_cast<double>(dS[j]) * K(j, t);
      dQ(i, t) = static_cast<float>(s * inv_sqrt_d);
    }
    for (std::size_t j = 0; j < visible; ++j) {
      for (std::size_t t = 0; t < d; ++t) dK(j, t) += static_cast<float>(dS[j] * Q(i, t) * inv_sqrt_d);
    }
  }
}

void layer_norm(const_matrix_view X, std::span<const float> gain, matrix_view Y) {
  const char* const f = "attn::ref::layer_norm";
  if (X.cols == 0) invalid_input(f, "X is " + detail::shape(X.rows, X.cols) + "; expected d >= 1 columns");
  if (gain.size() != X.cols) {
    invalid_input(f, "gain has " + std::to_string(gain.size()) + " elements; expected d = " +
                         std::to_string(X.cols) + ", the columns of X");
  }
  require_shape(f, "Y", Y.rows, Y.cols, X.rows, X.cols, "the shape of X");
  const std::size_t d = X.cols;
  std::vector<float> row(d);
  for (std::size_t i = 0; i < X.rows; ++i) {
    std::copy_n(X.data + i * d, d, row.begin());  // Y may be X
    double mean = 0.0;
    for (float x : row) mean += x;
    mean /= static_cast<double>(d);
    double var = 0.0;
    for (float x : row) var += (x - mean) * (x - mean);
    var /= static_cast<double>(d);
    const double r = 1.0 / std::sqrt(var + static_cast<double>(attn::layer_norm_epsilon));
    for (std::size_t t = 0; t < d; ++t) Y(i, t) = static_cast<float>(gain[t] * ((row[t] - mean) * r));
  }
}

void layer_norm_backward(const_matrix_view X, std::span<const float> gain, const_matrix_view dY, matrix_view dX,
                         std::span<float> dgain) {
  const char* const f = "attn::ref::layer_norm_backward";
  if (X.cols == 0) invalid_input(f, "X is " + detail::shape(X.rows, X.cols) + "; expected d >= 1 columns");
  if (gain.size() != X.cols || dgain.size() != X.cols) {
    invalid_input(f, "gain has " + std::to_string(gain.size()) + " elements and dgain " +
                         std::to_string(dgain.size()) + "; expected d = " + std::to_string(X.cols) +
                         ", the columns of X");
  }
  require_shape(f, "dY", dY.rows, dY.cols, X.rows, X.cols, "the shape of X");
  require_shape(f, "dX", dX.rows, dX.cols, X.rows, X.cols, "the shape of X");
  const std::size_t d = X.cols;
  std::vector<double> xhat(d), g(d), dgain_sum(d, 0.0);
  for (std::size_t i = 0; i < X.rows; ++i) {
    double mean = 0.0;
    for (std::size_t t = 0; t < d; ++t) mean += X(i, t);
    mean /= static_cast<double>(d);
    double var = 0.0;
    for (std::size_t t = 0; t < d; ++t) var += (X(i, t) - mean) * (X(i, t) - mean);
    var /= static_cast<double>(d);
    const double r = 1.0 / std::sqrt(var + static_cast<double>(attn::layer_norm_epsilon));
    double g_mean = 0.0, gx_mean = 0.0;
    for (std::size_t t = 0; t < d; ++t) {
      xhat[t] = (X(i, t) - mean) * r;
      g[t] = static_cast<double>(gain[t]) * dY(i, t);
      g_mean += g[t];
      gx_mean += g[t] * xhat[t];
      dgain_sum[t] += static_cast<double>(dY(i, t)) * xhat[t];
    }
    g_mean /= static_cast<double>(d);
    gx_mean /= static_cast<double>(d);
    for (std::size_t t = 0; t < d; ++t) dX(i, t) = static_cast<float>(r * (g[t] - g_mean - xhat[t] * gx_mean));
  }
  for (std::size_t t = 0; t < d; ++t) dgain[t] = static_cast<float>(dgain_sum[t]);
}

}  // namespace attn::ref
