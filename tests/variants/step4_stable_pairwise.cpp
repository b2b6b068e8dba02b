// A correct step 4 that must be accepted: the max subtracted already (allowed, not
// required, in step 4) and the exponentials summed pairwise in float.
#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

namespace attn {
namespace {

float pairwise_sum(std::span<const float> x) {
  if (x.size() <= 4) {
    float s = 0.0f;
    for (float v : x) s += v;
    return s;
  }
  const std::size_t half = x.size() / 2;
  return pairwise_sum(x.first(half)) + pairwise_sum(x.subspan(half));
}

}  // namespace

void softmax(std::span<float> row) {
  if (row.empty()) return;
  if (std::any_of(row.begin(), row.end(), [](float x) { return std::isnan(x); })) {
    std::fill(row.begin(), row.end(), std::nanf(""));
    return;
  }
  const float m = *std::max_element(row.begin(), row.end());
  for (float& s : row) s = std::exp(s - m);
  const float sum = pairwise_sum(row);
  for (float& e : row) e /= sum;
}

void softmax_rows(matrix_view S) {
  for (std::size_t i = 0; i < S.rows; ++i) attn::softmax(S.row(i));
}

}  // namespace attn
