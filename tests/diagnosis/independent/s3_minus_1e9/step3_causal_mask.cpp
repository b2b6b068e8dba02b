#include <attn/contract.hpp>

#include <cstddef>
#include <limits>

namespace attn {

namespace {
// big negative number: exp() of it is 0 anyway
constexpr float kMasked = -1e9f;
}  // namespace

matrix causal_mask(std::size_t n) {
  matrix mask(n, n, 0.0f);
  for (std::size_t row = 0; row < n; ++row)
    for (std::size_t col = row + 1; col < n; ++col) mask(row, col) = kMasked;
  return mask;
}

void apply_causal_mask(matrix_view S) {
  for (std::size_t row = 0; row < S.rows; ++row)
    for (std::size_t col = row + 1; col < S.cols; ++col) S(row, col) = kMasked;
}

}  // namespace attn
