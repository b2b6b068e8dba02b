// The register-blocked score micro-kernel: Q K^T / sqrt(d) tile by tile, with the causal
// mask and the row maxima applied while the tile is in registers, and the packing of K
// into the panels it reads (tiled.hpp says how the reference calls them).
#pragma once

#include <cmath>  // INFINITY
#include <cstddef>
#include <cstdint>  // std::int32_t
#include <utility>  // std::index_sequence (a type only: no code)

#include "constants.hpp"
#include "kernel_table.hpp"  // score_block
#include "simd.hpp"

namespace attn::ref::detail {

template <class Arch>
struct score_tile : simd<Arch> {
  using base = simd<Arch>;
  using typename base::batch;
  using typename base::batch_bool;
  using base::lanes;
  using base::iota;

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
  /// `block` is taken by value: measured with GCC 12, taking it by reference made
  /// attention_backward at n = 16, d = 16 (many short calls) 7-10% slower than separate
  /// parameters did; by value it runs as fast as they did.
  template <std::size_t... R>
  static void tiles(const score_block block, std::index_sequence<R...>) {
    const float* const q = block.q;
    const float* k = block.k_panels;
    float* S = block.S;
    const std::size_t d = block.d, rows = block.rows, cols = block.cols, ldS = block.ldS;
    const std::size_t visible = block.visible;
    const float scale = block.scale;
    float* const row_max = block.row_max;
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

  static void score_tiles(const score_block& block) { tiles(block, std::make_index_sequence<tile_rows>{}); }

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
    const batch factor(scale), smallest(smallest_normal), zero(0.0f);
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
          exact = exact && !((product < smallest_normal && product > -smallest_normal) && k != 0.0f);
          out[c] = product;
        }
      }
    }
    return exact;
  }
};

}  // namespace attn::ref::detail
