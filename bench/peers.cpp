// OpenBLAS: cblas_sdot; cblas_sgemm for Q K^T / sqrt(d), then the mask and a stable
// softmax written plainly; cblas_sgemm for A V. Eigen: the same with Eigen matrices and
// array expressions. Attention is the weights into an n_q x n_k scratch matrix, then A V.
// oneDNN: its softmax primitive (the accurate one: max, exp, sum, divide) over rows.
// PyTorch: peers_torch.cpp. Each peer records the kernel it chose (peer::kernel).
// Compiled with ATTN_BENCH_ARCH_FLAGS, like the FMA peak kernel.
#include "peers.hpp"
#include "checks.hpp"  // floats: 64-byte aligned storage

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#if defined(ATTN_BENCH_HAVE_OPENBLAS)
#include <cblas.h>
#include <unistd.h>  // execv
extern "C" void openblas_set_num_threads(int num_threads);  // OpenBLAS's own extensions
extern "C" char* openblas_get_corename(void);
#endif
#if defined(ATTN_BENCH_HAVE_EIGEN)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's own _mm512_undefined_ps (`__m512 __Y = __Y;`), reached through Eigen's AVX-512 max
// and friends, trips -W(maybe-)uninitialized in whatever it is inlined into (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#endif

#if defined(ATTN_BENCH_HAVE_DNNL)
#include <oneapi/dnnl/dnnl.hpp>
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>  // oneDNN's threads are OpenMP's (Debian builds it so)
#elif DNNL_CPU_RUNTIME != DNNL_RUNTIME_SEQ
#undef ATTN_BENCH_HAVE_DNNL  // a runtime (TBB, threadpool) this suite cannot hold to one thread
#endif
#endif

namespace attn::bench {
namespace {

/// The widest vector extension this CPU has, on the scale of openblas_core_level (3 AVX-512,
/// 2 AVX2 with FMA, 1 AVX, 0 none of them), and the OpenBLAS core that uses it best.
[[maybe_unused]] std::pair<int, const char*> cpu_level() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq")) {
    return {3, "SkylakeX"};
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {2, "Haswell"};
  if (__builtin_cpu_supports("avx")) return {1, "Sandybridge"};
#endif
  return {0, nullptr};
}

/// The widest vector extension an OpenBLAS core's kernels use, on cpu_level's scale: 3
/// AVX-512, 2 AVX2, 1 AVX, 0 SSE (Prescott, Core2, Nehalem, ... and every name not listed).
int openblas_core_level(const std::string& core) {
  for (const char* c : {"SkylakeX", "Cooperlake", "SapphireRapids"}) {
    if (core == c) return 3;
  }
  for (const char* c : {"Haswell", "Zen"}) {
    if (core == c) return 2;
  }
  return core == "Sandybridge" ? 1 : 0;
}

#if defined(ATTN_BENCH_HAVE_OPENBLAS) || defined(ATTN_BENCH_HAVE_EIGEN)

/// 1 / sqrt(d), as a BLAS alpha.
float inverse_sqrt(std::size_t d) { return 1.0f / std::sqrt(static_cast<float>(d)); }

/// Row i of a causal score matrix has keys 0..i only: the length of its unmasked prefix.
/// Masked entries get weight exactly 0, so the softmax runs over that prefix only.
std::size_t visible(std::size_t i, std::size_t n_k, bool causal) { return causal ? std::min(i + 1, n_k) : n_k; }

/// The n_q x n_k weights of attention(), kept between calls (grown to the largest size
/// asked for, as a user of the library would keep such a buffer).
matrix_view scratch_weights(std::size_t n_q, std::size_t n_k) {
  static floats A;
  if (A.size() < n_q * n_k) A.resize(n_q * n_k);
  return {A.data(), n_q, n_k};
}

#endif

#if defined(ATTN_BENCH_HAVE_OPENBLAS)

float blas_dot(std::span<const float> q, std::span<const float> k) {
  return cblas_sdot(static_cast<int>(q.size()), q.data(), 1, k.data(), 1);
}

void blas_scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(Q.rows), static_cast<int>(K.rows),
              static_cast<int>(Q.cols), inverse_sqrt(Q.cols), Q.data, static_cast<int>(Q.cols), K.data,
              static_cast<int>(K.cols), 0.0f, S.data, static_cast<int>(S.cols));
}

/// The stable softmax, plainly: subtract the max, exponentiate, divide by the sum.
void plain_stable_softmax(std::span<float> row) {
  if (row.empty()) return;
  const float m = *std::max_element(row.begin(), row.end());
  float sum = 0.0f;
  for (float& x : row) sum += (x = std::exp(x - m));
  for (float& x : row) x /= sum;
}

void blas_attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  blas_scores(Q, K, A);
  for (std::size_t i = 0; i < A.rows; ++i) {
    const std::size_t keep = visible(i, A.cols, causal);
    std::fill(A.row(i).begin() + static_cast<std::ptrdiff_t>(keep), A.row(i).end(), 0.0f);  // exp(-inf)
    plain_stable_softmax(A.row(i).first(keep));
  }
}

