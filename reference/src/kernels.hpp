// The reference kernels, written once with the xsimd architecture as a template
// parameter. isa_kernels.cpp instantiates them once per instruction set, each in its own
// object library compiled with that instruction set's flags.
//
// Each kernel is a loop over full batches followed by one clearly separated tail: the
// last n % lanes elements are copied into a padded register-sized buffer and go through
// the same SIMD code, so a tail gives the same kind of result as a full batch.
//
// This header is included only in per-ISA translation units. Everything in it depends
// on Arch (templates) or is a macro constant (INFINITY, NAN), and those units are always
// optimised (reference/CMakeLists.txt), so no out-of-line inline function compiled for a
// wide instruction set can be chosen by the linker for a narrow one.
#pragma once

#include <cmath>  // INFINITY, NAN
#include <cstddef>
#include <cstdint>  // std::uintptr_t, std::int32_t
#include <type_traits>
#include <utility>  // std::index_sequence (a type only: no code)

// GCC 12 warns that _mm512_undefined_ps() inside the AVX-512 intrinsics xsimd's exp uses
// is "(maybe) uninitialized"; that is what undefined means. Silenced for those headers only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include "kernel_table.hpp"
#include "xsimd_compat.hpp"

namespace attn::ref::detail {

template <class Arch>
struct kernels {
  using batch = xsimd::batch<float, Arch>;
  using batch_bool = typename batch::batch_bool_type;
  static constexpr std::size_t lanes = batch::size;
  /// Independent accumulators in dot(): enough to hide the FMA latency.
  static constexpr std::size_t dot_accumulators = 4;

  /// The first n (< lanes) floats at x in a batch, the other lanes set to `padding`.
  static batch load_tail(const float* x, std::size_t n, float padding) {
    alignas(Arch::alignment()) float buffer[lanes];
    for (std::size_t i = 0; i < lanes; ++i) buffer[i] = i < n ? x[i] : padding;
    return batch::load_aligned(buffer);
  }

  /// Stores the first n (< lanes) lanes of v at x.
  static void store_tail(const batch& v, float* x, std::size_t n) {
    alignas(Arch::alignment()) float buffer[lanes];
    v.store_aligned(buffer);
    for (std::size_t i = 0; i < n; ++i) x[i] = buffer[i];
  }

  /// 0, 1, ..., lanes - 1.
  static batch iota() {
    alignas(Arch::alignment()) float index[lanes];
    for (std::size_t l = 0; l < lanes; ++l) index[l] = static_cast<float>(l);
    return batch::load_aligned(index);
  }

