#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>

namespace attn {

void softmax(std::span<float> row) {
  // pass 1: the normaliser
  double sum = 0.0;
  for (float& v : row) {
    v = std::exp(v);
    sum += v;
  }
  // pass 2: the weights
  for (float& v : row) {
    v = static_cast<float>(std::exp(v) / sum);
  }
}

void softmax_rows(matrix_view S) {
  for (std::size_t i = 0; i < S.rows; ++i) attn::softmax(S.row(i));
}

}  // namespace attn