void blas_attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(A.rows), static_cast<int>(V.cols),
              static_cast<int>(A.cols), 1.0f, A.data, static_cast<int>(A.cols), V.data, static_cast<int>(V.cols), 0.0f,
              O.data, static_cast<int>(O.cols));
}

void blas_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
  const matrix_view A = scratch_weights(Q.rows, K.rows);
  blas_attention_weights(Q, K, A, causal);
  blas_attention_output(A, V, O);
}

/// OpenBLAS's kernel, and whether it is the best this CPU allows.
void describe_openblas(peer& p) {
  const std::string core = openblas_get_corename();
  p.kernel = "core " + core;
  const char* pinned = std::getenv("OPENBLAS_CORETYPE");
  if (pinned != nullptr) p.kernel += std::string(" (OPENBLAS_CORETYPE=") + pinned + ")";
  p.not_comparable = openblas_shortfall(core);
}

#endif  // ATTN_BENCH_HAVE_OPENBLAS

#if defined(ATTN_BENCH_HAVE_EIGEN)

using row_major = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using const_map = Eigen::Map<const row_major>;

const_map as_eigen(const_matrix_view M) {
  return {M.data, static_cast<Eigen::Index>(M.rows), static_cast<Eigen::Index>(M.cols)};
}

float eigen_dot(std::span<const float> q, std::span<const float> k) {
  const auto d = static_cast<Eigen::Index>(q.size());
  return Eigen::Map<const Eigen::VectorXf>(q.data(), d).dot(Eigen::Map<const Eigen::VectorXf>(k.data(), d));
}

void eigen_stable_softmax(std::span<float> row) {
  if (row.empty()) return;
  Eigen::Map<Eigen::ArrayXf> x(row.data(), static_cast<Eigen::Index>(row.size()));
  x = (x - x.maxCoeff()).exp();
  x /= x.sum();
}

void eigen_scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  Eigen::Map<row_major> s(S.data, static_cast<Eigen::Index>(S.rows), static_cast<Eigen::Index>(S.cols));
  // The scalar in front: Eigen passes it to its GEMM as alpha. Written after the product,
  // it sends Eigen down a coefficient-wise path ten times slower.
  s.noalias() = inverse_sqrt(Q.cols) * (as_eigen(Q) * as_eigen(K).transpose());
}

void eigen_attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  eigen_scores(Q, K, A);
  for (std::size_t i = 0; i < A.rows; ++i) {
    const std::size_t keep = visible(i, A.cols, causal);
    std::fill(A.row(i).begin() + static_cast<std::ptrdiff_t>(keep), A.row(i).end(), 0.0f);  // exp(-inf)
    eigen_stable_softmax(A.row(i).first(keep));
  }
}

void eigen_attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  Eigen::Map<row_major> o(O.data, static_cast<Eigen::Index>(O.rows), static_cast<Eigen::Index>(O.cols));
  o.noalias() = as_eigen(A) * as_eigen(V);
}

void eigen_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
  const matrix_view A = scratch_weights(Q.rows, K.rows);
  eigen_attention_weights(Q, K, A, causal);
  eigen_attention_output(A, V, O);
}

#endif  // ATTN_BENCH_HAVE_EIGEN

#if defined(ATTN_BENCH_HAVE_DNNL)

/// A softmax_forward primitive over the rows of a rows x cols matrix, and a memory object
/// to point at the data: both created once per shape and kept, as a oneDNN user would.
struct dnnl_softmax {
  dnnl::softmax_forward primitive;
  dnnl::memory memory;
};

dnnl::engine& dnnl_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl_softmax& dnnl_softmax_for(std::size_t rows, std::size_t cols) {
  static std::map<std::pair<std::size_t, std::size_t>, dnnl_softmax> cache;
  auto it = cache.find({rows, cols});
  if (it != cache.end()) return it->second;
  const dnnl::memory::desc md({static_cast<dnnl::memory::dim>(rows), static_cast<dnnl::memory::dim>(cols)},
                              dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
#if DNNL_VERSION_MAJOR >= 3
  const dnnl::softmax_forward::primitive_desc pd(dnnl_engine(), dnnl::prop_kind::forward_inference,
                                                 dnnl::algorithm::softmax_accurate, md, md, 1);
#else
  const dnnl::softmax_forward::primitive_desc pd(
      dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, md, 1), dnnl_engine());
#endif
  return cache.emplace(std::make_pair(rows, cols), dnnl_softmax{dnnl::softmax_forward(pd), dnnl::memory(md, dnnl_engine())})
      .first->second;
}

