// Step 11 of the reference, first version: the attention backward pass, in plain loops with
// double sums. Correct, not yet vectorised. (Step 12, layer normalisation: layer_norm.cpp.)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

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

}  // namespace attn::ref
