// A correct step 8 that must be accepted: the slopes as powers of r = 2^(-8/H) by repeated
// float products (the shape of ALiBi's get_slopes_power_of_2), and the bias as
// slope * j - slope * i.
#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

namespace attn {

std::vector<float> alibi_slopes(std::size_t heads) {
  std::vector<float> slopes;
  if (heads == 0) return slopes;
  const float ratio = std::pow(2.0f, -8.0f / static_cast<float>(heads));
  float slope = ratio;
  for (std::size_t h = 1; h <= heads; ++h) {
    slopes.push_back(slope);
    slope *= ratio;
  }
  return slopes;
}

void add_alibi_bias(matrix_view S, float slope) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    const float row_shift = slope * static_cast<float>(i);
    for (std::size_t j = 0; j < S.cols; ++j) S(i, j) += slope * static_cast<float>(j) - row_shift;
  }
}

}  // namespace attn
