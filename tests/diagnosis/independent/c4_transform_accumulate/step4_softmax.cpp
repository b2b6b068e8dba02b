#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <span>

namespace attn {

void softmax(std::span<float> row) {
  std::transform(row.begin(), row.end(), row.begin(), [](float s) { return std::exp(s); });
  const double z = std::accumulate(row.begin(), row.end(), 0.0,
                                   [](double acc, float e) { return acc + static_cast<double>(e); });
  const double inv = 1.0 / z;  // never used on an empty row (the transform below does nothing)
  std::transform(row.begin(), row.end(), row.begin(),
                 [inv](float e) { return static_cast<float>(static_cast<double>(e) * inv); });
}

void softmax_rows(matrix_view S) {
  std::size_t i = S.rows;
  while (i-- > 0) attn::softmax(S.row(i));
}

}  // namespace attn
