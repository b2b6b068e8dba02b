#include <attn/contract.hpp>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace attn {

void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  const bool inner_ok = A.cols == V.rows;
  const bool outer_ok = O.rows == A.rows && O.cols == V.cols;
  if (!inner_ok || !outer_ok) {
    attn::invalid_input("attn::attention_output",
                        "A is " + std::to_string(A.rows) + " x " + std::to_string(A.cols) +
                            ", V is " + std::to_string(V.rows) + " x " + std::to_string(V.cols) +
                            " and O is " + std::to_string(O.rows) + " x " + std::to_string(O.cols) +
                            "; expected A.cols == V.rows and O to be A.rows x V.cols");
  }
  std::vector<double> acc(V.cols);
  for (std::size_t i = 0; i < A.rows; ++i) {
    std::fill(acc.begin(), acc.end(), 0.0);
    const std::span<const float> weights = A.row(i);
    for (std::size_t j = 0; j < weights.size(); ++j) {
      const std::span<const float> v = V.row(j);
      const double w = weights[j];
      std::transform(v.begin(), v.end(), acc.begin(), acc.begin(),
                     [w](float vc, double o) { return o + w * static_cast<double>(vc); });
    }
    std::span<float> out = O.row(i);
    std::transform(acc.begin(), acc.end(), out.begin(),
                   [](double x) { return static_cast<float>(x); });
  }
}

void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
               bool causal) {
  if (O.rows != Q.rows || O.cols != V.cols) {
    attn::invalid_input("attn::attention", "O is " + std::to_string(O.rows) + " x " +
                                               std::to_string(O.cols) + "; expected Q.rows x V.cols = " +
                                               std::to_string(Q.rows) + " x " +
                                               std::to_string(V.cols));
  }
  if (K.rows != V.rows) {
    attn::invalid_input("attn::attention", "K has " + std::to_string(K.rows) + " keys but V has " +
                                               std::to_string(V.rows) +
                                               " values; expected one value per key");
  }
  matrix weights(Q.rows, K.rows);
  attn::attention_weights(Q, K, weights, causal);
  if (!causal) {
    attn::attention_output(weights, V, O);
    return;
  }
  // causal: query i may not touch the values of keys after i at all
  for (std::size_t i = 0; i < Q.rows; ++i) {
    const std::size_t upto = std::min<std::size_t>(i + 1, K.rows);
    attn::attention_output(const_matrix_view(weights.row(i).data(), 1, upto),
                           const_matrix_view(V.data, upto, V.cols), matrix_view(O.row(i).data(), 1, O.cols));
  }
}

}  // namespace attn