/// In place (oneDNN's softmax accepts the same memory as source and destination).
void dnnl_softmax_rows(matrix_view S) {
  if (S.rows == 0 || S.cols == 0) return;
  static dnnl::stream stream(dnnl_engine());
  dnnl_softmax& s = dnnl_softmax_for(S.rows, S.cols);
  s.memory.set_data_handle(S.data);
  s.primitive.execute(stream, {{DNNL_ARG_SRC, s.memory}, {DNNL_ARG_DST, s.memory}});
  stream.wait();
}

void dnnl_stable_softmax(std::span<float> row) { dnnl_softmax_rows({row.data(), 1, row.size()}); }

/// oneDNN's effective ISA (the one its JIT generates code for here), by the names that
/// oneDNN 2.x and 3.x share; and whether it falls short of an AVX-512 CPU.
void describe_dnnl(peer& p) {
  const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  const std::pair<dnnl_cpu_isa_t, const char*> names[] = {
      {dnnl_cpu_isa_sse41, "sse41"},
      {dnnl_cpu_isa_avx, "avx"},
      {dnnl_cpu_isa_avx2, "avx2"},
      {dnnl_cpu_isa_avx2_vnni, "avx2_vnni"},
      {dnnl_cpu_isa_avx512_core, "avx512_core"},
      {dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"},
      {dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"},
      {dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"},
  };
  p.kernel = "effective ISA 0x" + [&] {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%x", static_cast<unsigned>(isa));
    return std::string(hex);
  }();
  for (const auto& [value, name] : names) {
    if (isa == value) p.kernel = std::string("effective ISA ") + name;
  }
  const bool has_avx512 = (static_cast<unsigned>(isa) & static_cast<unsigned>(dnnl_cpu_isa_avx512_core)) ==
                          static_cast<unsigned>(dnnl_cpu_isa_avx512_core);
  if (cpu_level().first == 3 && !has_avx512) {
    p.not_comparable = "oneDNN runs " + p.kernel + " on an AVX-512 CPU (ONEDNN_MAX_CPU_ISA set?)";
  }
}

#endif  // ATTN_BENCH_HAVE_DNNL

}  // namespace

std::string openblas_shortfall(const std::string& core) {
  const auto [level, best] = cpu_level();
  if (openblas_core_level(core) >= level) return "";
  const char* why = std::getenv("ATTN_BENCH_PINNED_OPENBLAS") != nullptr ? "pinned, it still chose this one"
                    : std::getenv("OPENBLAS_CORETYPE") != nullptr        ? "OPENBLAS_CORETYPE was set by hand"
                                                                          : "pinning it failed";
  return "OpenBLAS runs its " + core + " kernel on a CPU that supports its " + best + " kernel (" + why + ")";
}

void pin_openblas_kernel(char** argv) {
#if defined(ATTN_BENCH_HAVE_OPENBLAS)
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // set by hand, or by the run before exec
  const std::string core = openblas_get_corename();
  const auto [level, best] = cpu_level();
  if (openblas_core_level(core) >= level) return;
  std::fprintf(stderr, "attn_bench: OpenBLAS chose its %s kernel on a CPU that supports its %s kernel: "
                       "running again with OPENBLAS_CORETYPE=%s\n", core.c_str(), best, best);
  setenv("OPENBLAS_CORETYPE", best, 1);
  setenv("ATTN_BENCH_PINNED_OPENBLAS", best, 1);  // for openblas_shortfall's message
  execv("/proc/self/exe", argv);
  std::perror("attn_bench: exec /proc/self/exe");  // then the run goes on, its ratios marked
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv("ATTN_BENCH_PINNED_OPENBLAS");
#else
  (void)argv;
#endif
}

std::vector<peer> installed_peers() {
  std::vector<peer> peers;
#if defined(ATTN_BENCH_HAVE_OPENBLAS)
  openblas_set_num_threads(1);  // the reference runs on one thread
  peers.push_back({"openblas", blas_dot, nullptr, nullptr, blas_scores, blas_attention_weights, blas_attention_output,
                   blas_attention});
  describe_openblas(peers.back());
#endif
#if defined(ATTN_BENCH_HAVE_EIGEN)
  peers.push_back({"eigen", eigen_dot, eigen_stable_softmax, nullptr, eigen_scores, eigen_attention_weights,
                   eigen_attention_output, eigen_attention});
  // Eigen is compiled here, with ATTN_BENCH_ARCH_FLAGS: its vector code is what they enable.
  peers.back().kernel = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                        "." + std::to_string(EIGEN_MINOR_VERSION) + ", " + Eigen::SimdInstructionSetsInUse();
#endif
#if defined(ATTN_BENCH_HAVE_DNNL)
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
  omp_set_num_threads(1);  // the reference runs on one thread
#endif
  peers.push_back({"onednn", nullptr, dnnl_stable_softmax, dnnl_softmax_rows, nullptr, nullptr, nullptr, nullptr});
  describe_dnnl(peers.back());
#endif
#if defined(ATTN_BENCH_HAVE_TORCH)
  peers.push_back(torch_peer());
#endif
  return peers;
}

}  // namespace attn::bench
