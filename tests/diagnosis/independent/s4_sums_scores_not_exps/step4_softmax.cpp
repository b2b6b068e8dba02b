#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <numeric>
#include <span>

namespace attn {

void softmax(std::span<float> row) {
  const float z = std::accumulate(row.begin(), row.end(), 0.0f);
  for (float& x : row) x = std::exp(x) / z;
}

void softmax_rows(matrix_view S) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    softmax(S.row(i));
  }
}

}  // namespace attn
