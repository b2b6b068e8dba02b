// Q K^T in register-sized tiles: the operands packed once for kernel_table::score_tiles.
// Used by scores() and the fused attention_weights().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <attn/matrix.hpp>

#include "constants.hpp"
#include "kernel_table.hpp"

namespace attn::ref::detail {

/// The first cache-line aligned float at or after p: buffers for the kernels' aligned loads
/// are allocated cache_line_floats floats longer and start there.
inline float* align_to_cache_line(float* p) {
  return p + (cache_line_floats - reinterpret_cast<std::uintptr_t>(p) / sizeof(float) % cache_line_floats) %
                 cache_line_floats;
}

/// 1/sqrt(d), computed in double and rounded to float. For d = 4^k it is a power of two,
/// so multiplying by it is exactly the division by sqrt(d) of scaled_score(); otherwise the
/// product is one rounding more than the division, which tol::scaled_score allows for.
float inverse_sqrt(std::size_t d);

/// K packed in panels of tile_cols rows (each d x tile_cols, zero-padded, 64-byte aligned)
/// for kernel_table::score_tiles; Q is read in place. The scale multiplies each finished
/// dot product in the micro-kernel's accumulators (a 1/d fraction of its work, where a
/// division would cost a third of it: a vector division is about as slow as 10 FMAs),
/// unless it is a power of two (d = 4^k) and every key entry times it stays normal: then
/// it is folded into K, exactly, and q . (k scale) is bit for bit (q . k) scale whenever
/// the partial sums stay in the normal range (else it is the closer of the two). It is
/// never folded when inexact: a subnormal entry times 1/sqrt(d) can round to 0, and then
/// 0 * inf turns a score of -inf (or +inf) into NaN, as the fuzzer found.
class packed_scores {
 public:
  /// compute() and compute_columns() give every dot product times `scale` (inverse_sqrt(d)).
  /// K is packed on `threads` threads (run_on_threads) when it has enough panels to share.
  packed_scores(const kernel_table& kernels, const_matrix_view Q, const_matrix_view K, float scale,
                std::size_t threads = 1);
  /// Rows per block: blocks() blocks cover the rows of Q, the last one maybe partial.
  std::size_t block_rows() const { return kernels_->tile_rows; }
  std::size_t blocks() const { return blocks_of(*kernels_, rows_); }
  /// The blocks() of Q with `rows` rows, before K is packed (attention_weights() needs the
  /// count to choose its threads, which then pack K).
  static std::size_t blocks_of(const kernel_table& kernels, std::size_t rows) {
    return (rows + kernels.tile_rows - 1) / kernels.tile_rows;
  }
  /// For the fused attention_weights(): rows of S from block * block_rows(), columns
  /// [0, cols), into S (row stride ldS). With causal, row i keeps columns j <= i and gets
  /// -inf in the rest of [0, cols). Unless row_max is null, it gets the rows' maxima
  /// (kernel_table::score_tiles).
  void compute(std::size_t block, std::size_t cols, float* S, std::size_t ldS, bool causal, float* row_max) const;
  /// For scores(): columns [first, first + count) of the same rows, unmasked, into S (which
  /// points at column `first`); `first` a multiple of column_step().
  void compute_columns(std::size_t block, std::size_t first, std::size_t count, float* S, std::size_t ldS) const;
  std::size_t column_step() const { return kernels_->tile_cols; }

 private:
  const kernel_table* kernels_;
  std::size_t rows_, d_;
  float scale_;
  std::unique_ptr<float[]> storage_;
  const float* q_ = nullptr;
  float* k_ = nullptr;
};

}  // namespace attn::ref::detail
