// solutions/step8_position_bias.cpp -- answer key for step 8: relative position as a
// query-key bias (ALiBi).
#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

namespace attn {

//! [alibi_slopes]
std::vector<float> alibi_slopes(std::size_t heads) {
  std::vector<float> slopes;
  slopes.reserve(heads);
  const double H = static_cast<double>(heads);
  for (std::size_t h = 1; h <= heads; ++h) {
    // lambda_h = 2^(-8h/H): a geometric sequence from 2^(-8/H) down to 2^-8 = 1/256.
    slopes.push_back(static_cast<float>(std::exp2(-8.0 * static_cast<double>(h) / H)));
  }
  return slopes;
}
//! [alibi_slopes]

//! [add_alibi_bias]
void add_alibi_bias(matrix_view S, float slope) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = 0; j < S.cols; ++j) {
      // j - i is negative for past keys: convert each index to float before subtracting,
      // never subtract two size_t (j - i would wrap around to about 1.8e19).
      const float distance = static_cast<float>(j) - static_cast<float>(i);
      S(i, j) += slope * distance;  // -inf + finite stays -inf: the mask survives
    }
  }
}
//! [add_alibi_bias]

}  // namespace attn
