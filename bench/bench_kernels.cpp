// One Google Benchmark per kernel, size and variant. Variants: the reference (attn::ref),
// the contract as linked into this executable (the answer key in attn_bench, the student's
// exercises in attn_bench_exercises: ATTN_BENCH_FLAVOUR) and the installed peers. Each
// benchmark checks its result (checks.hpp) before it times anything.
//
// A new kernel (an extension step) takes: its pointer in `variant`, filled in
// register_kernels() and contract_variant(); a check in checks.cpp; a register_<kernel>()
// with its sizes and its work().
#include <attn/attn.hpp>

#include "checks.hpp"
#include "fma_peak.hpp"
#include "harness.hpp"
#include "peers.hpp"

#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace attn::bench {
namespace {

using dot_fn = float (*)(std::span<const float>, std::span<const float>);
using softmax_fn = void (*)(std::span<float>);
using scores_fn = void (*)(const_matrix_view, const_matrix_view, matrix_view);
using weights_fn = void (*)(const_matrix_view, const_matrix_view, matrix_view, bool);

/// One implementation of the kernels; a null kernel is one it does not have.
struct variant {
  std::string name;
  bool is_reference = false;
  bool is_scalar = false;  ///< plain scalar C++: quick mode leaves out its largest matrices
  dot_fn dot = nullptr;
  softmax_fn softmax = nullptr;
  softmax_fn stable_softmax = nullptr;
  scores_fn scores = nullptr;
  weights_fn attention_weights = nullptr;
};

// The sizes: dot over typical head dimensions and beyond, softmax rows from a
// short context to a long one, matrices from small to where the n x n output leaves the caches.
const std::vector<std::size_t> kDotSizes{16, 64, 128, 1024, 4096};
const std::vector<std::size_t> kRowSizes{16, 64, 256, 1024, 4096, 16384, 65536};
const std::vector<std::size_t> kMatrixSizes{256, 1024, 4096};
const std::vector<std::size_t> kHeadDims{64, 128};
constexpr std::size_t kQuickScalarMaxN = 1024;  // 4096 x 4096 x 128 scalar takes seconds

std::vector<std::string> g_wrong;
std::string g_running;  // the benchmark running now, for report_wrong()

// Nominal FLOPs: 2 per multiply-add; a softmax element costs 5 (max, subtract, exp,
// sum, divide; exp counted as one, so %peak of softmax is a lower bound).
constexpr double kSoftmaxFlops = 5.0;

work dot_work(std::size_t d) { return {2.0 * d, 8.0 * d, double(d)}; }
work softmax_work(std::size_t n) { return {kSoftmaxFlops * n, 8.0 * n, double(n)}; }
work scores_work(std::size_t n, std::size_t d) {
  const double nn = double(n) * n;
  return {2.0 * d * nn, 4.0 * (2.0 * n * d + nn), nn};
}
/// Causal: only the n (n + 1) / 2 unmasked pairs are work.
work weights_work(std::size_t n, std::size_t d, bool causal) {
  const double nn = double(n) * n, pairs = causal ? n * (n + 1) / 2.0 : nn;
  return {(2.0 * d + kSoftmaxFlops) * pairs, 4.0 * (2.0 * n * d + nn), nn};
}

// DoNotOptimize always gets an lvalue: Google Benchmark 1.8 deprecates its const& overload,
// which an rvalue would pick.

/// Runs `check` on the first call of a benchmark; false (and the benchmark marked failed)
/// when it finds a wrong result or the kernel throws.
template <class Check>
bool checked(benchmark::State& state, const std::shared_ptr<bool>& done, Check check) {
  if (*done) return true;
  std::string wrong;
  try {
    wrong = check();
  } catch (const std::exception& e) {
    wrong = std::string("threw: ") + e.what();
  }
  if (!wrong.empty()) {
    report_wrong(state, wrong);
    return false;
  }
  *done = true;
  return true;
}

void add(const std::string& name, const settings& run, benchmark::TimeUnit unit,
         std::function<void(benchmark::State&)> body) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [body, name](benchmark::State& s) {
    g_running = name;
    body(s);
  });
  b->Unit(unit);
  if (run.run_mode == mode::quick) b->MinTime(0.01);
}

