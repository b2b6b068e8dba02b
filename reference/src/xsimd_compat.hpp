// The one place that hides differences between xsimd versions (8.1 on Debian 12 up to
// the newest): 9.0 renamed hadd to reduce_add and added reduce_max.
#pragma once

#include <cstddef>

#include <xsimd/xsimd.hpp>

namespace attn::ref::detail::compat {

/// Sum of the lanes of `x`.
template <class Arch>
float reduce_add(const xsimd::batch<float, Arch>& x) {
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

}  // namespace attn::ref::detail::compat
