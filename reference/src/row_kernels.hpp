// The row kernels: one loop over full batches of a row, then one tail through the same
// SIMD code (simd.hpp). Built on the primitives of exp.hpp and divide.hpp.
#pragma once

#include <cmath>  // INFINITY, NAN
#include <cstddef>
#include <cstdint>  // std::uintptr_t

#include "constants.hpp"
#include "divide.hpp"
#include "exp.hpp"
#include "simd.hpp"

namespace attn::ref::detail {

template <class Arch>
struct row_kernels : simd<Arch> {
  using base = simd<Arch>;
  using typename base::batch;
  using typename base::batch_bool;
  using base::lanes;
  using base::load_tail;
  using base::store_tail;
  using base::iota;
  /// Independent accumulators in dot(): enough to hide the FMA latency.
  static constexpr std::size_t dot_accumulators = 4;

  // Loads that straddle two cache lines cost double, so long vectors first take the
  // elements up to a's next register-aligned address in one masked batch, then run aligned
  // in a (and in b too when both share the misalignment); the last n % lanes elements come
  // from the batch that ends at n, its lanes already counted masked out. The masks select
  // products, so whatever the masked lanes hold (inf, NaN) never reaches the sum.
  //
  // One register (d = 16 on AVX-512) and one block of four (d = 64 on AVX-512, the usual head)
  // come first, straight through: what the paths below compute for them, in the same order,
  // without their branches, which cost a call this short a cycle each.
  static float dot(const float* a, const float* b, std::size_t n) {
    constexpr std::size_t block = dot_accumulators * lanes;
    if (n == lanes) [[likely]] return compat::reduce_add(batch::load_unaligned(a) * batch::load_unaligned(b));  // dot_short's
    if (n == block) [[likely]] {  // the first step of the main loop below, from +0 accumulators
      const batch zero(0.0f);
      const batch acc0 = compat::fma(batch::load_unaligned(a), batch::load_unaligned(b), zero);
      const batch acc1 = compat::fma(batch::load_unaligned(a + lanes), batch::load_unaligned(b + lanes), zero);
      const batch acc2 = compat::fma(batch::load_unaligned(a + 2 * lanes), batch::load_unaligned(b + 2 * lanes), zero);
      const batch acc3 = compat::fma(batch::load_unaligned(a + 3 * lanes), batch::load_unaligned(b + 3 * lanes), zero);
      return compat::reduce_add((acc0 + acc1) + (acc2 + acc3));
    }
    if (n <= 2 * lanes) return dot_short(a, b, n);
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

  // At most two registers (d = 16 on AVX2, d = 32 on AVX-512: the small heads of the
  // course's examples and of attention_backward): one accumulator and no alignment, the
  // same products summed in the same order as dot()'s general path, so the same value
  // (only a zero's sign can differ: the general path adds its unused +0 accumulators).
  static float dot_short(const float* a, const float* b, std::size_t n) {
    if (n < lanes) return compat::reduce_add(load_tail(a, n, 0.0f) * load_tail(b, n, 0.0f));  // 0 * 0 adds nothing
    batch acc = batch::load_unaligned(a) * batch::load_unaligned(b);
    if (n == 2 * lanes) {
      acc = compat::fma(batch::load_unaligned(a + lanes), batch::load_unaligned(b + lanes), acc);
    } else if (n > lanes) {  // the batch ending at n, its first lanes already counted
      const batch_bool fresh = iota() >= batch(static_cast<float>(2 * lanes - n));
      acc += xsimd::select(fresh, batch::load_unaligned(a + n - lanes) * batch::load_unaligned(b + n - lanes),
                           batch(0.0f));
    }
    return compat::reduce_add(acc);
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

  // In attention_weights the rows come from the micro-kernel, which has streamed K through
  // the first-level cache since it wrote them: perf put a quarter of this loop's samples on
  // its loads. Prefetching 16 lines ahead (a hint: past the end of x is harmless) made the
  // whole causal n = 1024, d = 64 call about 3% faster and softmax_rows no slower.
  static constexpr std::size_t prefetch_distance = 16 * cache_line_floats;

  template <bool store>
  static float sum_exp_shifted_to(const float* x, float m, float* out, std::size_t n) {
    const batch shift(m);
    batch sum0(0.0f), sum1(0.0f);
    std::size_t i = 0;
    for (; i + 2 * lanes <= n; i += 2 * lanes) {
      for (std::size_t line = 0; line < 2 * lanes; line += cache_line_floats) compat::prefetch<Arch>(x + i, prefetch_distance + line);
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
    if (!(magnitude >= smallest_normal && magnitude <= 0x1p125f) || inverse != inverse) {
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
};

}  // namespace attn::ref::detail