void register_dot(const std::vector<variant>& variants, const settings& run) {
  for (std::size_t d : kDotSizes) {
    for (const variant& v : variants) {
      if (!v.dot) continue;
      auto done = std::make_shared<bool>(false);
      add("dot/d=" + std::to_string(d) + "/" + v.name, run, benchmark::kNanosecond,
          [=, dot = v.dot, ref = v.is_reference](benchmark::State& state) {
            const auto q = random_vector(d, 1), k = random_vector(d, 2);
            if (!checked(state, done, [&] { return check_dot(dot(q, k), q, k, ref); })) return;
            for (auto _ : state) {
              float result = dot(q, k);
              benchmark::DoNotOptimize(result);
            }
            set_counters(state, run, dot_work(d));
          });
    }
  }
}

void register_softmax(const std::string& kernel, softmax_fn variant::*which,
                      const std::vector<variant>& variants, const settings& run) {
  for (std::size_t n : kRowSizes) {
    for (const variant& v : variants) {
      if (!(v.*which)) continue;
      auto done = std::make_shared<bool>(false);
      add(kernel + "/n=" + std::to_string(n) + "/" + v.name, run, benchmark::kMicrosecond,
          [=, softmax = v.*which, ref = v.is_reference](benchmark::State& state) {
            const auto x = random_vector(n, 3, 3.0f);
            std::vector<float> row = x;
            if (!checked(state, done, [&] { softmax(row); return check_softmax(row, x, ref); })) return;
            // Weights are valid scores too: the kernel runs in place on its own output, so
            // no copy is timed with it.
            float* out = row.data();
            for (auto _ : state) {
              softmax(row);
              benchmark::DoNotOptimize(out);
              benchmark::ClobberMemory();
            }
            set_counters(state, run, softmax_work(n));
          });
    }
  }
}

std::string shape(std::size_t n, std::size_t d) { return "n=" + std::to_string(n) + "/d=" + std::to_string(d); }

bool left_out(const variant& v, std::size_t n, const settings& run) {
  return run.run_mode == mode::quick && v.is_scalar && n > kQuickScalarMaxN;
}

void register_scores(const std::vector<variant>& variants, const settings& run) {
  for (std::size_t n : kMatrixSizes) {
    for (std::size_t d : kHeadDims) {
      for (const variant& v : variants) {
        if (!v.scores || left_out(v, n, run)) continue;
        auto done = std::make_shared<bool>(false);
        add("scores/" + shape(n, d) + "/" + v.name, run, benchmark::kMillisecond,
            [=, scores = v.scores, ref = v.is_reference](benchmark::State& state) {
              const matrix_inputs& in = inputs_for(n, d);
              matrix S(n, n);
              if (!checked(state, done, [&] { scores(in.Q(), in.K(), S); return check_scores(S, in, ref); })) return;
              float* out = S.view().data;
              for (auto _ : state) {
                scores(in.Q(), in.K(), S);
                benchmark::DoNotOptimize(out);
                benchmark::ClobberMemory();
              }
              set_counters(state, run, scores_work(n, d));
            });
      }
    }
  }
}

void register_attention_weights(const std::vector<variant>& variants, const settings& run) {
  for (std::size_t n : kMatrixSizes) {
    for (std::size_t d : kHeadDims) {
      for (const bool causal : {false, true}) {
        for (const variant& v : variants) {
          if (!v.attention_weights || left_out(v, n, run)) continue;
          auto done = std::make_shared<bool>(false);
          add("attention_weights/" + shape(n, d) + (causal ? "/causal/" : "/noncausal/") + v.name, run,
              benchmark::kMillisecond,
              [=, weights = v.attention_weights, ref = v.is_reference](benchmark::State& state) {
                const matrix_inputs& in = inputs_for(n, d);
                matrix A(n, n);
                if (!checked(state, done, [&] {
                      weights(in.Q(), in.K(), A, causal);
                      return check_attention_weights(A, in, causal, ref);
                    })) {
                  return;
                }
                float* out = A.view().data;
                for (auto _ : state) {
                  weights(in.Q(), in.K(), A, causal);
                  benchmark::DoNotOptimize(out);
                  benchmark::ClobberMemory();
                }
                set_counters(state, run, weights_work(n, d, causal));
              });
        }
      }
    }
  }
}

