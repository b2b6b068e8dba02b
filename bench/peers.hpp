// Peers the reference is compared with, when installed: OpenBLAS, Eigen, oneDNN and PyTorch,
// each doing the kernels the way a user of that library would (attention: the weights, then
// one more GEMM; oneDNN: its softmax primitive, created once per shape; PyTorch: matmul,
// masked_fill and softmax on tensors, as a PyTorch user writes it). They are benchmark
// subjects, not implementations of the contract: they skip its shape checks and special
// rows (NaN, +inf), which the benchmarks' random inputs never hold.
#pragma once

#include <span>
#include <string>
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
  /// The kernel the library chose on this machine, as it reports it (OpenBLAS's core name,
  /// oneDNN's effective ISA, PyTorch's CPU capability and BLAS): recorded with every run.
  std::string kernel = {};
  /// Empty, or why this peer's ratios are not comparable: it runs a generic fallback on a
  /// CPU that has better (the report marks its column so).
  std::string not_comparable = {};
};

/// The peers this build found (ATTN_BENCH_HAVE_OPENBLAS, ATTN_BENCH_HAVE_EIGEN,
/// ATTN_BENCH_HAVE_DNNL, ATTN_BENCH_HAVE_TORCH), set up to run on one thread like the reference.
std::vector<peer> installed_peers();

/// OpenBLAS at its best: where it chose a kernel narrower than this CPU supports (0.3.21
/// does not know some newer CPUs and falls back to its generic Prescott kernel) and
/// OPENBLAS_CORETYPE is not set, sets OPENBLAS_CORETYPE to the best core for this CPU and
/// runs this program again with it (OpenBLAS reads it only when it loads), for this run
/// alone. Returns only when nothing is to be pinned, or when exec fails.
void pin_openblas_kernel(char** argv);

/// Empty when OpenBLAS's kernel `core` (openblas_get_corename()) is the widest this CPU
/// allows; otherwise why ratios against it are not comparable.
std::string openblas_shortfall(const std::string& core);

#if defined(ATTN_BENCH_HAVE_TORCH)
/// PyTorch (ATen) on one thread (peers_torch.cpp).
peer torch_peer();
#endif

}  // namespace attn::bench
