// The reference (attn::ref, xsimd) against the answer key (attn, plain scalar C++).
// Counters use Google Benchmark's own rates: FLOP/s and bytes/s per kernel.
#include <attn/attn.hpp>

#include <benchmark/benchmark.h>

#include "support/tolerances.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

std::vector<float> random_vector(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(gen);
  return v;
}

namespace tol = attn::test::tol;

// A benchmark that times a wrong kernel measures nothing: stop the run instead. The bounds
// are the tests' (tests/support/tolerances.hpp).
void require_close(double a, double b, double tol, const char* what) {
  if (!(std::fabs(a - b) <= tol)) {
    std::fprintf(stderr, "attn_bench: %s: reference %.9g vs solution %.9g differ by more than %g\n",
                 what, a, b, tol);
    std::exit(1);
  }
}

using dot_fn = float (*)(std::span<const float>, std::span<const float>);

template <dot_fn Dot>
void BM_dot(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  const auto q = random_vector(d, 1), k = random_vector(d, 2);
  double sum_abs = 0;
  for (std::size_t i = 0; i < d; ++i) sum_abs += std::fabs(q[i] * k[i]);
  require_close(Dot(q, k), attn::ref::dot(q, k), tol::dot(d, sum_abs), "dot");
  for (auto _ : state) benchmark::DoNotOptimize(Dot(q, k));
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * d, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes/s"] = benchmark::Counter(8.0 * d, benchmark::Counter::kIsIterationInvariantRate);
}

using softmax_fn = void (*)(std::span<float>);

template <softmax_fn Softmax>
void BM_stable_softmax(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = random_vector(n, 3);
  std::vector<float> row = x, expected = x;
  Softmax(row);
  attn::ref::stable_softmax(expected);
  const auto bound = tol::softmax_row(x, expected);
  for (std::size_t j = 0; j < n; ++j) require_close(row[j], expected[j], bound[j], "stable_softmax");
  for (auto _ : state) {
    row = x;
    Softmax(row);
    benchmark::DoNotOptimize(row.data());
  }
  state.counters["elements/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes/s"] = benchmark::Counter(8.0 * n, benchmark::Counter::kIsIterationInvariantRate);
}

using weights_fn = void (*)(attn::const_matrix_view, attn::const_matrix_view, attn::matrix_view, bool);

template <weights_fn Weights>
void BM_attention_weights(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto d = static_cast<std::size_t>(state.range(1));
  const bool causal = state.range(2) != 0;
  const auto q = random_vector(n * d, 4), k = random_vector(n * d, 5);
  const attn::const_matrix_view Q{q.data(), n, d}, K{k.data(), n, d};
  attn::matrix A(n, n), expected(n, n);
  Weights(Q, K, A, causal);
  attn::ref::attention_weights(Q, K, expected, causal);
  attn::matrix beta(n, n);
  attn::ref::scores(Q, K, beta);
  if (causal) attn::ref::apply_causal_mask(beta);
  for (std::size_t i = 0; i < n; ++i) {
    double worst = 0;  // the largest score error bound of row i
    for (std::size_t j = 0; j < n; ++j) {
      double sum_abs = 0;
      for (std::size_t c = 0; c < d; ++c) sum_abs += std::fabs(Q(i, c) * K(j, c));
      worst = std::max(worst, tol::scaled_score(d, sum_abs));
    }
    const auto bound = tol::attention_row(beta.row(i), expected.row(i), worst);
    for (std::size_t j = 0; j < n; ++j) require_close(A(i, j), expected(i, j), bound[j], "attention_weights");
  }
  for (auto _ : state) {
    Weights(Q, K, A, causal);
    benchmark::DoNotOptimize(A.view().data);
  }
  const double pairs = causal ? n * (n + 1) / 2.0 : double(n) * n;
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * d * pairs, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_dot<attn::ref::dot>)->Name("dot/reference")->Arg(16)->Arg(64)->Arg(128)->Arg(1024)->Arg(4096);
BENCHMARK(BM_dot<attn::dot>)->Name("dot/solution")->Arg(16)->Arg(64)->Arg(128)->Arg(1024)->Arg(4096);
BENCHMARK(BM_stable_softmax<attn::ref::stable_softmax>)->Name("stable_softmax/reference")->RangeMultiplier(8)->Range(16, 65536);
BENCHMARK(BM_stable_softmax<attn::stable_softmax>)->Name("stable_softmax/solution")->RangeMultiplier(8)->Range(16, 65536);
BENCHMARK(BM_attention_weights<attn::ref::attention_weights>)->Name("attention_weights/reference")
    ->ArgsProduct({{256, 1024}, {64}, {0, 1}});
BENCHMARK(BM_attention_weights<attn::attention_weights>)->Name("attention_weights/solution")
    ->ArgsProduct({{256, 1024}, {64}, {0, 1}});

BENCHMARK_MAIN();