/// Calls `probe`; on attn::not_implemented clears `kernel` and says so in `notes`.
template <class Fn, class Probe>
void drop_if_not_implemented(Fn& kernel, const char* kernel_name, Probe probe, const std::string& who,
                             std::vector<std::string>& notes) {
  try {
    probe();
  } catch (const attn::not_implemented& e) {
    kernel = nullptr;
    notes.push_back(who + " " + kernel_name + ": skipped (" + e.what() + ")");
  } catch (const std::exception&) {
    // A kernel that throws anything else is benchmarked, and its check reports the throw.
  }
}

/// The contract's functions as linked into this executable; a step a student has not done
/// yet throws attn::not_implemented, and its kernels are left out with a note.
variant contract_variant(std::vector<std::string>& notes) {
  variant v{ATTN_BENCH_FLAVOUR, false, true, attn::dot, attn::softmax, attn::stable_softmax, attn::scores,
            attn::attention_weights};
  const std::vector<float> one{1.0f};
  std::vector<float> row{0.0f, 1.0f};
  matrix out(1, 1);
  const const_matrix_view m{one.data(), 1, 1};
  drop_if_not_implemented(v.dot, "dot", [&] { attn::dot(one, one); }, v.name, notes);
  drop_if_not_implemented(v.softmax, "softmax", [&] { attn::softmax(row); }, v.name, notes);
  drop_if_not_implemented(v.stable_softmax, "stable_softmax", [&] { attn::stable_softmax(row); }, v.name, notes);
  drop_if_not_implemented(v.scores, "scores", [&] { attn::scores(m, m, out); }, v.name, notes);
  drop_if_not_implemented(v.attention_weights, "attention_weights",
                          [&] { attn::attention_weights(m, m, out, false); }, v.name, notes);
  return v;
}

}  // namespace

void set_counters(benchmark::State& state, const settings& run, const work& w) {
  using benchmark::Counter;
  state.counters["FLOP/s"] = Counter(w.flops, Counter::kIsIterationInvariantRate);
  state.counters["bytes/s"] = Counter(w.bytes, Counter::kIsIterationInvariantRate, Counter::kIs1024);
  state.counters["elements/s"] = Counter(w.elements, Counter::kIsIterationInvariantRate);
  // A rate like the others, so it is computed from the same time: printed as "45.2/s".
  if (run.peak_flops > 0) {
    state.counters["%peak"] = Counter(100.0 * w.flops / run.peak_flops, Counter::kIsIterationInvariantRate);
  }
}

void report_wrong(benchmark::State& state, const std::string& what) {
  const std::string message = g_running + ": WRONG RESULT: " + what;
  g_wrong.push_back(message);
  state.SkipWithError(message.c_str());
}

const std::vector<std::string>& wrong_results() { return g_wrong; }

std::vector<std::string> register_kernels(const settings& run) {
  std::vector<std::string> notes;
  std::vector<variant> variants;
#if ATTN_BENCH_WITH_REFERENCE
  variants.push_back({"reference", true, false, ref::dot, ref::softmax, ref::stable_softmax, ref::scores,
                      ref::attention_weights});
#endif
  variants.push_back(contract_variant(notes));
#if ATTN_BENCH_WITH_PEERS
  for (const peer& p : installed_peers()) {
    // A peer's softmax is its stable softmax (the reference's softmax is stable too).
    variants.push_back({p.name, false, false, p.dot, p.stable_softmax, p.stable_softmax, p.scores,
                        p.attention_weights});
  }
#endif
  register_dot(variants, run);
  register_softmax("softmax", &variant::softmax, variants, run);
  register_softmax("stable_softmax", &variant::stable_softmax, variants, run);
  register_scores(variants, run);
  register_attention_weights(variants, run);
  if (run.run_mode == mode::quick) {
    for (const variant& v : variants) {
      if (v.is_scalar && (v.scores || v.attention_weights)) notes.push_back(v.name + ": quick mode leaves out n > " + std::to_string(kQuickScalarMaxN));
    }
  }
  return notes;
}

void register_fma_peak(const settings& run) {
  const peak_kernel_info info = fma_peak_kernel();
  constexpr std::size_t kRounds = 4096;
  add("fma_peak/" + info.isa + "/xsimd", run, benchmark::kMicrosecond, [run](benchmark::State& state) {
    for (auto _ : state) {
      float result = fma_peak_rounds(kRounds, 0.999f, 0.001f);
      benchmark::DoNotOptimize(result);
    }
    const double flops = kRounds * fma_peak_flops_per_round();
    set_counters(state, run, {flops, 0.0, flops / 2.0});
  });
}

}  // namespace attn::bench
