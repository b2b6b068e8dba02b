#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

namespace attn {

std::vector<float> alibi_slopes(std::size_t heads) {
  std::vector<float> slopes;
  slopes.reserve(heads);
  const int H = static_cast<int>(heads);
  for (int h = 1; h <= H; ++h) {
    slopes.push_back(static_cast<float>(std::exp2(-8 * h / H)));
  }
  return slopes;
}

void add_alibi_bias(matrix_view S, float slope) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = 0; j < S.cols; ++j) {
      S(i, j) += slope * (static_cast<float>(j) - static_cast<float>(i));
    }
  }
}

}  // namespace attn
