// The lowest level of the reference kernels: the xsimd batch of one architecture and the
// helpers every kernel's tail uses. The last n % lanes elements of a vector are copied
// into a padded register-sized buffer and go through the same SIMD code as a full batch.
//
// The kernel headers (simd.hpp, exp.hpp, divide.hpp, row_kernels.hpp, score_tile.hpp,
// kernels.hpp) are included only in per-ISA translation units. Everything in them depends
// on Arch (templates), takes a batch of one architecture only that unit compiles, or is a
// constant, and those units are always optimised (reference/CMakeLists.txt), so no
// out-of-line inline function compiled for a wide instruction set can be chosen by the
// linker for a narrow one.
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

#include "constants.hpp"
#include "xsimd_compat.hpp"

namespace attn::ref::detail {

template <class Arch>
struct simd {
  using batch = xsimd::batch<float, Arch>;
  using batch_bool = typename batch::batch_bool_type;
  static constexpr std::size_t lanes = batch::size;

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
};

}  // namespace attn::ref::detail
