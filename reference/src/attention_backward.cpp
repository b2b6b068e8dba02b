// Step 11 of the reference: the attention backward pass, on the score micro-kernel.
// (Step 12, layer normalisation: layer_norm.cpp.)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <attn/errors.hpp>
#include <attn/reference.hpp>

#include "kernel_table.hpp"
#include "shapes.hpp"
#include "tiled.hpp"

namespace attn::ref {
namespace {

void require_shape(const char* function, const char* name, std::size_t rows, std::size_t cols,
                   std::size_t want_rows, std::size_t want_cols, const char* what) {
  if (rows != want_rows || cols != want_cols) {
    invalid_input(function, std::string(name) + " is " + detail::shape(rows, cols) + "; expected " +
                                detail::shape(want_rows, want_cols) + " (" + what + ")");
  }
}

/// True when every entry of M is finite: a dot product with zeros is NaN exactly when some
/// entry is NaN or infinite (0 x inf = NaN).
bool finite(const detail::kernel_table& kernels, const_matrix_view M) {
  const std::vector<float> zeros(M.cols, 0.0f);
  for (std::size_t i = 0; i < M.rows; ++i) {
    if (std::isnan(kernels.dot(M.data + i * M.cols, zeros.data(), M.cols))) return false;
  }
  return true;
}

/// M (rows x cols, row stride ld) packed for kernel_table::score_tiles as its right operand:
/// panel p holds columns [p tc, (p + 1) tc) as `rows` rows of tc floats, zero past the last
/// column, 64-byte aligned. `lower`: entries above the diagonal (column > row) packed as 0.
class panels {
 public:
  panels(const float* M, std::size_t rows, std::size_t cols, std::size_t ld, std::size_t tc, bool lower)
      : storage_(new float[(cols + tc - 1) / tc * tc * rows + detail::cache_line_floats]) {
    float* out = data_ = detail::align_to_cache_line(storage_.get());
    for (std::size_t p = 0; p < cols; p += tc) {
      const std::size_t width = std::min(tc, cols - p);
      for (std::size_t r = 0; r < rows; ++r, out += tc) {
        const std::size_t kept = lower ? std::min(width, r + 1 > p ? r + 1 - p : 0) : width;
        std::copy_n(M + r * ld + p, kept, out);
        std::fill(out + kept, out + tc, 0.0f);
      }
    }
  }
  const float* data() const { return data_; }

