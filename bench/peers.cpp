// OpenBLAS: cblas_sdot; cblas_sgemm for Q K^T / sqrt(d), then the mask and a stable
// softmax written plainly; cblas_sgemm for A V. Eigen: the same with Eigen matrices and
// array expressions. Attention is the weights into an n_q x n_k scratch matrix, then A V.
// oneDNN: its softmax primitive (the accurate one: max, exp, sum, divide) over rows.
// Compiled with ATTN_BENCH_ARCH_FLAGS, like the FMA peak kernel.
#include "peers.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <utility>
#include <vector>

#if defined(ATTN_BENCH_HAVE_OPENBLAS)
#include <cblas.h>
extern "C" void openblas_set_num_threads(int num_threads);  // OpenBLAS's own extension
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

#if defined(ATTN_BENCH_HAVE_OPENBLAS) || defined(ATTN_BENCH_HAVE_EIGEN)

/// 1 / sqrt(d), as a BLAS alpha.
float inverse_sqrt(std::size_t d) { return 1.0f / std::sqrt(static_cast<float>(d)); }

/// Row i of a causal score matrix has keys 0..i only: the length of its unmasked prefix.
/// Masked entries get weight exactly 0, so the softmax runs over that prefix only.
std::size_t visible(std::size_t i, std::size_t n_k, bool causal) { return causal ? std::min(i + 1, n_k) : n_k; }

/// The n_q x n_k weights of attention(), kept between calls (grown to the largest size
/// asked for, as a user of the library would keep such a buffer).
matrix_view scratch_weights(std::size_t n_q, std::size_t n_k) {
  static std::vector<float> A;
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

#endif  // ATTN_BENCH_HAVE_DNNL

}  // namespace

std::vector<peer> installed_peers() {
  std::vector<peer> peers;
#if defined(ATTN_BENCH_HAVE_OPENBLAS)
  openblas_set_num_threads(1);  // the reference runs on one thread
  peers.push_back({"openblas", blas_dot, nullptr, nullptr, blas_scores, blas_attention_weights, blas_attention_output,
                   blas_attention});
#endif
#if defined(ATTN_BENCH_HAVE_EIGEN)
  peers.push_back({"eigen", eigen_dot, eigen_stable_softmax, nullptr, eigen_scores, eigen_attention_weights,
                   eigen_attention_output, eigen_attention});
#endif
#if defined(ATTN_BENCH_HAVE_DNNL)
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
  omp_set_num_threads(1);  // the reference runs on one thread
#endif
  peers.push_back({"onednn", nullptr, dnnl_stable_softmax, dnnl_softmax_rows, nullptr, nullptr, nullptr, nullptr});
#endif
  return peers;
}

}  // namespace attn::bench
