// The scalar exponential the online softmax and the streaming rescale share.
#pragma once

#include <cmath>
#include <limits>

namespace attn::ref::detail {

inline constexpr float infinity = std::numeric_limits<float>::infinity();
inline constexpr float quiet_nan = std::numeric_limits<float>::quiet_NaN();

/// e^(x - m) for x <= m, with x == m giving exactly 1 (so +inf against a max of +inf counts
/// once instead of computing inf - inf) and x = -inf giving 0.
inline float exp_below(float x, float m) { return x == m ? 1.0f : std::exp(x - m); }

}  // namespace attn::ref::detail
