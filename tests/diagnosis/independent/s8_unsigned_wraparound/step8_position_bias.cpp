#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

namespace attn {

std::vector<float> alibi_slopes(std::size_t heads) {
  std::vector<float> m(heads);
  for (std::size_t h = 1; h <= heads; ++h) {
    const double e = -8.0 * static_cast<double>(h) / static_cast<double>(heads);
    m[h - 1] = static_cast<float>(std::exp2(e));
  }
  return m;
}

void add_alibi_bias(matrix_view S, float slope) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = 0; j < S.cols; ++j) {
      const float distance = static_cast<float>(j - i);
      S(i, j) += slope * distance;
    }
  }
}

}  // namespace attn
