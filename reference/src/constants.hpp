// Constants shared by the reference kernels and the buffers they read, each defined once.
// Plain values (no xsimd, no code), so this header may be included anywhere.
#pragma once

#include <cstddef>

namespace attn::ref::detail {

/// Bytes in a cache line on the processors the reference targets (x86-64, AArch64): the
/// alignment of every buffer the kernels load aligned and the stride of their prefetches.
inline constexpr std::size_t cache_line_bytes = 64;
/// Floats in one cache line.
inline constexpr std::size_t cache_line_floats = cache_line_bytes / sizeof(float);

/// FLT_MIN, 2^-126: the smallest normal float.
inline constexpr float smallest_normal = 0x1p-126f;
/// The exponent of smallest_normal: 2^n for n below it is subnormal.
inline constexpr float smallest_normal_exponent = -126.0f;

/// Below this, exp(x) < 2^-150 rounds to +0: the exponential returns 0 without computing it.
inline constexpr float exp_zero_below = -104.0f;
/// log2(e) = 1 / ln 2, the factor that turns x into the exponent n of x = n ln 2 + r.
inline constexpr float log2_e = 1.44269504088896341f;
/// 1.5 * 2^23: a float of magnitude below 2^22 plus this, minus this, is rounded to an integer.
inline constexpr float round_to_integer = 12582912.0f;

}  // namespace attn::ref::detail
