// Steps 8 and 9 of the reference, the scalar parts: the ALiBi slopes and bias, and the
// streaming normaliser (a running max and a running sum). Scalar code: the normaliser
// holds one number pair, and the bias is one add per score, bound by memory.
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <attn/reference.hpp>

#include "online_exp.hpp"

namespace attn::ref {
using detail::exp_below;
using detail::infinity;
using detail::quiet_nan;

// m_h = 2^(-8h/H), computed in double and rounded once.
std::vector<float> alibi_slopes(std::size_t heads) {
  std::vector<float> slopes(heads);
  for (std::size_t h = 1; h <= heads; ++h) {
    slopes[h - 1] = static_cast<float>(std::exp2(-8.0 * static_cast<double>(h) / static_cast<double>(heads)));
  }
  return slopes;
}

// S(i, j) += m (j - i); j - i is exact in float for any realistic length (< 2^24).
void add_alibi_bias(matrix_view S, float slope) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = 0; j < S.cols; ++j) {
      const float distance = static_cast<float>(static_cast<double>(j) - static_cast<double>(i));
      S(i, j) += slope * distance;
    }
  }
}

void push(online_softmax& state, float x) {
  if (std::isnan(x) || std::isnan(state.max)) {
    state = {quiet_nan, quiet_nan};
  } else if (x > state.max) {
    state.sum = state.sum * std::exp(state.max - x) + 1.0f;  // e^(-inf) = 0 for the empty state
    state.max = x;
  } else if (x != -infinity) {
    state.sum += exp_below(x, state.max);
  }
}

online_softmax merge(const online_softmax& a, const online_softmax& b) {
  if (std::isnan(a.max) || std::isnan(b.max)) return {quiet_nan, quiet_nan};
  if (a.sum == 0.0f) return b;  // the empty state is the identity
  if (b.sum == 0.0f) return a;
  const float m = a.max > b.max ? a.max : b.max;
  return {m, a.sum * exp_below(a.max, m) + b.sum * exp_below(b.max, m)};
}

float weight(const online_softmax& state, float x) {
  if (std::isnan(x) || std::isnan(state.max)) return quiet_nan;
  if (state.sum == 0.0f || x == -infinity) return 0.0f;
  return exp_below(x, state.max) / state.sum;
}

}  // namespace attn::ref
