// The exponential the reference's softmax is built on, for exponents <= 0: a numerics
// primitive on one batch, with AVX-512's masked instructions as an overload of its own.
#pragma once

#include "constants.hpp"
#include "simd.hpp"

namespace attn::ref::detail {

/// exp(x - n ln 2) for the integer n nearest x / ln 2: the Cody-Waite reduction and the
/// polynomial of exp_nonpositive().
template <class Arch>
inline xsimd::batch<float, Arch> exp_reduced(const xsimd::batch<float, Arch>& x, const xsimd::batch<float, Arch>& n) {
  using batch = xsimd::batch<float, Arch>;
  batch r = compat::fma(n, batch(-0.693359375f), x);  // exact: ln2_hi has 9 bits
  r = compat::fma(n, batch(2.12194440e-4f), r);       // ln 2 = ln2_hi - 2.12194440e-4
  batch p(1.394110848e-3f);
  p = compat::fma(p, r, batch(8.375125937e-3f));
  p = compat::fma(p, r, batch(4.166635126e-2f));
  p = compat::fma(p, r, batch(1.666641533e-1f));
  p = compat::fma(p, r, batch(0.5f));
  p = compat::fma(p, r, batch(1.0f));
  return compat::fma(p, r, batch(1.0f));
}

/// exp(x) for x <= 0, -inf (exactly 0) and NaN (NaN) included; tested against the
/// correctly rounded exp for every float in [-104, 0] (tests/reference/test_reference_exp.cpp:
/// measured at most 1 ULP on SSE2, AVX2 and AVX-512; the test allows tol::kLibmUlps = 2),
/// subnormal results included.
/// Cody-Waite range reduction x = n ln 2 + r, |r| <= ln(2)/2, with ln 2 split so that
/// n ln2_hi and x - n ln2_hi are exact; exp(r) by a degree-6 polynomial (interpolating
/// exp at the Chebyshev nodes, relative error 2e-8) in Horner form; then 2^n by exponent
/// arithmetic, in two halves when 2^n is below FLT_MIN so that subnormal results are
/// rounded once (on AVX-512, vscalefps does the same in one instruction). x < -104 (-inf
/// included), whose exp is below 2^-150 and rounds to +0, is computed as exp(0) and then
/// replaced by 0: letting it underflow instead would cost a microcode assist of about a
/// hundred cycles on Intel cores for every batch with such a lane (every causal row's
/// -inf padding), which made the fused attention_weights' exponentials 2.5x slower. NaN
/// fails the comparison, so it goes through every step and stays NaN.
template <class Arch>
inline xsimd::batch<float, Arch> exp_nonpositive(const xsimd::batch<float, Arch>& x) {
  using batch = xsimd::batch<float, Arch>;
  const batch magic(round_to_integer);
  const batch zero(0.0f);
  const auto below = x < batch(exp_zero_below);  // exp(x) < 2^-150: +0
  const batch xc = xsimd::select(below, zero, x);
  const batch n = compat::fma(xc, batch(log2_e), magic) - magic;
  const batch p = exp_reduced(xc, n);
  if (xsimd::any(n < batch(smallest_normal_exponent))) {  // 2^n subnormal: scale by 2^(n/2) twice
    const batch half = xsimd::floor(n * batch(0.5f));
    return xsimd::select(below, zero, xsimd::ldexp(xsimd::ldexp(p, xsimd::to_int(half)), xsimd::to_int(n - half)));
  }
  return xsimd::select(below, zero, xsimd::ldexp(p, xsimd::to_int(n)));
}

#if defined(__AVX512F__)
/// The same steps with AVX-512's zero-masking instead of two selects: lanes below
/// exp_zero_below get n = -round_to_integer (a junk r of about 8.7e6, whose polynomial
/// overflows to inf or NaN: no subnormal anywhere) and a masked-off result, +0. Declared
/// only where AVX-512 is compiled, so only that unit's kernels can call it.
inline xsimd::batch<float, xsimd::avx512f> exp_nonpositive(const xsimd::batch<float, xsimd::avx512f>& x) {
  using batch = xsimd::batch<float, xsimd::avx512f>;
  const batch magic(round_to_integer);
  const __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(exp_zero_below), _CMP_NLT_UQ);  // NaN kept
  const batch n = batch(_mm512_maskz_fmadd_ps(keep, x, batch(log2_e), magic)) - magic;
  return _mm512_maskz_scalef_ps(keep, exp_reduced(x, n), n);  // p 2^n in one instruction, rounded once
}
#endif

/// exp(v - m) for m >= every v (so the exponent is <= 0), -inf giving exactly 0.
template <class Arch>
inline xsimd::batch<float, Arch> exp_shifted(const xsimd::batch<float, Arch>& v, const xsimd::batch<float, Arch>& m) {
  return exp_nonpositive(v - m);
}

}  // namespace attn::ref::detail
