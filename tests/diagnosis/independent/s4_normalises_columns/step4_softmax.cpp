#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

namespace attn {

void softmax(std::span<float> row) {
  double sum = 0.0;
  for (float& s : row) {
    s = std::exp(s);
    sum += s;
  }
  for (float& e : row) e = static_cast<float>(e / sum);
}

// softmax over the keys: gather each key's column, normalise it, write it back
void softmax_rows(matrix_view S) {
  std::vector<float> column(S.rows);
  for (std::size_t j = 0; j < S.cols; ++j) {
    for (std::size_t i = 0; i < S.rows; ++i) column[i] = S(i, j);
    attn::softmax(column);
    for (std::size_t i = 0; i < S.rows; ++i) S(i, j) = column[i];
  }
}

}  // namespace attn
