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

  static float dot(const float* a, const float* b, std::size_t n) {
    constexpr std::size_t block = dot_accumulators * lanes;
    batch acc0(0.0f), acc1(0.0f), acc2(0.0f), acc3(0.0f);
    std::size_t i = 0;
    for (; i + block <= n; i += block) {
      acc0 = xsimd::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc0);
      acc1 = xsimd::fma(batch::load_unaligned(a + i + lanes), batch::load_unaligned(b + i + lanes), acc1);
      acc2 = xsimd::fma(batch::load_unaligned(a + i + 2 * lanes), batch::load_unaligned(b + i + 2 * lanes), acc2);
      acc3 = xsimd::fma(batch::load_unaligned(a + i + 3 * lanes), batch::load_unaligned(b + i + 3 * lanes), acc3);
    }
    for (; i + lanes <= n; i += lanes) {
      acc0 = xsimd::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc0);
    }
    if (i < n) {  // tail, zero-padded: 0 * 0 adds nothing
      acc1 = xsimd::fma(load_tail(a + i, n - i, 0.0f), load_tail(b + i, n - i, 0.0f), acc1);
    }
    return compat::reduce_add((acc0 + acc1) + (acc2 + acc3));
  }

  // NaN is tracked in its own mask and the maximum taken with a compare and select that
  // skips NaN: x86 max instructions return one operand or the other when a NaN is
  // involved, so max() alone could lose it. The mask uses xsimd::isnan, not v != v:
  // xsimd 8.1 compiles != on AVX and AVX-512 as an ordered compare, false for NaN.
  static float max(const float* x, std::size_t n) {
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

  /// exp(v - m), with an exponent of -inf giving exactly 0 whatever xsimd::exp does
  /// with -inf on this instruction set.
  static batch exp_shifted(const batch& v, const batch& m) {
    const batch shifted = v - m;
    return xsimd::select(shifted == batch(-INFINITY), batch(0.0f), xsimd::exp(shifted));
  }

  static float sum_exp_shifted(const float* x, float m, float* out, std::size_t n) {
    const batch shift(m);
    batch sum0(0.0f), sum1(0.0f);
    std::size_t i = 0;
    for (; i + 2 * lanes <= n; i += 2 * lanes) {
      const batch e0 = exp_shifted(batch::load_unaligned(x + i), shift);
      const batch e1 = exp_shifted(batch::load_unaligned(x + i + lanes), shift);
      if (out != nullptr) {
        e0.store_unaligned(out + i);
        e1.store_unaligned(out + i + lanes);
      }
      sum0 += e0;
      sum1 += e1;
    }
    for (; i + lanes <= n; i += lanes) {
      const batch e = exp_shifted(batch::load_unaligned(x + i), shift);
      if (out != nullptr) e.store_unaligned(out + i);
      sum0 += e;
    }
    if (i < n) {  // tail, padded with -inf: exp(-inf) = 0 adds nothing
      const batch e = exp_shifted(load_tail(x + i, n - i, -INFINITY), shift);
      if (out != nullptr) store_tail(e, out + i, n - i);
      sum1 += e;
    }
    return compat::reduce_add(sum0 + sum1);
  }

  static void divide(float* x, float c, std::size_t n) {
    const batch divisor(c);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      (batch::load_unaligned(x + i) / divisor).store_unaligned(x + i);
    }
    if (i < n) {  // tail, padded with 1 so the unused lanes divide harmlessly
      store_tail(load_tail(x + i, n - i, 1.0f) / divisor, x + i, n - i);
    }
  }

  // y = c y + w x with one FMA per batch. The tail is padded with 0: the unused lanes
  // compute c 0 + w 0 and are never stored.
  static void scale_add(float* y, float c, float w, const float* x, std::size_t n) {
    const batch scale(c), weight(w);
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      xsimd::fma(weight, batch::load_unaligned(x + i), scale * batch::load_unaligned(y + i))
          .store_unaligned(y + i);
    }
    if (i < n) {  // tail
      store_tail(xsimd::fma(weight, load_tail(x + i, n - i, 0.0f), scale * load_tail(y + i, n - i, 0.0f)),
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

  static constexpr kernel_table table(const char* name) {
    return {name, static_cast<unsigned>(lanes), &dot, &max, &sum_exp_shifted, &divide, &scale_add,
            &scaled_difference};
  }
};

}  // namespace attn::ref::detail
