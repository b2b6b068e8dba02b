// Steps 1-3 of the reference: the dot product, the scaled scores and the causal mask.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <span>
#include <string>

#include <attn/errors.hpp>
#include <attn/reference.hpp>

#include "kernel_table.hpp"
#include "shapes.hpp"
#include "thread_pool.hpp"
#include "tiled.hpp"

namespace attn::ref {
namespace detail {

float inverse_sqrt(std::size_t d) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(d))); }

namespace {

// K packed into panels (kernel_table::pack_panels) on up to `threads` threads, each taking
// whole panels of tile_cols keys in ranges of about an equal share: the same floats in the
// same places as one call over all keys. False when any range's is (an entry times
// `scale` below FLT_MIN).
bool pack_on_threads(const kernel_table& kernels, const_matrix_view K, float scale, float* panels,
                     std::size_t threads) {
  const std::size_t nr = kernels.tile_cols, d = K.cols;
  const std::size_t count = (K.rows + nr - 1) / nr;
  constexpr std::size_t kMinPanelsPerThread = 8;  // a few microseconds of gathers each
  threads = std::min(threads, count / kMinPanelsPerThread);
  if (threads <= 1) return kernels.pack_panels(K.data, K.rows, d, scale, panels);
  const std::size_t per = (count + threads - 1) / threads;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> all_normal{true};
  run_on_threads(threads, [&] {
    for (std::size_t r = next++; r * per < count; r = next++) {
      const std::size_t first = r * per * nr, last = std::min(K.rows, (r + 1) * per * nr);
      if (!kernels.pack_panels(K.data + first * d, last - first, d, scale, panels + first * d)) {
        all_normal.store(false, std::memory_order_relaxed);
      }
    }
  });
  return all_normal.load(std::memory_order_relaxed);
}

}  // namespace

packed_scores::packed_scores(const kernel_table& kernels, const_matrix_view Q, const_matrix_view K, float scale,
                             std::size_t threads)
    : kernels_(&kernels), rows_(Q.rows), d_(Q.cols), scale_(scale) {
  const std::size_t nr = kernels.tile_cols, d = Q.cols;
  const std::size_t k_size = (K.rows + nr - 1) / nr * nr * d;
  storage_.reset(new float[k_size + cache_line_floats]);  // uninitialised: every float is written below
  k_ = align_to_cache_line(storage_.get());
  q_ = Q.data;
  // For d = 4^k, 1/sqrt(d) is a power of two: K times it is exact (unless a key entry
  // drops below FLT_MIN, checked), and so is every partial sum of q . (k / sqrt(d)), which
  // is then bit for bit q . k / sqrt(d) and spares the micro-kernel its multiplication.
  int exponent = 0;
  const bool power_of_two = std::frexp(scale, &exponent) == 0.5f;
  if (power_of_two && scale != 1.0f && pack_on_threads(kernels, K, scale, k_, threads)) {
    scale_ = 1.0f;
  } else {
    pack_on_threads(kernels, K, 1.0f, k_, threads);
  }
}

void packed_scores::compute(std::size_t block, std::size_t cols, float* S, std::size_t ldS, bool causal,
                            float* row_max) const {
  const std::size_t first = block * block_rows();
  const std::size_t rows = std::min(block_rows(), rows_ - first);
  const std::size_t visible = causal ? first + 1 : cols;  // row first + r keeps columns j < visible + r
  kernels_->score_tiles({.q = q_ + first * d_, .rows = rows, .d = d_, .k_panels = k_, .cols = cols, .S = S,
                         .ldS = ldS, .scale = scale_, .visible = visible, .row_max = row_max});
}

void packed_scores::compute_columns(std::size_t block, std::size_t first, std::size_t count, float* S,
                                    std::size_t ldS) const {
  const std::size_t row = block * block_rows();
  const std::size_t rows = std::min(block_rows(), rows_ - row);
  kernels_->score_tiles({.q = q_ + row * d_, .rows = rows, .d = d_, .k_panels = k_ + first * d_, .cols = count,
                         .S = S, .ldS = ldS, .scale = scale_, .visible = count, .row_max = nullptr});
}

}  // namespace detail

namespace {

// Out of line, so that dot() itself builds no strings and needs no stack frame: at d = 16
// it is a compare, the table lookup (detail::known_kernels) and a jump into the kernel,
// and everything else (bad lengths, a pinned table, the first call) a jump here.
[[gnu::noinline]] float dot_slow_path(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    invalid_input("attn::ref::dot", "q has " + std::to_string(q.size()) + " elements but k has " +
                                        std::to_string(k.size()) + "; expected equal lengths");
  }
  return detail::active_kernels().dot(q.data(), k.data(), q.size());
}

}  // namespace

float dot(std::span<const float> q, std::span<const float> k) {
  const detail::kernel_table* t = detail::known_kernels();
  if (t != nullptr && q.size() == k.size()) [[likely]] return t->dot(q.data(), k.data(), q.size());
  return dot_slow_path(q, k);
}

// The scale is applied as a division by the correctly rounded sqrt(d) (float), not as a
// multiplication by 1/sqrt(d): one rounding after the dot product instead of two. (scores()
// multiplies: there the division would cost a third of the time.)
float scaled_score(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    invalid_input("attn::ref::scaled_score", "q has " + std::to_string(q.size()) +
                                                 " elements but k has " + std::to_string(k.size()) +
                                                 "; expected equal lengths");
  }
  if (q.empty()) {
    invalid_input("attn::ref::scaled_score", "q and k are empty, so d = 0; expected d >= 1 to divide by sqrt(d)");
  }
  return ref::dot(q, k) / std::sqrt(static_cast<float>(q.size()));
}

void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  detail::check_score_shapes("attn::ref::scores", Q, K, S, "S");
  // The dot product times 1/sqrt(d): the same as scaled_score's division when d = 4^k
  // (64, 256, ...), one rounding more otherwise (tiled.hpp says why not a division).
  const detail::packed_scores packed(detail::active_kernels(), Q, K, detail::inverse_sqrt(Q.cols));
  // Keys in chunks whose packed panels (d floats a key) take at most 256 KiB, which stay in
  // the second-level cache while every block of rows goes over them: at n = 4096, d = 128
  // (2 MiB of packed keys) 15-20% faster than all keys for each block of rows.
  const std::size_t step = packed.column_step();
  const std::size_t chunk = std::max(step, (std::size_t{1} << 16) / std::max<std::size_t>(Q.cols, 1) / step * step);
  for (std::size_t first = 0; first < K.rows; first += chunk) {
    const std::size_t count = std::min(chunk, K.rows - first);
    for (std::size_t b = 0; b < packed.blocks(); ++b) {
      packed.compute_columns(b, first, count, S.data + b * packed.block_rows() * S.cols + first, S.cols);
    }
  }
}

matrix causal_mask(std::size_t n) {
  matrix mask(n, n, 0.0f);
  ref::apply_causal_mask(mask.view());
  return mask;
}

void apply_causal_mask(matrix_view S) {
  constexpr float masked = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = i + 1; j < S.cols; ++j) S(i, j) = masked;
  }
}

}  // namespace attn::ref