  // Loads that straddle two cache lines cost double, so long vectors first take the
  // elements up to a's next register-aligned address in one masked batch, then run aligned
  // in a (and in b too when both share the misalignment); the last n % lanes elements come
  // from the batch that ends at n, its lanes already counted masked out. The masks select
  // products, so whatever the masked lanes hold (inf, NaN) never reaches the sum.
  static float dot(const float* a, const float* b, std::size_t n) {
    constexpr std::size_t block = dot_accumulators * lanes;
    batch acc0(0.0f), acc1(0.0f), acc2(0.0f), acc3(0.0f);
    std::size_t i = 0;
    const std::size_t misaligned = reinterpret_cast<std::uintptr_t>(a) / sizeof(float) % lanes;
    if (misaligned != 0 && n >= 2 * block) {
      i = lanes - misaligned;
      const batch_bool head = iota() < batch(static_cast<float>(i));
      acc3 = xsimd::select(head, batch::load_unaligned(a) * batch::load_unaligned(b), batch(0.0f));
    }
    for (; i + block <= n; i += block) {
      acc0 = compat::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc0);
      acc1 = compat::fma(batch::load_unaligned(a + i + lanes), batch::load_unaligned(b + i + lanes), acc1);
      acc2 = compat::fma(batch::load_unaligned(a + i + 2 * lanes), batch::load_unaligned(b + i + 2 * lanes), acc2);
      acc3 = compat::fma(batch::load_unaligned(a + i + 3 * lanes), batch::load_unaligned(b + i + 3 * lanes), acc3);
    }
    for (; i + lanes <= n; i += lanes) {
      acc0 = compat::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc0);
    }
    if (i < n && n >= lanes) {  // tail: the batch ending at n, its first lanes already counted
      const batch_bool fresh = iota() >= batch(static_cast<float>(lanes - (n - i)));
      acc1 += xsimd::select(fresh, batch::load_unaligned(a + n - lanes) * batch::load_unaligned(b + n - lanes),
                            batch(0.0f));
    } else if (i < n) {  // shorter than one batch: zero-padded, 0 * 0 adds nothing
      acc1 = compat::fma(load_tail(a + i, n - i, 0.0f), load_tail(b + i, n - i, 0.0f), acc1);
    }
    return compat::reduce_add((acc0 + acc1) + (acc2 + acc3));
  }

  // The exact maximum with NaN tracked in its own mask and the maximum taken with a compare
  // and select that skips NaN: x86 max instructions return one operand or the other when a
  // NaN is involved, so max() alone could lose it. The mask uses xsimd::isnan, not v != v:
  // xsimd 8.1 compiles != on AVX and AVX-512 as an ordered compare, false for NaN.
  static float max_checked(const float* x, std::size_t n) {
    batch acc(-INFINITY);
    batch_bool nan(false);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      const batch v = batch::load_unaligned(x + i);
      nan = nan || xsimd::isnan(v);
      acc = xsimd::select(v > acc, v, acc);
    }
    if (i < n) {  // tail, padded with -inf, which never wins
      const batch v = load_tail(x + i, n - i, -INFINITY);
      nan = nan || xsimd::isnan(v);
      acc = xsimd::select(v > acc, v, acc);
    }
    return xsimd::any(nan) ? NAN : compat::reduce_max(acc);
  }

  // The fast path: max instructions (exact when there is no NaN) and, alongside, a plain
  // sum of the entries, which is NaN whenever an entry is NaN (and also for inf - inf or an
  // overflow to both infinities). Only then does max_checked() run: two instructions a batch
  // in the common case instead of four.
  static float max(const float* x, std::size_t n) {
    batch m0(-INFINITY), m1(-INFINITY), s0(0.0f), s1(0.0f);
    std::size_t i = 0;
    for (; i + 2 * lanes <= n; i += 2 * lanes) {
      const batch v0 = batch::load_unaligned(x + i), v1 = batch::load_unaligned(x + i + lanes);
      m0 = xsimd::max(m0, v0);
      m1 = xsimd::max(m1, v1);
      s0 += v0;
      s1 += v1;
    }
    for (; i + lanes <= n; i += lanes) {
      const batch v = batch::load_unaligned(x + i);
      m0 = xsimd::max(m0, v);
      s0 += v;
    }
    if (i < n) {  // tail, padded with -inf for the max and 0 for the sum
      m1 = xsimd::max(m1, load_tail(x + i, n - i, -INFINITY));
      s1 += load_tail(x + i, n - i, 0.0f);
    }
    const float check = compat::reduce_add(s0 + s1);
    if (check != check) return max_checked(x, n);
    return compat::reduce_max(xsimd::max(m0, m1));
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
  static batch exp_nonpositive(const batch& x) {
    const batch magic(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<Arch, xsimd::avx512f>) {
      // The same steps with AVX-512's zero-masking instead of two selects: lanes below -104
      // get n = -magic (a junk r of about 8.7e6, whose polynomial overflows to inf or NaN:
      // no subnormal anywhere) and a masked-off result, +0.
      const __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-104.0f), _CMP_NLT_UQ);  // NaN kept
      const batch n = batch(_mm512_maskz_fmadd_ps(keep, x, batch(1.44269504088896341f), magic)) - magic;
      return _mm512_maskz_scalef_ps(keep, exp_reduced(x, n), n);  // p 2^n in one instruction, rounded once
    }
