#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace attn {

namespace {
std::string dims(const_matrix_view m) { return std::to_string(m.rows) + "x" + std::to_string(m.cols); }
}  // namespace

// Whole matrices (no rescaling here): P = weights, dP = dO V^T (zero where masked), dS row by row with the
// softmax backward, then three matrix products with the column index outermost.
void attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V, const_matrix_view dO,
                        bool causal, matrix_view dQ, matrix_view dK, matrix_view dV) {
  if (V.rows != K.rows) attn::invalid_input("attn::attention_backward", "V " + dims(V) + " vs K " + dims(K));
  if (dO.rows != Q.rows || dO.cols != V.cols)
    attn::invalid_input("attn::attention_backward", "dO " + dims(dO) + ", wanted " + std::to_string(Q.rows) + "x" +
                                                        std::to_string(V.cols));
  if (dQ.rows != Q.rows || dQ.cols != Q.cols) attn::invalid_input("attn::attention_backward", "dQ " + dims(dQ) + " vs Q " + dims(Q));
  if (dK.rows != K.rows || dK.cols != K.cols) attn::invalid_input("attn::attention_backward", "dK " + dims(dK) + " vs K " + dims(K));
  if (dV.rows != V.rows || dV.cols != V.cols) attn::invalid_input("attn::attention_backward", "dV " + dims(dV) + " vs V " + dims(V));
  const std::size_t n = Q.rows, m = K.rows;
  matrix P(n, m), dS(n, m, 0.0f);
  attn::attention_weights(Q, K, P, causal);
  std::vector<float> dP(m);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t seen = causal ? std::min(m, i + 1) : m;
    for (std::size_t j = 0; j < seen; ++j) {
      float s = 0.0f;
      for (std::size_t c = 0; c < V.cols; ++c) s += dO(i, c) * V(j, c);
      dP[j] = s;
    }
    attn::softmax_backward(P.row(i).first(seen), std::span<const float>(dP.data(), seen), dS.row(i).first(seen));
  }
  const double r = 1.0;  // the scores were scaled in the forward pass already
  for (std::size_t t = 0; t < Q.cols; ++t) {
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0.0;
      for (std::size_t j = 0; j < (causal ? std::min(m, i + 1) : m); ++j) s += static_cast<double>(dS(i, j)) * K(j, t);
      dQ(i, t) = static_cast<float>(s * r);
    }
    for (std::size_t j = 0; j < m; ++j) {
      double s = 0.0;
      for (std::size_t i = causal ? j : 0; i < n; ++i) s += static_cast<double>(dS(i, j)) * Q(i, t);
      dK(j, t) = static_cast<float>(s * r);
    }
  }
  for (std::size_t c = 0; c < V.cols; ++c) {
    for (std::size_t j = 0; j < m; ++j) {
      double s = 0.0;
      for (std::size_t i = causal ? j : 0; i < n; ++i) s += static_cast<double>(P(i, j)) * dO(i, c);
      dV(j, c) = static_cast<float>(s);
    }
  }
}

}  // namespace attn
