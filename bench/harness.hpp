// What the benchmark files share: the run's settings, the counters every benchmark
// reports, and the record of wrong results (any one fails the run).
#pragma once

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace attn::bench {

/// Quick: every benchmark runs for about 10 ms and the scalar variants leave out the largest
/// matrices (CI's proof that everything runs and is right). Full: Google Benchmark's timing.
enum class mode { quick, full };

struct settings {
  mode run_mode = mode::full;
  double peak_flops = 0.0;  ///< the FMA peak measured at start-up, FLOP/s
};

/// The work of one call of a kernel: nominal FLOPs, the bytes it must move at the least
/// (read its inputs once, write its output once) and the elements it produces or consumes.
struct work {
  double flops;
  double bytes;
  double elements;
};

/// Google Benchmark's own rate counters, per second: FLOP/s, bytes/s, elements/s, and
/// %peak, the FLOP/s as a percentage of the measured FMA peak.
void set_counters(benchmark::State& state, const settings& run, const work& w);

/// Marks the benchmark as failed with `what` and remembers it: main() exits with 1.
void report_wrong(benchmark::State& state, const std::string& what);
/// Every wrong result of this run, in order.
const std::vector<std::string>& wrong_results();

/// Registers the kernels' benchmarks for every variant this executable holds, in the order
/// kernel, size, variant (so variants run side by side). Returns notes on what was left out.
std::vector<std::string> register_kernels(const settings& run);

/// Registers the FMA peak kernel itself as a benchmark.
void register_fma_peak(const settings& run);
/// load_peak/<isa>/xsimd: floats per second streamed from L1 (the dot product's limit).
void register_load_peak(const settings& run);

}  // namespace attn::bench
