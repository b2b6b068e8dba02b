// The per-instruction-set kernels behind attn::ref, as a table of function pointers.
// One table per instruction set compiled in; dispatch.cpp picks one at run time.
#pragma once

#include <cstddef>

namespace attn::ref::detail {

/// The primitive loops the reference is built from. Pointers may be unaligned; `n` may
/// be any size, 0 included.
struct kernel_table {
  const char* name;  ///< "scalar", "sse2", "avx2", "avx512f", "neon64".
  unsigned lanes;    ///< floats per register.
  /// sum_i a_i b_i.
  float (*dot)(const float* a, const float* b, std::size_t n);
  /// max_i x_i; NaN if any x_i is NaN (whatever the max instruction does); -inf if n == 0.
  float (*max)(const float* x, std::size_t n);
  /// sum_i exp(x_i - m), and out_i = exp(x_i - m) unless out is null (out may equal x).
  /// Exponents of -inf give exactly 0.
  float (*sum_exp_shifted)(const float* x, float m, float* out, std::size_t n);
  /// x_i = x_i / c, correctly rounded (not a bare multiplication by 1/c): with FMA,
  /// Markstein's correction of x_i (1/c), which is correctly rounded for normal quotients
  /// (tests/reference/test_reference_divide.cpp compares it with x / c bit for bit on every
  /// instruction set); other lanes fall back to a division.
  void (*divide)(float* x, float c, std::size_t n);
  /// y_i = c y_i + w x_i, the accumulation of a weighted value vector into an output row
  /// (c = 1: attention_output; c = the rescale factor: streaming_attention). y and x may
  /// not overlap.
  void (*scale_add)(float* y, float c, float w, const float* x, std::size_t n);
  /// out_i = a_i (g_i - c), the softmax backward pass once c = <g, a> is known.
  void (*scaled_difference)(const float* a, const float* g, float c, float* out, std::size_t n);

  /// The register-blocked score micro-kernel works on tiles of tile_rows x tile_cols.
  unsigned tile_rows;
  unsigned tile_cols;
  /// K (rows x d, row-major, d * tile_cols < 2^31) times `scale`, packed for score_tiles:
  /// panel p holds keys [p tile_cols, (p + 1) tile_cols) as d rows of tile_cols floats
  /// (entry l of key p tile_cols + c at l tile_cols + c), zero past the last key;
  /// ceil(rows / tile_cols) panels, 64-byte aligned. False when a nonzero entry times
  /// `scale` is below FLT_MIN (subnormal or 0).
  bool (*pack_panels)(const float* K, std::size_t rows, std::size_t d, float scale, float* panels);
  /// S(r, j) = sum_k q[r d + k] k_panels[(p d + k) tile_cols + j % tile_cols], p = j / tile_cols,
  /// for r < rows (<= tile_rows) and j < cols: rows of Q (d floats each, read in place)
  /// against K packed in panels of tile_cols rows, each d x tile_cols, zero-padded (see
  /// tiled.hpp). Row r of the result goes to S + r ldS, multiplied by `scale` (1 skips
  /// it). Each entry is one dot product accumulated in k order, at most d roundings per
  /// term, then one more for the product.
  /// The causal mask: S(r, j) = -inf for j >= visible + r (visible >= cols: no mask).
  /// Unless row_max is null (tile_rows x lanes floats, 64-byte aligned), lanes
  /// [r lanes, (r + 1) lanes) of it are raised to cover every S(r, j), j < cols, so that
  /// their max is the row's max; a NaN entry may or may not reach them (whatever the max
  /// instruction does), and lanes of rows >= `rows` hold garbage.
  void (*score_tiles)(const float* q, const float* k_panels, std::size_t d, std::size_t rows,
                      std::size_t cols, float* S, std::size_t ldS, float scale, std::size_t visible,
                      float* row_max);
};

/// Always compiled: plain loops, so every platform has at least one table.
extern const kernel_table scalar_table;
// One per instruction set, defined in isa_kernels.cpp when CMake compiled it
// (ATTN_HAVE_<ISA> tells dispatch.cpp which exist).
extern const kernel_table sse2_table;
extern const kernel_table avx2_table;
extern const kernel_table avx512f_table;
extern const kernel_table neon64_table;

/// The table in use on this thread: the pinned one (scoped_isa) or the best supported.
const kernel_table& active_kernels();

}  // namespace attn::ref::detail
