// One Google Benchmark per kernel, size and variant. Variants: the reference (attn::ref),
// the contract as linked into this executable (the answer key in attn_bench, the student's
// exercises in attn_bench_exercises: ATTN_BENCH_FLAVOUR) and the installed peers. Each
// benchmark checks its result (checks.hpp) before it times anything.
//
// A new kernel (an extension step) takes: its pointer in `variant`, filled in
// register_kernels() and contract_variant(); a check in checks.cpp; a register_<kernel>()
// with its sizes and its work(). Steps 7-12 are here that way: attention_output, attention,
// streaming_attention (per block size), add_alibi_bias, softmax_backward, attention_backward
// and layer_norm with its backward pass, timed together (one training step's work on a block
// of queries or keys).
#include <attn/attn.hpp>

#include "checks.hpp"
#include "fma_peak.hpp"
#include "harness.hpp"
#include "peers.hpp"

#include <algorithm>
#include <exception>
#include <functional>
#include <memory>
#include <new>  // std::align_val_t
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace attn::bench {
namespace {

using dot_fn = float (*)(std::span<const float>, std::span<const float>);
using softmax_fn = void (*)(std::span<float>);
using rows_fn = void (*)(matrix_view);
using scores_fn = void (*)(const_matrix_view, const_matrix_view, matrix_view);
using weights_fn = void (*)(const_matrix_view, const_matrix_view, matrix_view, bool);
using output_fn = void (*)(const_matrix_view, const_matrix_view, matrix_view);
using attention_fn = void (*)(const_matrix_view, const_matrix_view, const_matrix_view, matrix_view, bool);
using streaming_fn = void (*)(const_matrix_view, const_matrix_view, const_matrix_view, matrix_view, bool,
                              std::size_t);
using alibi_fn = void (*)(matrix_view, float);
using backward_fn = void (*)(std::span<const float>, std::span<const float>, std::span<float>);
using attention_backward_fn = void (*)(const_matrix_view, const_matrix_view, const_matrix_view, const_matrix_view,
                                       bool, matrix_view, matrix_view, matrix_view);
using layer_norm_fn = void (*)(const_matrix_view, std::span<const float>, matrix_view);
using layer_norm_backward_fn = void (*)(const_matrix_view, std::span<const float>, const_matrix_view, matrix_view,
                                        std::span<float>);

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
  // Extension steps 7-10.
  output_fn attention_output = nullptr;
  attention_fn attention = nullptr;
  streaming_fn streaming_attention = nullptr;
  alibi_fn add_alibi_bias = nullptr;
  backward_fn softmax_backward = nullptr;
  rows_fn softmax_rows = nullptr;
  attention_backward_fn attention_backward = nullptr;  // step 11
  // Extension step 12: both or neither.
  layer_norm_fn layer_norm = nullptr;
  layer_norm_backward_fn layer_norm_backward = nullptr;
};

// The sizes: dot over typical head dimensions and beyond, softmax rows from a
// short context to a long one, matrices from small to where the n x n output leaves the caches.
const std::vector<std::size_t> kDotSizes{16, 64, 128, 1024, 4096};
const std::vector<std::size_t> kRowSizes{16, 64, 256, 1024, 4096, 16384, 65536};
const std::vector<std::size_t> kMatrixSizes{256, 1024, 4096};
// softmax_rows: rows of a long context, as many as fill 64 KiB (in L2, mostly in L1) or
// 16 MiB (beyond L2; in the last-level cache of a large server, in memory elsewhere).
const std::vector<std::size_t> kRowsRowSizes{1024, 4096};
const std::vector<std::size_t> kRowsBytes{64 * 1024, 16 * 1024 * 1024};
const std::vector<std::size_t> kHeadDims{64, 128};
constexpr std::size_t kQuickScalarMaxN = 1024;  // 4096 x 4096 x 128 scalar takes seconds
// Steps 7 and 9: whole attention heads, d = d_v = 64. n = 4096 runs in full mode only and
// not for the scalar variants (seconds per call); streaming_attention at block sizes from
// one key at a time to a block of 256.
const std::vector<std::size_t> kAttentionSizes{256, 1024, 4096};
constexpr std::size_t kAttentionHeadDim = 64;
const std::vector<std::size_t> kBlockSizes{1, 64, 256};
constexpr float kAlibiSlope = 0.125f;  // alibi_slopes(8)[2], exact in float
// Step 12: a block of 1024 query (or key) rows at the head dimensions.
constexpr std::size_t kLayerNormRows = 1024;

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

/// O = A V: n x n weights times n x d_v values.
work output_work(std::size_t n, std::size_t dv) {
  const double nn = double(n) * n;
  return {2.0 * dv * nn, 4.0 * (nn + 2.0 * n * dv), nn};
}
/// The scores, the softmax and A V over the unmasked pairs; at the least Q, K, V are read
/// and O written (the n x n weights need never reach memory).
work attention_work(std::size_t n, std::size_t d, bool causal) {
  const double nn = double(n) * n, pairs = causal ? n * (n + 1) / 2.0 : nn;
  return {(4.0 * d + kSoftmaxFlops) * pairs, 4.0 * 4.0 * n * d, nn};
}
/// S_ij += m (j - i): a product and a sum per element, read and written in place.
work alibi_work(std::size_t n) {
  const double nn = double(n) * n;
  return {2.0 * nn, 8.0 * nn, nn};
}
/// Step 11 at d_v = d: the weights (2 d per pair and the softmax), dA = dO V^T, dV = A^T dO,
/// dQ = dS K and dK = dS^T Q (2 d per pair each) and dS (4 per pair), over the unmasked
/// pairs; at the least Q, K, V and dO are read and dQ, dK, dV written.
work attention_backward_work(std::size_t n, std::size_t d, bool causal) {
  const double nn = double(n) * n, pairs = causal ? n * (n + 1) / 2.0 : nn;
  return {(10.0 * d + kSoftmaxFlops + 4.0) * pairs, 4.0 * 7.0 * n * d, nn};
}
/// <g, a> (2n), then a_j (g_j - c) (2n); reads a and g, writes grad_s.
work backward_work(std::size_t n) { return {4.0 * n, 12.0 * n, double(n)}; }
/// layer_norm (mean, variance, scale: about 7 per element) and its backward pass (xhat again,
/// g, two means, dx, dgain: about 16); reads X, gain and dY, writes Y, dX and dgain.
work layer_norm_work(std::size_t n, std::size_t d) {
  const double nd = double(n) * d;
  return {23.0 * nd, 4.0 * (5.0 * nd + 2.0 * d), nd};
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
            floats row = x;
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

void register_softmax_rows(const std::vector<variant>& variants, const settings& run) {
  for (std::size_t n : kRowsRowSizes) {
    for (std::size_t bytes : kRowsBytes) {
      const std::size_t rows = bytes / (n * sizeof(float));
      for (const variant& v : variants) {
        if (!v.softmax_rows) continue;
        auto done = std::make_shared<bool>(false);
        add("softmax_rows/n=" + std::to_string(n) + "/rows=" + std::to_string(rows) + "/" + v.name, run,
            benchmark::kMicrosecond, [=, softmax_rows = v.softmax_rows, ref = v.is_reference](benchmark::State& state) {
              const floats x = random_vector(rows * n, 3, 3.0f);
              floats s = x;
              const matrix_view S{s.data(), rows, n};
              if (!checked(state, done, [&] {
                    softmax_rows(S);
                    return check_softmax_rows(S, const_matrix_view{x.data(), rows, n}, ref);
                  })) {
                return;
              }
              float* out = s.data();  // in place on its own output, as softmax
              for (auto _ : state) {
                softmax_rows(S);
                benchmark::DoNotOptimize(out);
                benchmark::ClobberMemory();
              }
              set_counters(state, run, softmax_work(rows * n));
            });
      }
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

/// Steps 7 and 9 at n = 4096: full mode only, and not for the scalar variants.
bool attention_left_out(const variant& v, std::size_t n, const settings& run) {
  return n > kQuickScalarMaxN && (run.run_mode == mode::quick || v.is_scalar);
}

std::string causal_name(bool causal) { return causal ? "/causal/" : "/noncausal/"; }

void register_attention_output(const std::vector<variant>& variants, const settings& run) {
  const std::size_t d = kAttentionHeadDim;
  for (std::size_t n : kAttentionSizes) {
    for (const variant& v : variants) {
      if (!v.attention_output || attention_left_out(v, n, run)) continue;
      auto done = std::make_shared<bool>(false);
      add("attention_output/" + shape(n, d) + "/" + v.name, run, benchmark::kMillisecond,
          [=, output = v.attention_output, ref = v.is_reference](benchmark::State& state) {
            const matrix_inputs& in = inputs_for(n, d);
            const matrix& A = reference_weights_of(in);
            matrix O(n, d);
            if (!checked(state, done, [&] { output(A, in.V(), O); return check_attention_output(O, in, ref); })) return;
            float* out = O.view().data;
            for (auto _ : state) {
              output(A, in.V(), O);
              benchmark::DoNotOptimize(out);
              benchmark::ClobberMemory();
            }
            set_counters(state, run, output_work(n, d));
          });
    }
  }
}

void register_attention(const std::vector<variant>& variants, const settings& run) {
  const std::size_t d = kAttentionHeadDim;
  for (std::size_t n : kAttentionSizes) {
    for (const bool causal : {false, true}) {
      for (const variant& v : variants) {
        if (!v.attention || attention_left_out(v, n, run)) continue;
        auto done = std::make_shared<bool>(false);
        add("attention/" + shape(n, d) + causal_name(causal) + v.name, run, benchmark::kMillisecond,
            [=, attention = v.attention, ref = v.is_reference](benchmark::State& state) {
              const matrix_inputs& in = inputs_for(n, d);
              matrix O(n, d);
              if (!checked(state, done, [&] {
                    attention(in.Q(), in.K(), in.V(), O, causal);
                    return check_attention(O, in, causal, false, ref);
                  })) {
                return;
              }
              float* out = O.view().data;
              for (auto _ : state) {
                attention(in.Q(), in.K(), in.V(), O, causal);
                benchmark::DoNotOptimize(out);
                benchmark::ClobberMemory();
              }
              set_counters(state, run, attention_work(n, d, causal));
            });
      }
    }
  }
}

void register_streaming_attention(const std::vector<variant>& variants, const settings& run) {
  const std::size_t d = kAttentionHeadDim;
  for (std::size_t n : kAttentionSizes) {
    for (const bool causal : {false, true}) {
      for (std::size_t block : kBlockSizes) {
        for (const variant& v : variants) {
          if (!v.streaming_attention || attention_left_out(v, n, run)) continue;
          auto done = std::make_shared<bool>(false);
          add("streaming_attention/" + shape(n, d) + "/block=" + std::to_string(block) + causal_name(causal) + v.name,
              run, benchmark::kMillisecond,
              [=, streaming = v.streaming_attention, ref = v.is_reference](benchmark::State& state) {
                const matrix_inputs& in = inputs_for(n, d);
                matrix O(n, d);
                if (!checked(state, done, [&] {
                      streaming(in.Q(), in.K(), in.V(), O, causal, block);
                      return check_attention(O, in, causal, true, ref);
                    })) {
                  return;
                }
                float* out = O.view().data;
                for (auto _ : state) {
                  streaming(in.Q(), in.K(), in.V(), O, causal, block);
                  benchmark::DoNotOptimize(out);
                  benchmark::ClobberMemory();
                }
                set_counters(state, run, attention_work(n, d, causal));
              });
        }
      }
    }
  }
}

void register_alibi_bias(const std::vector<variant>& variants, const settings& run) {
  for (std::size_t n : kMatrixSizes) {
    for (const variant& v : variants) {
      if (!v.add_alibi_bias) continue;  // one pass over S: quick even in scalar at n = 4096
      auto done = std::make_shared<bool>(false);
      add("add_alibi_bias/n=" + std::to_string(n) + "/" + v.name, run, benchmark::kMicrosecond,
          [=, bias = v.add_alibi_bias, ref = v.is_reference](benchmark::State& state) {
            const floats s0 = random_vector(n * n, 8, 3.0f);
            floats s = s0;
            const matrix_view S{s.data(), n, n};
            if (!checked(state, done, [&] {
                  bias(S, kAlibiSlope);
                  return check_alibi_bias(S, const_matrix_view{s0.data(), n, n}, kAlibiSlope, ref);
                })) {
              return;
            }
            // Biased scores are scores too: the kernel runs in place on its own output, as
            // softmax does, so no copy is timed with it.
            float* out = s.data();
            for (auto _ : state) {
              bias(S, kAlibiSlope);
              benchmark::DoNotOptimize(out);
              benchmark::ClobberMemory();
            }
            set_counters(state, run, alibi_work(n));
          });
    }
  }
}

void register_softmax_backward(const std::vector<variant>& variants, const settings& run) {
  for (std::size_t n : kRowSizes) {
    for (const variant& v : variants) {
      if (!v.softmax_backward) continue;
      auto done = std::make_shared<bool>(false);
      add("softmax_backward/n=" + std::to_string(n) + "/" + v.name, run, benchmark::kMicrosecond,
          [=, backward = v.softmax_backward, ref = v.is_reference](benchmark::State& state) {
            floats a = random_vector(n, 3, 3.0f);
            ref::stable_softmax(a);  // weights: the softmax of a row of scores
            const floats g = random_vector(n, 7, 2.0f);
            floats grad(n);
            if (!checked(state, done, [&] { backward(a, g, grad); return check_softmax_backward(grad, a, g, ref); })) return;
            float* out = grad.data();
            for (auto _ : state) {
              backward(a, g, grad);
              benchmark::DoNotOptimize(out);
              benchmark::ClobberMemory();
            }
            set_counters(state, run, backward_work(n));
          });
    }
  }
}

// Step 11: the sizes of a small training run (n = 16 to 128, d = 16 to 64) and a long context.
const std::vector<std::pair<std::size_t, std::size_t>> kBackwardShapes{{16, 16}, {64, 32}, {128, 64}, {1024, 64}};

void register_attention_backward(const std::vector<variant>& variants, const settings& run) {
  for (const auto& shape_nd : kBackwardShapes) {
    const std::size_t n = shape_nd.first, d = shape_nd.second;  // named: the benchmark's lambda captures them
    for (const bool causal : {false, true}) {
      for (const variant& v : variants) {
        if (!v.attention_backward) continue;
        auto done = std::make_shared<bool>(false);
        add("attention_backward/" + shape(n, d) + causal_name(causal) + v.name, run, benchmark::kMicrosecond,
            [=, backward = v.attention_backward, ref = v.is_reference](benchmark::State& state) {
              const matrix_inputs& in = inputs_for(n, d);
              const floats grad_o = random_vector(n * d, 9);
              const const_matrix_view dO{grad_o.data(), n, d};
              matrix dQ(n, d), dK(n, d), dV(n, d);
              if (!checked(state, done, [&] {
                    backward(in.Q(), in.K(), in.V(), dO, causal, dQ, dK, dV);
                    return check_attention_backward(dQ, dK, dV, in.Q(), in.K(), in.V(), dO, causal, ref);
                  })) {
                return;
              }
              float* out = dQ.view().data;
              for (auto _ : state) {
                backward(in.Q(), in.K(), in.V(), dO, causal, dQ, dK, dV);
                benchmark::DoNotOptimize(out);
                benchmark::ClobberMemory();
              }
              set_counters(state, run, attention_backward_work(n, d, causal));
            });
      }
    }
  }
}

void register_layer_norm(const std::vector<variant>& variants, const settings& run) {
  for (std::size_t d : kHeadDims) {
    for (const variant& v : variants) {
      if (!v.layer_norm || !v.layer_norm_backward) continue;
      auto done = std::make_shared<bool>(false);
      add("layer_norm/n=" + std::to_string(kLayerNormRows) + "/d=" + std::to_string(d) + "/" + v.name, run,
          benchmark::kMicrosecond,
          [=, forward = v.layer_norm, backward = v.layer_norm_backward, ref = v.is_reference](benchmark::State& state) {
            const std::size_t n = kLayerNormRows;
            const floats x = random_vector(n * d, 11, 3.0f), gain = random_vector(d, 12),
                         dy = random_vector(n * d, 13);
            const const_matrix_view X{x.data(), n, d}, dY{dy.data(), n, d};
            matrix Y(n, d), dX(n, d);
            floats dgain(d);
            if (!checked(state, done, [&] {
                  forward(X, gain, Y);
                  backward(X, gain, dY, dX, dgain);
                  return check_layer_norm(Y, dX, dgain, X, gain, dY, ref);
                })) {
              return;
            }
            float* out = dX.view().data;
            for (auto _ : state) {
              forward(X, gain, Y);
              backward(X, gain, dY, dX, dgain);
              benchmark::DoNotOptimize(out);
              benchmark::ClobberMemory();
            }
            set_counters(state, run, layer_norm_work(n, d));
          });
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
            attn::attention_weights, attn::attention_output, attn::attention, attn::streaming_attention,
            attn::add_alibi_bias, attn::softmax_backward};
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
  std::vector<float> grad(1);
  drop_if_not_implemented(v.attention_output, "attention_output", [&] { attn::attention_output(m, m, out); }, v.name,
                          notes);
  drop_if_not_implemented(v.attention, "attention", [&] { attn::attention(m, m, m, out, false); }, v.name, notes);
  drop_if_not_implemented(v.streaming_attention, "streaming_attention",
                          [&] { attn::streaming_attention(m, m, m, out, false, 1); }, v.name, notes);
  drop_if_not_implemented(v.add_alibi_bias, "add_alibi_bias", [&] { attn::add_alibi_bias(out, 0.5f); }, v.name, notes);
  drop_if_not_implemented(v.softmax_backward, "softmax_backward", [&] { attn::softmax_backward(one, one, grad); },
                          v.name, notes);
  v.attention_backward = attn::attention_backward;
  drop_if_not_implemented(v.attention_backward, "attention_backward",
                          [&] { matrix g(1, 1); attn::attention_backward(m, m, m, m, false, g, g, g); }, v.name, notes);
  v.softmax_rows = attn::softmax_rows;
  drop_if_not_implemented(v.softmax_rows, "softmax_rows", [&] { attn::softmax_rows(out); }, v.name, notes);
  v.layer_norm = attn::layer_norm;
  v.layer_norm_backward = attn::layer_norm_backward;
  drop_if_not_implemented(v.layer_norm, "layer_norm", [&] { attn::layer_norm(m, one, out); }, v.name, notes);
  drop_if_not_implemented(v.layer_norm_backward, "layer_norm_backward",
                          [&] { attn::layer_norm_backward(m, one, m, out, grad); }, v.name, notes);
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
                      ref::attention_weights, ref::attention_output, ref::attention, ref::streaming_attention,
                      ref::add_alibi_bias, ref::softmax_backward, ref::softmax_rows, ref::attention_backward,
                      ref::layer_norm, ref::layer_norm_backward});
#endif
  variants.push_back(contract_variant(notes));
#if ATTN_BENCH_WITH_PEERS
  for (const peer& p : installed_peers()) {
    // What the peer runs on this machine, in the run's context (report.py prints it, and
    // marks the ratios of a peer on a generic fallback as not comparable).
    benchmark::AddCustomContext(std::string("attn_peer_kernel_") + p.name, p.kernel);
    if (!p.not_comparable.empty()) {
      benchmark::AddCustomContext(std::string("attn_peer_not_comparable_") + p.name, p.not_comparable);
    }
    // A peer's softmax is its stable softmax (the reference's softmax is stable too).
    // Their attention is the weights and one more GEMM; nothing natural streams, biases or
    // back-propagates, so those kernels have no peer.
    variant v{p.name, false, false, p.dot, p.stable_softmax, p.stable_softmax, p.scores,
              p.attention_weights, p.attention_output, p.attention};
    v.softmax_rows = p.softmax_rows;
    variants.push_back(v);
  }
#endif
#if ATTN_BENCH_WITH_REFERENCE
  // The reference on every hardware thread, attention_weights only:
  // counted apart from the single-thread reference and the peers.
  variant threaded{"reference-threads", false, false};
  // The count is looked up once: set_threads(0) asks std::thread::hardware_concurrency(),
  // which reads /sys on Linux, about 10 microseconds, a tenth of a whole n = 256 call.
  threaded.attention_weights = [](const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    static const std::size_t every = std::max(1u, std::thread::hardware_concurrency());
    ref::set_threads(every);
    ref::attention_weights(Q, K, A, causal);
    ref::set_threads(1);
  };
  variants.push_back(threaded);
  notes.push_back("reference-threads: attention_weights on " + std::to_string(std::max(1u, std::thread::hardware_concurrency())) +
                  " threads (the reference and the peers use one)");
#endif
  register_dot(variants, run);
  register_softmax("softmax", &variant::softmax, variants, run);
  register_softmax("stable_softmax", &variant::stable_softmax, variants, run);
  register_softmax_rows(variants, run);
  register_scores(variants, run);
  register_attention_weights(variants, run);
  register_attention_output(variants, run);
  register_attention(variants, run);
  register_streaming_attention(variants, run);
  register_alibi_bias(variants, run);
  register_softmax_backward(variants, run);
  register_attention_backward(variants, run);
  register_layer_norm(variants, run);
  if (run.run_mode == mode::quick) {
    for (const variant& v : variants) {
      if (v.is_scalar && (v.scores || v.attention_weights)) notes.push_back(v.name + ": quick mode leaves out n > " + std::to_string(kQuickScalarMaxN));
    }
#if ATTN_BENCH_WITH_REFERENCE
    notes.push_back("attention, attention_output, streaming_attention: quick mode leaves out n > " +
                    std::to_string(kQuickScalarMaxN));
#endif
  } else {
    for (const variant& v : variants) {
      if (v.is_scalar && (v.attention_output || v.attention || v.streaming_attention)) {
        notes.push_back(v.name + " attention, attention_output, streaming_attention: n > " +
                        std::to_string(kQuickScalarMaxN) + " left out");
      }
    }
  }
  return notes;
}

void register_load_peak(const settings& run) {
  constexpr std::size_t kFloats = 4096, kPasses = 64;  // 16 KiB: in L1 on every x86 core
  add("load_peak/" + fma_peak_kernel().isa + "/xsimd", run, benchmark::kNanosecond, [run](benchmark::State& state) {
    auto* x = static_cast<float*>(::operator new(kFloats * sizeof(float), std::align_val_t{64}));
    for (std::size_t i = 0; i < kFloats; ++i) x[i] = 1.0f / static_cast<float>(i + 1);
    for (auto _ : state) {
      float result = load_peak_pass(x, kFloats, kPasses);
      benchmark::DoNotOptimize(result);
    }
    ::operator delete(x, std::align_val_t{64});
    // elements/s: floats loaded per second, the FLOP/s a load-bound dot product can reach.
    const double floats = double(kFloats) * kPasses;
    set_counters(state, run, {floats, 4.0 * floats, floats});
  });
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
