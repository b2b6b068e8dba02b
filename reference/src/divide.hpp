// Division of a batch by a constant, correctly rounded but without the slow division
// instruction when it can: a numerics primitive, with AVX-512's one-instruction
// classification as an overload of its own.
#pragma once

#include "constants.hpp"
#include "simd.hpp"

namespace attn::ref::detail {

/// x / c, correctly rounded for a normal quotient: with FMA, Markstein's correction of
/// x * (1/c) (exact residual r = x - c q, then q + r (1/c)) instead of a slow division;
/// any lane whose quotient is not a normal float (0, subnormal, inf, NaN) is divided.
template <class Arch>
inline xsimd::batch<float, Arch> quotient(const xsimd::batch<float, Arch>& x, const xsimd::batch<float, Arch>& divisor,
                                          const xsimd::batch<float, Arch>& reciprocal) {
#if defined(__FMA__) || defined(__aarch64__)
  using batch = xsimd::batch<float, Arch>;
  const batch q = x * reciprocal;
  const batch corrected = compat::fma(compat::fnma(q, divisor, x), reciprocal, q);
  const batch a = xsimd::abs(corrected);
  if (xsimd::all(a >= batch(smallest_normal) && a <= batch(0x1.fffffep127f))) return corrected;
  return x / divisor;
#else
  (void)reciprocal;
  return x / divisor;
#endif
}

#if defined(__AVX512DQ__) && defined(__FMA__)
/// One classification instead of an absolute value and two comparisons: any lane that is
/// a NaN, an infinity, a zero or subnormal (0xBF: all but the finite negatives) is divided.
/// Declared only where AVX-512 is compiled, so only that unit's kernels can call it.
inline xsimd::batch<float, xsimd::avx512f> quotient(const xsimd::batch<float, xsimd::avx512f>& x,
                                                    const xsimd::batch<float, xsimd::avx512f>& divisor,
                                                    const xsimd::batch<float, xsimd::avx512f>& reciprocal) {
  using batch = xsimd::batch<float, xsimd::avx512f>;
  const batch q = x * reciprocal;
  const batch corrected = compat::fma(compat::fnma(q, divisor, x), reciprocal, q);
  if (_mm512_fpclass_ps_mask(corrected, 0xBF) == 0) return corrected;
  return x / divisor;
}
#endif

}  // namespace attn::ref::detail
