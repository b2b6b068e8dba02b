// Peers the reference is compared with, when installed: OpenBLAS, Eigen and oneDNN, each
// doing the kernels the way a user of that library would (attention: the weights, then one
// more GEMM; oneDNN: its softmax primitive, created once per shape). They are benchmark
// subjects, not implementations of the contract: they skip its shape checks and special
// rows (NaN, +inf), which the benchmarks' random inputs never hold.
#pragma once

#include <span>
#include <vector>

#include <attn/matrix.hpp>

namespace attn::bench {

/// One peer: a name and its kernels (null where the library has nothing to offer).
struct peer {
  const char* name;
  float (*dot)(std::span<const float> q, std::span<const float> k);
  void (*stable_softmax)(std::span<float> row);
  void (*softmax_rows)(matrix_view S);
  void (*scores)(const_matrix_view Q, const_matrix_view K, matrix_view S);
  void (*attention_weights)(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal);
  void (*attention_output)(const_matrix_view A, const_matrix_view V, matrix_view O);
  void (*attention)(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal);
};

/// The peers this build found (ATTN_BENCH_HAVE_OPENBLAS, ATTN_BENCH_HAVE_EIGEN,
/// ATTN_BENCH_HAVE_DNNL), set up to run on one thread like the reference.
std::vector<peer> installed_peers();

}  // namespace attn::bench
