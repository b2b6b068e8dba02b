// The lengths the tests run a row or a dimension through, so that every tail of a SIMD
// loop (4, 8 or 16 lanes, unrolled up to 4 times) is reached: one list, in three
// densities. The step tests, which time the student's code, take tail_sizes() or
// small_tail_sizes(); the reference tests, which run every instruction set's kernels,
// all_lengths().
#pragma once

#include <cstddef>
#include <vector>

namespace attn::test {

/// Past every block and unroll, for the long end of each list.
inline constexpr std::size_t long_lengths[] = {1000, 4099, 65537};

/// Lengths that hit every tail of an 4-, 8- or 16-lane SIMD loop (and of its 2x unrolled
/// version): 0..17, 31..33, 63..65, 127..129, 255..257, and a few large ones.
inline std::vector<std::size_t> tail_sizes() {
  std::vector<std::size_t> sizes;
  for (std::size_t n = 0; n <= 17; ++n) sizes.push_back(n);
  for (std::size_t centre : {32u, 64u, 128u, 256u}) {
    for (std::size_t n = centre - 1; n <= centre + 1; ++n) sizes.push_back(n);
  }
  for (std::size_t n : long_lengths) sizes.push_back(n);
  return sizes;
}

/// Shorter list for two- and three-dimensional sweeps (n_q x n_k x d).
inline std::vector<std::size_t> small_tail_sizes() {
  return {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33};
}

/// Every length from 0 to 300 (every tail of up to 4 x 16 lanes, several times over) and
/// the long ones: the reference's kernels, on every instruction set.
inline std::vector<std::size_t> all_lengths() {
  std::vector<std::size_t> n;
  for (std::size_t i = 0; i <= 300; ++i) n.push_back(i);
  for (std::size_t big : long_lengths) n.push_back(big);
  return n;
}

}  // namespace attn::test