 private:
  std::unique_ptr<float[]> storage_;
  float* data_ = nullptr;
};

/// C = scale X Y for X (rows x inner, row-major, read in place) and Y (inner x cols) packed
/// as panels; C is rows x cols, row-major.
void product(const detail::kernel_table& kernels, const float* X, std::size_t rows, std::size_t inner,
             const float* Y, std::size_t cols, float* C, float scale) {
  const std::size_t tr = kernels.tile_rows;
  for (std::size_t first = 0; first < rows; first += tr) {
    kernels.score_tiles({.q = X + first * inner, .rows = std::min(tr, rows - first), .d = inner, .k_panels = Y,
                         .cols = cols, .S = C + first * cols, .ldS = cols, .scale = scale, .visible = cols,
                         .row_max = nullptr});
  }
}

/// out (cols x rows) = M^T for M rows x cols, both row-major; in blocks, so that both stay in cache.
void transpose(const float* M, std::size_t rows, std::size_t cols, float* out) {
  constexpr std::size_t block = 16;
  for (std::size_t r0 = 0; r0 < rows; r0 += block) {
    for (std::size_t c0 = 0; c0 < cols; c0 += block) {
      for (std::size_t r = r0; r < std::min(rows, r0 + block); ++r) {
        for (std::size_t c = c0; c < std::min(cols, c0 + block); ++c) out[c * rows + r] = M[r * cols + c];
      }
    }
  }
}

/// The backward pass query by query over its visible keys only (the path for inputs holding
/// NaN or inf): dA_ij = <dO_i, v_j>, dS_i = A_i (dA_i - <dA_i, A_i>), then dV_j += A_ij dO_i,
/// dQ_i += dS_ij k_j and dK_j += dS_ij q_i, and dQ, dK times 1/sqrt(d) at the end.
void backward_by_rows(const detail::kernel_table& kernels, const_matrix_view Q, const_matrix_view K,
                      const_matrix_view V, const_matrix_view dO, bool causal, const matrix& A, float inv_sqrt_d,
                      matrix_view dQ, matrix_view dK, matrix_view dV) {
  const std::size_t nq = Q.rows, nk = K.rows, d = Q.cols, dv = V.cols;
  std::fill(dQ.data, dQ.data + dQ.size(), 0.0f);
  std::fill(dK.data, dK.data + dK.size(), 0.0f);
  std::fill(dV.data, dV.data + dV.size(), 0.0f);
  std::vector<float> ds(nk), zeros(d, 0.0f);
  for (std::size_t i = 0; i < nq; ++i) {
    const std::size_t visible = causal ? std::min(nk, i + 1) : nk;
    const float* a = A.view().data + i * nk;
    for (std::size_t j = 0; j < visible; ++j) ds[j] = kernels.dot(dO.data + i * dv, V.data + j * dv, dv);
    const float c = kernels.dot(a, ds.data(), visible);
    kernels.scaled_difference(a, ds.data(), c, ds.data(), visible);
    for (std::size_t j = 0; j < visible; ++j) {
      kernels.scale_add(dV.data + j * dv, 1.0f, a[j], dO.data + i * dv, dv);
      kernels.scale_add(dQ.data + i * d, 1.0f, ds[j], K.data + j * d, d);
      kernels.scale_add(dK.data + j * d, 1.0f, ds[j], Q.data + i * d, d);
    }
  }
  for (std::size_t i = 0; i < nq; ++i) kernels.scale_add(dQ.data + i * d, inv_sqrt_d, 0.0f, zeros.data(), d);
  for (std::size_t j = 0; j < nk; ++j) kernels.scale_add(dK.data + j * d, inv_sqrt_d, 0.0f, zeros.data(), d);
}

}  // namespace

// The fast path, for finite inputs: five matrix products on the register-blocked score
// micro-kernel (kernel_table::score_tiles, which computes X Y for rows of X read in place
// and Y packed in panels of columns, times a scale):
//   A   = softmax_rows(Q K^T / sqrt(d) + Mask)   attention_weights(), fused
//   dA  = dO V^T                                 packed_scores, causal tiles only
//   dS  = A (dA - rowsum(A dA))                  dot and scaled_difference per row
//   dQ  = dS K / sqrt(d)                         K packed by columns
//   dV^T = dO^T A,  dK^T = Q^T dS / sqrt(d)      A and dS packed by columns, then transposed
// The masked entries of A and dS are 0, so a masked key adds exactly 0 to every sum; that is
// "not read" only while every input is finite (0 x NaN is NaN), so an input holding NaN or
// inf takes the row-by-row path instead, which touches the visible keys alone.
void attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V, const_matrix_view dO,
                        bool causal, matrix_view dQ, matrix_view dK, matrix_view dV) {
  const char* const f = "attn::ref::attention_backward";
  detail::check_score_shapes(f, Q, K, matrix_view(nullptr, Q.rows, K.rows), "A");
  detail::check_value_shapes(f, Q.rows, K.rows, "K (n_k x d)", V, matrix_view(nullptr, Q.rows, V.cols));
  require_shape(f, "dO", dO.rows, dO.cols, Q.rows, V.cols, "n_q x d_v, the shape of O");
  require_shape(f, "dQ", dQ.rows, dQ.cols, Q.rows, Q.cols, "n_q x d, the shape of Q");
  require_shape(f, "dK", dK.rows, dK.cols, K.rows, K.cols, "n_k x d, the shape of K");
  require_shape(f, "dV", dV.rows, dV.cols, V.rows, V.cols, "n_k x d_v, the shape of V");
  const detail::kernel_table& kernels = detail::active_kernels();
  const std::size_t nq = Q.rows, nk = K.rows, d = Q.cols, dv = V.cols;
  const float inv_sqrt_d = detail::inverse_sqrt(d);
  matrix A(nq, nk);
  ref::attention_weights(Q, K, A.view(), causal);
  const auto visible_of = [&](std::size_t i) { return causal ? std::min(nk, i + 1) : nk; };
  if (!(finite(kernels, Q) && finite(kernels, K) && finite(kernels, V) && finite(kernels, dO))) {
    backward_by_rows(kernels, Q, K, V, dO, causal, A, inv_sqrt_d, dQ, dK, dV);
    return;
  }
  // dA = dO V^T, only the tiles on or left of the diagonal under the mask; then each row
  // becomes dS in place, its masked part 0.
  matrix dS(nq, nk);
  const detail::packed_scores packed(kernels, dO, V, 1.0f);
  for (std::size_t b = 0; b < packed.blocks(); ++b) {
    const std::size_t first = b * packed.block_rows(), last = std::min(first + packed.block_rows(), nq);
    packed.compute(b, causal ? std::min(nk, last) : nk, dS.view().data + first * nk, nk, causal, nullptr);
  }
  for (std::size_t i = 0; i < nq; ++i) {
    float* ds = dS.view().data + i * nk;
    const float* a = A.view().data + i * nk;
    const std::size_t visible = visible_of(i);
    const float c = kernels.dot(a, ds, visible);  // <dA_i, A_i>
    kernels.scaled_difference(a, ds, c, ds, visible);
    std::fill(ds + visible, ds + nk, 0.0f);
  }
  const std::size_t tc = kernels.tile_cols;
  // dQ = dS K / sqrt(d).
  {
    panels Kp(K.data, nk, d, d, tc, false);
    product(kernels, dS.view().data, nq, nk, Kp.data(), d, dQ.data, inv_sqrt_d);
  }
  // dV^T = dO^T A and dK^T = Q^T dS / sqrt(d): rows of dO^T and Q^T against A and dS packed
  // by columns (masked entries of A zeroed: a NaN row of A is NaN in its masked part too).
  std::vector<float> left(std::max(dv, d) * nq), result(std::max(dv, d) * nk);
  {
    panels Ap(A.view().data, nq, nk, nk, tc, causal);
    transpose(dO.data, nq, dv, left.data());
    product(kernels, left.data(), dv, nq, Ap.data(), nk, result.data(), 1.0f);
    transpose(result.data(), dv, nk, dV.data);
  }
  {
    panels Sp(dS.view().data, nq, nk, nk, tc, false);
    transpose(Q.data, nq, d, left.data());
    product(kernels, left.data(), d, nq, Sp.data(), nk, result.data(), inv_sqrt_d);
    transpose(result.data(), d, nk, dK.data);
  }
}

}  // namespace attn::ref
