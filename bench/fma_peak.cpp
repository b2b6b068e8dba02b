// The machine's own limits. The FMA peak kernel: independent chains acc = acc * a + b, one
// register each, long enough for the FMA units' latency to be hidden (two units of latency
// 4 need 8 chains in flight; 12 leave room and still fit 16 registers with a and b). The
// load peak kernel: sums over a buffer in L1, one load per add. Compiled with
// ATTN_BENCH_ARCH_FLAGS (default -march=native), so xsimd's default architecture is the
// widest one this machine has: the same one the reference dispatches to.
#include "fma_peak.hpp"

#include <array>
#include <utility>

#include <xsimd/xsimd.hpp>

namespace attn::bench {
namespace {

using arch = xsimd::default_arch;
using batch = xsimd::batch<float, arch>;
constexpr std::size_t kChains = 12;

template <std::size_t... C>
inline void fma_all(std::array<batch, kChains>& acc, const batch& a, const batch& b,
                    std::index_sequence<C...>) {
  ((acc[C] = xsimd::fma(acc[C], a, b)), ...);
}

template <std::size_t... C>
inline void add_all(std::array<batch, sizeof...(C)>& acc, const float* x, std::index_sequence<C...>) {
  ((acc[C] += batch::load_aligned(x + C * batch::size)), ...);
}

/// Every lane of every accumulator, added up: a result the compiler cannot drop.
template <std::size_t N>
float sum_of(const std::array<batch, N>& acc) {
  batch total = acc[0];
  for (std::size_t c = 1; c < N; ++c) total += acc[c];
  alignas(arch::alignment()) float lanes[batch::size];
  total.store_aligned(lanes);
  float sum = 0.0f;
  for (float v : lanes) sum += v;
  return sum;
}

}  // namespace

peak_kernel_info fma_peak_kernel() {
  return {arch::name(), static_cast<unsigned>(batch::size), static_cast<unsigned>(kChains)};
}

double fma_peak_flops_per_round() { return 2.0 * kChains * batch::size; }

float fma_peak_rounds(std::size_t rounds, float a, float b) {
  // With 0 < a < 1 every chain tends to b / (1 - a): no overflow, no subnormals.
  std::array<batch, kChains> acc;
  for (std::size_t c = 0; c < kChains; ++c) acc[c] = batch(1.0f + 0.01f * static_cast<float>(c));
  const batch va(a), vb(b);
  for (std::size_t r = 0; r < rounds; ++r) fma_all(acc, va, vb, std::make_index_sequence<kChains>{});
  return sum_of(acc);
}

float load_peak_pass(const float* x, std::size_t n, std::size_t passes) {
  constexpr std::size_t kSums = 8;  // two load ports and add units of latency 4: 8 in flight
  std::array<batch, kSums> acc;
  acc.fill(batch(0.0f));
  for (std::size_t p = 0; p < passes; ++p) {
    for (std::size_t i = 0; i + kSums * batch::size <= n; i += kSums * batch::size) {
      add_all(acc, x + i, std::make_index_sequence<kSums>{});
    }
  }
  return sum_of(acc);
}

}  // namespace attn::bench
