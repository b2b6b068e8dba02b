#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>

namespace attn {

void softmax(std::span<float> row) {
  if (row.empty()) return;
  double denom = 0.0;
  for (std::size_t j = 0; j < row.size(); ++j) {
    row[j] = std::exp(row[j]);
    if (!std::isnan(row[j])) denom += row[j];
  }
  for (std::size_t j = 0; j < row.size(); ++j) {
    row[j] = static_cast<float>(row[j] / denom);
  }
}

void softmax_rows(matrix_view S) {
  for (std::size_t r = 0; r < S.rows; ++r) {
    attn::softmax(S.row(r));
  }
}

}  // namespace attn