#endif
    const batch zero(0.0f);
    const batch_bool below = x < batch(-104.0f);  // exp(x) < 2^-150: +0
    const batch xc = xsimd::select(below, zero, x);
    const batch n = compat::fma(xc, batch(1.44269504088896341f), magic) - magic;
    const batch p = exp_reduced(xc, n);
    if (xsimd::any(n < batch(-126.0f))) {  // 2^n subnormal: scale by 2^(n/2) twice
      const batch half = xsimd::floor(n * batch(0.5f));
      return xsimd::select(below, zero, xsimd::ldexp(xsimd::ldexp(p, xsimd::to_int(half)), xsimd::to_int(n - half)));
    }
    return xsimd::select(below, zero, xsimd::ldexp(p, xsimd::to_int(n)));
  }

  /// exp(x - n ln 2) for the integer n nearest x / ln 2: the Cody-Waite reduction and the
  /// polynomial of exp_nonpositive().
  static batch exp_reduced(const batch& x, const batch& n) {
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

  /// exp(v - m) for m >= every v (so the exponent is <= 0), -inf giving exactly 0.
  static batch exp_shifted(const batch& v, const batch& m) { return exp_nonpositive(v - m); }

  /// x / c, correctly rounded for a normal quotient: with FMA, Markstein's correction of
  /// x * (1/c) (exact residual r = x - c q, then q + r (1/c)) instead of a slow division;
  /// any lane whose quotient is not a normal float (0, subnormal, inf, NaN) is divided.
  static batch quotient(const batch& x, const batch& divisor, const batch& reciprocal) {
#if defined(__FMA__) || defined(__aarch64__)
    const batch q = x * reciprocal;
    const batch corrected = compat::fma(compat::fnma(q, divisor, x), reciprocal, q);
#if defined(__AVX512DQ__)
    if constexpr (std::is_same_v<Arch, xsimd::avx512f>) {
      // One classification instead of an absolute value and two comparisons: any lane that
      // is a NaN, an infinity, a zero or subnormal (0xBF: all but the finite negatives).
      if (_mm512_fpclass_ps_mask(corrected, 0xBF) == 0) return corrected;
      return x / divisor;
    }
#endif
    const batch a = xsimd::abs(corrected);
    if (xsimd::all(a >= batch(0x1p-126f) && a <= batch(0x1.fffffep127f))) return corrected;
    return x / divisor;
#else
    (void)reciprocal;
    return x / divisor;
#endif
  }

  // In attention_weights the rows come from the micro-kernel, which has streamed K through
  // the first-level cache since it wrote them: perf put a quarter of this loop's samples on
  // its loads. Prefetching 16 lines ahead (a hint: past the end of x is harmless) made the
  // whole causal n = 1024, d = 64 call about 3% faster and softmax_rows no slower.
  static constexpr std::size_t prefetch_distance = 256;  // floats: 16 cache lines ahead

  template <bool store>
  static float sum_exp_shifted_to(const float* x, float m, float* out, std::size_t n) {
    const batch shift(m);
    batch sum0(0.0f), sum1(0.0f);
    std::size_t i = 0;
    for (; i + 2 * lanes <= n; i += 2 * lanes) {
      for (std::size_t line = 0; line < 2 * lanes; line += 16) compat::prefetch<Arch>(x + i, prefetch_distance + line);
      const batch e0 = exp_shifted(batch::load_unaligned(x + i), shift);
      const batch e1 = exp_shifted(batch::load_unaligned(x + i + lanes), shift);
      if constexpr (store) {
        e0.store_unaligned(out + i);
        e1.store_unaligned(out + i + lanes);
      }
      sum0 += e0;
      sum1 += e1;
    }
    for (; i + lanes <= n; i += lanes) {
      const batch e = exp_shifted(batch::load_unaligned(x + i), shift);
      if constexpr (store) e.store_unaligned(out + i);
      sum0 += e;
    }
    if (i < n) {  // tail, padded with -inf: exp(-inf) = 0 adds nothing
      const batch e = exp_shifted(load_tail(x + i, n - i, -INFINITY), shift);
      if constexpr (store) store_tail(e, out + i, n - i);
      sum1 += e;
    }
    return compat::reduce_add(sum0 + sum1);
  }

  static float sum_exp_shifted(const float* x, float m, float* out, std::size_t n) {
    return out != nullptr ? sum_exp_shifted_to<true>(x, m, out, n) : sum_exp_shifted_to<false>(x, m, out, n);
  }

  static void divide(float* x, float c, std::size_t n) {
    const batch divisor(c);
    const float inverse = 1.0f / c;
    // Markstein's correction needs 1/c rounded once and normal (c and 1/c normal).
    const float magnitude = c < 0.0f ? -c : c;  // no std::fabs: nothing non-template here
    if (!(magnitude >= 0x1p-126f && magnitude <= 0x1p125f) || inverse != inverse) {
      std::size_t i = 0;
      for (; i + lanes <= n; i += lanes) (batch::load_unaligned(x + i) / divisor).store_unaligned(x + i);
      if (i < n) store_tail(load_tail(x + i, n - i, 1.0f) / divisor, x + i, n - i);
      return;
    }
    const batch reciprocal(inverse);
    std::size_t i = 0;
    for (; i + 2 * lanes <= n; i += 2 * lanes) {
      quotient(batch::load_unaligned(x + i), divisor, reciprocal).store_unaligned(x + i);
      quotient(batch::load_unaligned(x + i + lanes), divisor, reciprocal).store_unaligned(x + i + lanes);
    }
    for (; i + lanes <= n; i += lanes) {
      quotient(batch::load_unaligned(x + i), divisor, reciprocal).store_unaligned(x + i);
    }
    if (i < n) {  // tail, padded with c so the unused lanes divide harmlessly
      store_tail(quotient(load_tail(x + i, n - i, c), divisor, reciprocal), x + i, n - i);
    }
  }

  // y = c y + w x with one FMA per batch. The tail is padded with 0: the unused lanes
  // compute c 0 + w 0 and are never stored.
  static void scale_add(float* y, float c, float w, const float* x, std::size_t n) {
    const batch scale(c), weight(w);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      compat::fma(weight, batch::load_unaligned(x + i), scale * batch::load_unaligned(y + i))
          .store_unaligned(y + i);
    }
    if (i < n) {  // tail
      store_tail(compat::fma(weight, load_tail(x + i, n - i, 0.0f), scale * load_tail(y + i, n - i, 0.0f)),
                 y + i, n - i);
    }
  }

  // out = a (g - c): the subtraction first, so a weight near 0 multiplies a small number.
  static void scaled_difference(const float* a, const float* g, float c, float* out, std::size_t n) {
    const batch mean(c);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      (batch::load_unaligned(a + i) * (batch::load_unaligned(g + i) - mean)).store_unaligned(out + i);
    }
    if (i < n) {  // tail, padded with 0
      store_tail(load_tail(a + i, n - i, 0.0f) * (load_tail(g + i, n - i, 0.0f) - mean), out + i, n - i);
    }
  }

  // The score micro-kernel: a tile of tile_rows x (tile_vectors * lanes) accumulators held
  // in registers (24 of 32 on AVX-512, 12 of 16 elsewhere), updated with one broadcast of a
  // Q entry (read from the rows of Q in place) and one FMA per accumulator for each k. The
  // fold expressions over R unroll the rows at compile time, so every accumulator is a
  // named register, not memory. While the tile is still in registers it is scaled, masked
  // (only tiles the mask or the right edge cuts) and folded into the running row maxima.
  static constexpr std::size_t tile_rows = lanes >= 16 ? 12 : 6;
  static constexpr std::size_t tile_vectors = 2;
  static constexpr std::size_t tile_cols = tile_vectors * lanes;

  /// The tiles of rows x cols, one panel of K after the other; row r of the tile at
  /// column j keeps its first min(visible - j + r, cols - j) columns.
  template <std::size_t... R>
  static void tiles(const float* q, const float* k, std::size_t d, std::size_t rows, std::size_t cols,
                    float* S, std::size_t ldS, float scale, std::size_t visible, float* row_max,
                    std::index_sequence<R...>) {
    std::ptrdiff_t offset[tile_rows];  // rows past the last repeat row 0: computed, never stored
    ((offset[R] = static_cast<std::ptrdiff_t>((R < rows ? R : 0) * d)), ...);
    for (std::size_t j = 0; j < cols; j += tile_cols, S += tile_cols) {
      batch c0[tile_rows], c1[tile_rows];
      ((c0[R] = batch(0.0f), c1[R] = batch(0.0f)), ...);
      const float* p = q;
      for (const float* const end = k + d * tile_cols; k != end; k += tile_cols, ++p) {
        const batch b0 = batch::load_aligned(k);
        const batch b1 = batch::load_aligned(k + lanes);
        ((c0[R] = compat::fma(batch(p[offset[R]]), b0, c0[R]), c1[R] = compat::fma(batch(p[offset[R]]), b1, c1[R])), ...);
      }
      if (scale != 1.0f) {  // x 1 = x: skipped for d = 1
        const batch v(scale);
        ((c0[R] = c0[R] * v, c1[R] = c1[R] * v), ...);
      }
      const std::size_t width = cols - j < tile_cols ? cols - j : tile_cols;
      const bool cut = visible < cols && visible < j + tile_cols;  // the mask reaches into this tile
      if (cut || (row_max != nullptr && width < tile_cols)) {  // -inf from column min(visible - j + r, width) on
        const std::ptrdiff_t limit = visible < cols ? static_cast<std::ptrdiff_t>(visible) - static_cast<std::ptrdiff_t>(j)
                                                    : static_cast<std::ptrdiff_t>(width);
        const batch column0 = iota(), column1 = iota() + batch(static_cast<float>(lanes)), masked(-INFINITY);
        const auto keep = [&](std::size_t r) {
          const std::ptrdiff_t end = limit + static_cast<std::ptrdiff_t>(r);
          return batch(static_cast<float>(end < static_cast<std::ptrdiff_t>(width) ? end : static_cast<std::ptrdiff_t>(width)));
        };
        ((c0[R] = xsimd::select(column0 < keep(R), c0[R], masked),
          c1[R] = xsimd::select(column1 < keep(R), c1[R], masked)), ...);
      }
      if (row_max != nullptr) {
        ((xsimd::max(xsimd::max(c0[R], c1[R]), batch::load_aligned(row_max + R * lanes))
              .store_aligned(row_max + R * lanes)), ...);
      }
      if (rows == tile_rows && width == tile_cols) {
        ((c0[R].store_unaligned(S + R * ldS), c1[R].store_unaligned(S + R * ldS + lanes)), ...);
        continue;
      }
      alignas(Arch::alignment()) float buffer[tile_rows * tile_cols];  // edge tile
      ((c0[R].store_aligned(buffer + R * tile_cols), c1[R].store_aligned(buffer + R * tile_cols + lanes)), ...);
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < width; ++c) S[r * ldS + c] = buffer[r * tile_cols + c];
      }
    }
  }

  static void score_tiles(const float* q, const float* k_panels, std::size_t d, std::size_t rows,
                          std::size_t cols, float* S, std::size_t ldS, float scale, std::size_t visible,
                          float* row_max) {
    tiles(q, k_panels, d, rows, cols, S, ldS, scale, visible, row_max, std::make_index_sequence<tile_rows>{});
  }

  /// K (rows x d, row-major) times `scale` into panels of tile_cols keys, each d x
  /// tile_cols with the last panel zero-padded: each panel row is tile_vectors gathers of
  /// lanes keys' l-th entries (a stride of d), stored whole, where a scalar transpose writes
  /// one float at a time. Returns false when some nonzero entry times `scale` falls below
  /// FLT_MIN (subnormal or 0: not exact even for a power of two).
  static bool pack_panels(const float* K, std::size_t rows, std::size_t d, float scale, float* out) {
    using index_batch = xsimd::batch<std::int32_t, Arch>;
    alignas(Arch::alignment()) std::int32_t offsets[lanes];
    for (std::size_t c = 0; c < lanes; ++c) offsets[c] = static_cast<std::int32_t>(c * d);
    const index_batch stride = index_batch::load_aligned(offsets);
    const batch factor(scale), smallest(0x1p-126f), zero(0.0f);
    batch_bool inexact(false);
    std::size_t j0 = 0;
    for (; j0 + tile_cols <= rows; j0 += tile_cols) {
      const float* keys = K + j0 * d;
      for (std::size_t l = 0; l < d; ++l, out += tile_cols) {
        for (std::size_t v = 0; v < tile_vectors; ++v) {
          const batch k = compat::gather(keys + v * lanes * d + l, stride), product = k * factor;
          inexact = inexact || (xsimd::abs(product) < smallest && k != zero);
          product.store_aligned(out + v * lanes);
        }
      }
    }
    bool exact = !xsimd::any(inexact);
    if (j0 < rows) {  // the last, partial panel
      for (std::size_t l = 0; l < d; ++l, out += tile_cols) {
        for (std::size_t c = 0; c < tile_cols; ++c) {
          const float k = j0 + c < rows ? K[(j0 + c) * d + l] : 0.0f, product = k * scale;
          exact = exact && !((product < 0x1p-126f && product > -0x1p-126f) && k != 0.0f);
          out[c] = product;
        }
      }
    }
    return exact;
  }

  static constexpr kernel_table table(const char* name) {
    return {name,
            static_cast<unsigned>(lanes),
            &dot,
            &max,
            &sum_exp_shifted,
            &divide,
            &scale_add,
            &scaled_difference,
            static_cast<unsigned>(tile_rows),
            static_cast<unsigned>(tile_cols),
            &pack_panels,
            &score_tiles};
  }
};

}  // namespace attn::ref::detail
