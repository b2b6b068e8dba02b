#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

namespace attn {

std::vector<float> alibi_slopes(std::size_t heads) {
  std::vector<float> out;
  for (std::size_t h = 0; h < heads; ++h) {
    // head number h + 1 of heads
    const float e = -8.0f * static_cast<float>(h + 1) / static_cast<float>(heads);
    out.push_back(std::exp2(e));
  }
  return out;
}

// penalty proportional to the distance back from the query to the key
void add_alibi_bias(matrix_view S, float slope) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    const float fi = static_cast<float>(i);
    for (std::size_t j = 0; j < S.cols; ++j) {
      S(i, j) += slope * (fi - static_cast<float>(j));
    }
  }
}

}  // namespace attn
