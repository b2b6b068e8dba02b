// The one place that hides differences between xsimd versions (8.1 on Debian 12 up to
// the newest): 9.0 renamed hadd to reduce_add and added reduce_max; 8.1 has no AVX-512
// fma (it falls back to x * y + z, two roundings unless the compiler happens to fuse them)
// and emulates its gathers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <xsimd/xsimd.hpp>

namespace attn::ref::detail::compat {

/// Sum of the lanes of `x`, on x86 always in the same order, halves folded onto halves:
/// lane i plus lane i + size/2, and so on down to one lane (x0 + x2) + (x1 + x3) for four.
/// xsimd's own sums are not one order across its versions (8.1's hadd on AVX adds
/// neighbours last, with two slow hadd instructions), and a sum's rounding depends on it.
template <class Arch>
float reduce_add(const xsimd::batch<float, Arch>& x) {
#if defined(__SSE2__)
  constexpr std::size_t lanes = xsimd::batch<float, Arch>::size;
  const auto last_four = [](__m128 v) {
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_add_ss(v, _mm_shuffle_ps(v, v, 1)));
  };
  if constexpr (lanes == 16) {
#if defined(__AVX512F__)
    const __m512 v = x;
    const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), high);
    return last_four(_mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
#endif
  } else if constexpr (lanes == 8) {
#if defined(__AVX__)
    const __m256 v = x;
    return last_four(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
#endif
  } else if constexpr (lanes == 4) {
    return last_four(x);
  }
#endif
#if XSIMD_VERSION_MAJOR < 9
  return xsimd::hadd(x);
#else
  return xsimd::reduce_add(x);
#endif
}

/// Largest lane of `x`, which must hold no NaN (x86 max instructions drop NaN
/// depending on the operand order, so callers detect NaN separately).
template <class Arch>
float reduce_max(const xsimd::batch<float, Arch>& x) {
#if XSIMD_VERSION_MAJOR < 9
  using batch = xsimd::batch<float, Arch>;
  alignas(Arch::alignment()) float lanes[batch::size];
  x.store_aligned(lanes);
  float m = lanes[0];
  for (std::size_t i = 1; i < batch::size; ++i) m = lanes[i] > m ? lanes[i] : m;
  return m;
#else
  return xsimd::reduce_max(x);
#endif
}

/// x y + z rounded once. xsimd 8.1 computes xsimd::fma on avx512f as x * y + z: two
/// roundings, or one fused somewhere else when the compiler contracts (GCC rewrote
/// Markstein's division that way, a few ULP off), so AVX-512 calls the instruction itself.
template <class Arch>
xsimd::batch<float, Arch> fma(const xsimd::batch<float, Arch>& x, const xsimd::batch<float, Arch>& y,
                              const xsimd::batch<float, Arch>& z) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<Arch, xsimd::avx512f>) return _mm512_fmadd_ps(x, y, z);
#endif
  return xsimd::fma(x, y, z);
}

/// z - x y rounded once (see fma).
template <class Arch>
xsimd::batch<float, Arch> fnma(const xsimd::batch<float, Arch>& x, const xsimd::batch<float, Arch>& y,
                               const xsimd::batch<float, Arch>& z) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<Arch, xsimd::avx512f>) return _mm512_fnmadd_ps(x, y, z);
#endif
  return xsimd::fnma(x, y, z);
}

/// The floats at base + index[i]. xsimd 8.1 emulates gathers on avx512f one lane at a time.
template <class Arch>
xsimd::batch<float, Arch> gather(const float* base, const xsimd::batch<std::int32_t, Arch>& index) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<Arch, xsimd::avx512f>) return _mm512_i32gather_ps(index, base, 4);
#endif
  return xsimd::batch<float, Arch>::gather(base, index);
}

/// Asks for the cache line holding the float `ahead` places after p in the first-level
/// cache: a hint, which neither faults nor changes any result. That float may lie past the
/// end of the array, so its address is computed as an integer (a pointer beyond one past
/// the end would be undefined behaviour). A template only so that each instruction set's
/// copy stays its own (simd.hpp says why).
template <class Arch>
void prefetch(const float* p, std::size_t ahead) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) + ahead * sizeof(float)), 0, 3);
#else
  (void)p;
  (void)ahead;
#endif
}

}  // namespace attn::ref::detail::compat
