// The fp32 FMA peak of the core running the suite, measured rather than looked up: every
// benchmark reports its FLOP/s as a percentage of it.
#pragma once

#include <cstddef>
#include <string>

namespace attn::bench {

/// The instruction set the peak kernel was compiled for (ATTN_BENCH_ARCH_FLAGS).
struct peak_kernel_info {
  std::string isa;     ///< xsimd's name for it, e.g. "avx512bw", "fma3+avx2", "sse2".
  unsigned lanes = 0;  ///< floats per register.
  unsigned chains = 0; ///< independent FMA chains kept in registers.
};

peak_kernel_info fma_peak_kernel();

/// Runs `rounds` rounds of the peak kernel and returns a value that depends on all of them
/// (so the compiler cannot drop the work). One round is chains x lanes FMAs.
float fma_peak_rounds(std::size_t rounds, float a, float b);

/// FLOPs of one round: 2 per lane per FMA (a multiply and an add).
double fma_peak_flops_per_round();

/// The load side of the same core: `passes` sums of x[0, n) into independent accumulators
/// (n a multiple of 8 registers), one load per add. Over a buffer in L1, floats per second
/// is how fast the core streams operands, and so the FLOP/s limit of a dot product, which
/// needs two loads per FMA (two floats per two FLOPs): the load-bound limit.
float load_peak_pass(const float* x, std::size_t n, std::size_t passes);

}  // namespace attn::bench
