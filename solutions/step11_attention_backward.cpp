// solutions/step11_attention_backward.cpp -- answer key for step 11: the attention backward pass.
#include <attn/contract.hpp>

#include <algorithm>
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

/// Refuses `M` (called `name`) unless it is rows x cols; `what` says where that shape comes from.
void require_shape(const char* name, const_matrix_view M, std::size_t rows, std::size_t cols, const char* what) {
  if (M.rows != rows || M.cols != cols) {
    attn::invalid_input("attn::attention_backward", std::string(name) + " is " + shape(M.rows, M.cols) +
                                                        "; expected " + shape(rows, cols) + " (" + what + ")");
  }
}

}  // namespace

//! [attention_backward]
void attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V, const_matrix_view dO,
                        bool causal, matrix_view dQ, matrix_view dK, matrix_view dV) {
  const std::size_t n_q = Q.rows, n_k = K.rows, d = Q.cols, d_v = V.cols;
  if (V.rows != K.rows) {
    attn::invalid_input("attn::attention_backward", "K is " + shape(K.rows, K.cols) + " but V is " +
                                                        shape(V.rows, V.cols) + "; expected one value row per key (n_k)");
  }
  require_shape("dO", dO, n_q, d_v, "n_q x d_v, the shape of the output O");
  require_shape("dQ", dQ, n_q, d, "n_q x d, the shape of Q");
  require_shape("dK", dK, n_k, K.cols, "n_k x d, the shape of K");
  require_shape("dV", dV, n_k, d_v, "n_k x d_v, the shape of V");
  // The forward weights A = softmax_rows(Q K^T / sqrt(d) + Mask): step 5, which also refuses
  // Q and K of different d, or d = 0.
  matrix A(n_q, n_k);
  attn::attention_weights(Q, K, A, causal);

  // Every output is a sum over queries or keys: start from zero (they may hold anything).
  std::fill(dQ.data, dQ.data + dQ.size(), 0.0f);
  std::fill(dK.data, dK.data + dK.size(), 0.0f);
  std::fill(dV.data, dV.data + dV.size(), 0.0f);
  const float inv_sqrt_d = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  std::vector<float> dA(n_k), dS(n_k);
  for (std::size_t i = 0; i < n_q; ++i) {
    // Query i sees keys 0..visible-1. A masked key is not read at all: its weight and its
    // dS entry are 0, so it adds nothing (and NaN or inf in its rows cannot get in).
    const std::size_t visible = causal ? std::min(n_k, i + 1) : n_k;
    // Row i of dA = dO V^T: dA_ij = <dO_i, v_j>, how the loss changes with the weight A_ij.
    for (std::size_t j = 0; j < visible; ++j) {
      double sum = 0.0;
      for (std::size_t c = 0; c < d_v; ++c) sum += static_cast<double>(dO(i, c)) * V(j, c);
      dA[j] = static_cast<float>(sum);
    }
    // Row i of dS: the softmax backward of step 10, dS_ij = A_ij (dA_ij - <dA_i, A_i>).
    attn::softmax_backward(A.row(i).first(visible), std::span<const float>(dA).first(visible),
                           std::span<float>(dS).first(visible));
    for (std::size_t j = 0; j < visible; ++j) {
      const float a = A(i, j), ds = dS[j] * inv_sqrt_d;
      for (std::size_t c = 0; c < d_v; ++c) dV(j, c) += a * dO(i, c);  // dV = A^T dO
      for (std::size_t t = 0; t < d; ++t) {
        dQ(i, t) += ds * K(j, t);  // dQ = dS K / sqrt(d)
        dK(j, t) += ds * Q(i, t);  // dK = dS^T Q / sqrt(d)
      }
    }
  }
}
//! [attention_backward]

}  // namespace attn
