// The reference kernels, written once with the xsimd architecture as a template
// parameter, gathered into one instruction set's kernel table. isa_kernels.cpp.in
// instantiates them once per instruction set, each in its own object library compiled
// with that instruction set's flags.
//
// By level: simd.hpp (the batch and its tails), exp.hpp and divide.hpp (numerics
// primitives on one batch), row_kernels.hpp (loops over a row), score_tile.hpp (the score
// micro-kernel and its packing of K). Only per-ISA translation units include them.
#pragma once

#include "kernel_table.hpp"
#include "row_kernels.hpp"
#include "score_tile.hpp"

namespace attn::ref::detail {

/// The kernel table of the architecture Arch, named `name`.
template <class Arch>
constexpr kernel_table make_kernel_table(const char* name) {
  using row = row_kernels<Arch>;
  using tile = score_tile<Arch>;
  return {.name = name,
          .lanes = static_cast<unsigned>(simd<Arch>::lanes),
          .dot = &row::dot,
          .max = &row::max,
          .sum_exp_shifted = &row::sum_exp_shifted,
          .divide = &row::divide,
          .scale_add = &row::scale_add,
          .scaled_difference = &row::scaled_difference,
          .tile_rows = static_cast<unsigned>(tile::tile_rows),
          .tile_cols = static_cast<unsigned>(tile::tile_cols),
          .pack_panels = &tile::pack_panels,
          .score_tiles = &tile::score_tiles};
}

}  // namespace attn::ref::detail
