#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>

namespace attn {

void softmax(std::span<float> row) {
  float total = 0.0f;
  for (float& s : row) {
    s = std::exp(s);
    total += s;
    s /= total;
  }
}

void softmax_rows(matrix_view S) {
  for (std::size_t i = 0; i < S.rows; ++i) attn::softmax(S.row(i));
}

}  // namespace attn
