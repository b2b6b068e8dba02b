// A correct step 11 that must be accepted: FlashAttention's ordering (Dao et al. 2022). The
// constant of each row of dS is D_i = <dO_i, o_i> from the forward output O = attention(Q, K,
// V) instead of <dA_i, A_i> (equal: sum_j A_ij <dO_i, v_j> = <dO_i, sum_j A_ij v_j>), every sum
// in float, dV and dK accumulated key by key over the queries, 1/sqrt(d) folded into Q and K
// before the products.
#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace attn {

void attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V, const_matrix_view dO,
                        bool causal, matrix_view dQ, matrix_view dK, matrix_view dV) {
  const auto sizes = [](const_matrix_view M) { return std::to_string(M.rows) + " x " + std::to_string(M.cols); };
  if (V.rows != K.rows || dO.rows != Q.rows || dO.cols != V.cols || dQ.rows != Q.rows || dQ.cols != Q.cols ||
      dK.rows != K.rows || dK.cols != K.cols || dV.rows != V.rows || dV.cols != V.cols) {
    attn::invalid_input("attn::attention_backward", "Q " + sizes(Q) + ", K " + sizes(K) + ", V " + sizes(V) +
                                                        ", dO " + sizes(dO) + ", dQ " + sizes(dQ) + ", dK " +
                                                        sizes(dK) + ", dV " + sizes(dV) + "; expected dO n_q x d_v "
                                                        "and each gradient the shape of its input");
  }
  matrix A(Q.rows, K.rows), O(Q.rows, V.cols);
  attn::attention_weights(Q, K, A, causal);
  attn::attention(Q, K, V, O, causal);
  const std::size_t nq = Q.rows, nk = K.rows, d = Q.cols, dv = V.cols;
  const float root = std::sqrt(static_cast<float>(d));
  std::vector<float> D(nq, 0.0f);
  for (std::size_t i = 0; i < nq; ++i) {
    for (std::size_t c = dv; c-- > 0;) D[i] += dO(i, c) * O(i, c);
  }
  for (std::size_t j = 0; j < nk; ++j) {
    const std::size_t first = causal ? j : 0;  // the queries that see key j: i >= j under the mask
    for (std::size_t c = 0; c < dv; ++c) {
      float sum = 0.0f;
      for (std::size_t i = first; i < nq; ++i) sum += A(i, j) * dO(i, c);
      dV(j, c) = sum;
    }
    for (std::size_t t = 0; t < d; ++t) dK(j, t) = 0.0f;
    for (std::size_t i = first; i < nq; ++i) {
      float g = 0.0f;
      for (std::size_t c = 0; c < dv; ++c) g += dO(i, c) * V(j, c);
      const float ds = A(i, j) * (g - D[i]);
      for (std::size_t t = 0; t < d; ++t) dK(j, t) += ds * (Q(i, t) / root);
    }
  }
  for (std::size_t i = 0; i < nq; ++i) {
    const std::size_t visible = causal ? std::min(nk, i + 1) : nk;
    for (std::size_t t = 0; t < d; ++t) dQ(i, t) = 0.0f;
    for (std::size_t j = 0; j < visible; ++j) {
      float g = 0.0f;
      for (std::size_t c = 0; c < dv; ++c) g += dO(i, c) * V(j, c);
      const float ds = A(i, j) * (g - D[i]);
      for (std::size_t t = 0; t < d; ++t) dQ(i, t) += ds * (K(j, t) / root);
    }
  }
}

}  // namespace attn
