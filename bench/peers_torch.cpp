// PyTorch (its C++ tensor library, ATen) as a benchmark peer, on one thread: the kernels
// written as a PyTorch user writes them, on tensors that wrap the benchmark's buffers
// (at::from_blob, no copies), each result written into the benchmark's output:
//   softmax          at::softmax_out(x, x, -1), in place
//   scores           S = Q K^T, then S /= sqrt(d)
//   attention_weights the scores, masked_fill(mask, -inf) with the causal mask (built once
//                    per shape and kept, as a module keeps it as a buffer), then softmax
//   attention        the weights into a kept n_q x n_k scratch tensor, then O = A V
// PyTorch's matmul calls the process's BLAS (sgemm_); peer::kernel says which library and,
// for OpenBLAS, which of its kernels.
#include "peers.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <dlfcn.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <string>
#include <utility>

namespace attn::bench {
namespace {

const at::TensorOptions f32 = at::TensorOptions().dtype(at::kFloat);

/// A tensor over a matrix view's storage (rows x cols, row-major, contiguous); the
/// benchmark's inputs are const, and PyTorch's functions only read them.
at::Tensor wrap(const_matrix_view M) {
  return at::from_blob(const_cast<float*>(M.data), {static_cast<int64_t>(M.rows), static_cast<int64_t>(M.cols)}, f32);
}

/// The causal mask of an n_q x n_k score matrix (true above the diagonal: the keys query i
/// must not see), made once per shape.
const at::Tensor& causal_mask(std::size_t n_q, std::size_t n_k) {
  static std::map<std::pair<std::size_t, std::size_t>, at::Tensor> masks;
  auto it = masks.find({n_q, n_k});
  if (it == masks.end()) {
    at::Tensor mask = at::ones({static_cast<int64_t>(n_q), static_cast<int64_t>(n_k)}, at::kBool).triu(1);
    it = masks.emplace(std::make_pair(n_q, n_k), mask).first;
  }
  return it->second;
}

void torch_stable_softmax(std::span<float> row) {
  if (row.empty()) return;
  at::Tensor x = at::from_blob(row.data(), {static_cast<int64_t>(row.size())}, f32);
  at::softmax_out(x, x, -1);
}

void torch_softmax_rows(matrix_view S) {
  if (S.rows == 0 || S.cols == 0) return;
  at::Tensor x = wrap(S);
  at::softmax_out(x, x, -1);
}

void torch_scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  at::Tensor s = wrap(S);
  at::matmul_out(s, wrap(Q), wrap(K).t());
  s.div_(std::sqrt(static_cast<double>(Q.cols)));
}

void torch_attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  torch_scores(Q, K, A);
  at::Tensor a = wrap(A);
  if (causal) a.masked_fill_(causal_mask(A.rows, A.cols), -std::numeric_limits<float>::infinity());
  at::softmax_out(a, a, -1);
}

void torch_attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  at::Tensor o = wrap(O);
  at::matmul_out(o, wrap(A), wrap(V));
}

void torch_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
  static at::Tensor scratch = at::empty({0}, f32);
  const auto need = static_cast<int64_t>(Q.rows * K.rows);
  if (scratch.numel() < need) scratch = at::empty({need}, f32);
  const matrix_view A{scratch.data_ptr<float>(), Q.rows, K.rows};
  torch_attention_weights(Q, K, A, causal);
  torch_attention_output(A, V, O);
}

/// The line of at::show_config() that starts with `key`, without it ("" if none).
std::string config_line(const std::string& key) {
  const std::string config = at::show_config();
  const std::size_t at = config.find(key);
  if (at == std::string::npos) return "";
  const std::size_t start = at + key.size();
  return config.substr(start, config.find('\n', start) - start);
}

/// The library that PyTorch's sgemm_ resolves to in this process, by file name.
std::string blas_library() {
  Dl_info info{};
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  if (sgemm == nullptr || dladdr(sgemm, &info) == 0 || info.dli_fname == nullptr) return "unknown BLAS";
  const std::string path = info.dli_fname;
  return path.substr(path.find_last_of('/') + 1);
}

/// OpenBLAS's core name when the process's BLAS is OpenBLAS, else "".
std::string openblas_core() {
  using corename_fn = char* (*)();
  auto* corename = reinterpret_cast<corename_fn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return corename != nullptr ? corename() : "";
}

}  // namespace

peer torch_peer() {
  at::set_num_threads(1);  // the reference runs on one thread; OpenBLAS's own threads are set to 1 too
  peer p{"pytorch", nullptr, torch_stable_softmax, torch_softmax_rows, torch_scores, torch_attention_weights,
         torch_attention_output, torch_attention};
  std::string capability = config_line("CPU capability usage: ");
  p.kernel = "PyTorch " + std::string(ATTN_BENCH_TORCH_VERSION) + ", CPU capability " + (capability.empty() ? "?" : capability) +
             ", BLAS " + blas_library() + ", " + std::to_string(at::get_num_threads()) + " thread";
  // Its matrix products are OpenBLAS's where the process's BLAS is OpenBLAS: at its best
  // only when OpenBLAS is.
  if (const std::string core = openblas_core(); !core.empty()) {
    p.kernel += ", OpenBLAS core " + core;
    p.not_comparable = openblas_shortfall(core);
  }
  return p;
}

}  // namespace attn::bench
