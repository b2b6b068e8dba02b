#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

namespace attn {

std::vector<float> alibi_slopes(std::size_t heads) {
  std::vector<float> slopes(heads);
  if (heads == 0) return slopes;
  // m_h = 2^(-8h/H) = (2^(-8/H))^h, but computed directly per head to avoid drift
  const double H = static_cast<double>(heads);
  for (std::size_t idx = 0; idx < heads; ++idx) {
    const double h = static_cast<double>(idx + 1);
    slopes[idx] = static_cast<float>(std::pow(2.0, -8.0 * h / H));
  }
  return slopes;
}

void add_alibi_bias(matrix_view S, float slope) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    std::span<float> r = S.row(i);
    long long offset = -static_cast<long long>(i);  // j - i for j = 0
    for (float& s : r) {
      s += slope * static_cast<float>(offset);
      ++offset;
    }
  }
}

}  // namespace attn
