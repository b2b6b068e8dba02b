// attn_bench / attn_bench_exercises: Google Benchmark's main, plus
//   --quick   every benchmark about 10 ms, the scalar variants without their largest
//             matrices: proves that everything runs and is right (CI, ctest bench.quick)
//   --full    Google Benchmark's own timing (the default)
// The FMA peak is measured first; wrong results make the exit status 1. bench/report.py
// runs both executables and prints the table of speed-ups.
#include <attn/attn.hpp>

#include <benchmark/benchmark.h>

#include "fma_peak.hpp"
#include "harness.hpp"
#include "peers.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using attn::bench::mode;

/// Removes --quick / --full from argv (Google Benchmark rejects flags it does not know).
mode take_mode(int& argc, char** argv) {
  mode m = mode::full;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      m = mode::quick;
    } else if (std::strcmp(argv[i], "--full") == 0) {
      m = mode::full;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  argv[argc] = nullptr;
  return m;
}

/// The best FLOP/s of `trials` runs of the peak kernel, each about 10 ms.
double measure_fma_peak(int trials) {
  using clock = std::chrono::steady_clock;
  constexpr std::size_t kRounds = 1 << 16;
  double best = 0.0;
  float sink = 0.0f;
  for (int t = 0; t < trials; ++t) {
    const auto start = clock::now();
    sink += attn::bench::fma_peak_rounds(kRounds, 0.999f, 0.001f);
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    best = std::max(best, kRounds * attn::bench::fma_peak_flops_per_round() / seconds);
  }
  benchmark::DoNotOptimize(sink);
  return best;
}

std::string join(const std::vector<std::string>& parts) {
  std::string all;
  for (const std::string& p : parts) all += (all.empty() ? "" : "; ") + p;
  return all;
}

}  // namespace

int main(int argc, char** argv) {
#if ATTN_BENCH_WITH_PEERS
  attn::bench::pin_openblas_kernel(argv);  // may run this program again, OpenBLAS pinned to its best kernel
#endif
  attn::bench::settings run;
  run.run_mode = take_mode(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  run.peak_flops = measure_fma_peak(run.run_mode == mode::quick ? 5 : 50);
  const attn::bench::peak_kernel_info peak = attn::bench::fma_peak_kernel();
  std::fprintf(stderr, "attn_bench: fp32 FMA peak %.1f GFLOP/s (%s, %u lanes, %u chains), measured now\n",
               run.peak_flops / 1e9, peak.isa.c_str(), peak.lanes, peak.chains);

  attn::bench::register_fma_peak(run);
  attn::bench::register_load_peak(run);
  const std::vector<std::string> notes = attn::bench::register_kernels(run);
  for (const std::string& note : notes) std::fprintf(stderr, "attn_bench: note: %s\n", note.c_str());

  benchmark::AddCustomContext("attn_flavour", ATTN_BENCH_FLAVOUR);
  benchmark::AddCustomContext("attn_mode", run.run_mode == mode::quick ? "quick" : "full");
  benchmark::AddCustomContext("attn_reference_isa", std::string(attn::ref::active_isa()));
  benchmark::AddCustomContext("attn_fma_peak_flops", std::to_string(run.peak_flops));
  benchmark::AddCustomContext("attn_fma_peak_isa", peak.isa + ", " + std::to_string(peak.lanes) + " lanes");
  benchmark::AddCustomContext("attn_notes", join(notes));

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  const std::vector<std::string>& wrong = attn::bench::wrong_results();
  for (const std::string& w : wrong) std::fprintf(stderr, "attn_bench: %s\n", w.c_str());
  if (!wrong.empty()) {
    std::fprintf(stderr, "attn_bench: %zu wrong result(s): nothing of those kernels was timed\n", wrong.size());
    return 1;
  }
  return 0;
}
