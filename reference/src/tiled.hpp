// Q K^T in register-sized tiles: the operands packed once for kernel_table::score_tiles.
// Used by scores() and the fused attention_weights().
#pragma once

#include <cstddef>
#include <memory>

#include <attn/matrix.hpp>

#include "kernel_table.hpp"

namespace attn::ref::detail {

/// K packed in panels of tile_cols rows (each d x tile_cols, zero-padded, 64-byte aligned)
/// for kernel_table::score_tiles; Q is read in place. The scale is a division of each dot
/// product by sqrt(d), as in scaled_score: folding 1/sqrt(d) into K would flush subnormal
/// keys to 0 and turn (-inf) * k into NaN.
class packed_scores {
 public:
  /// compute() divides every score by `divisor` (sqrt(d)).
  packed_scores(const kernel_table& kernels, const_matrix_view Q, const_matrix_view K, float divisor);
  /// Rows per block: blocks() blocks cover the rows of Q, the last one maybe partial.
  std::size_t block_rows() const { return kernels_->tile_rows; }
  std::size_t blocks() const { return (rows_ + block_rows() - 1) / block_rows(); }
  /// Rows of S from block * block_rows(), columns [0, cols), into S (row stride ldS).
  void compute(std::size_t block, std::size_t cols, float* S, std::size_t ldS) const;

 private:
  const kernel_table* kernels_;
  std::size_t rows_, d_;
  float divisor_;
  std::unique_ptr<float[]> storage_;
  const float* q_ = nullptr;
  float* k_ = nullptr;
};

}  // namespace attn::ref::detail
