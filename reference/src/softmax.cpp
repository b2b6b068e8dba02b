// Steps 4-5 of the reference: softmax, log-sum-exp and the whole attention_weights
// pipeline. Every softmax here is the stable one (subtract the row max first).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <span>
#include <thread>
#include <vector>

#include <attn/reference.hpp>

#include "kernel_table.hpp"
#include "shapes.hpp"
#include "thread_pool.hpp"
#include "tiled.hpp"

namespace attn::ref {
namespace {

constexpr float infinity = std::numeric_limits<float>::infinity();
constexpr float quiet_nan = std::numeric_limits<float>::quiet_NaN();

// a_j = exp(x_j - m) / sum_l exp(x_l - m), m = max_l x_l, with the special rows of
// stable_softmax: NaN anywhere -> all NaN; all -inf -> all 0; +inf present -> the +inf
// entries share weight 1 equally (the limit of adding the same c -> inf to all of them),
// the rest get 0.
// Returns the row max (NaN for a NaN row).
float softmax_in_place(const detail::kernel_table& kernels, float* x, std::size_t n) {
  if (n == 0) return -infinity;
  const float m = kernels.max(x, n);  // NaN if any x_j is NaN
  if (std::isnan(m)) {
    std::fill(x, x + n, quiet_nan);
  } else if (m == -infinity) {
    std::fill(x, x + n, 0.0f);
  } else if (m == infinity) {
    const auto count = static_cast<std::size_t>(std::count(x, x + n, infinity));
    const float share = 1.0f / static_cast<float>(count);
    std::transform(x, x + n, x, [share](float v) { return v == infinity ? share : 0.0f; });
  } else {
    // Every exponent is <= 0, so nothing overflows; the max term is exp(0) = 1, so sum >= 1.
    const float sum = kernels.sum_exp_shifted(x, m, x, n);
    kernels.divide(x, sum, n);
  }
  return m;
}

}  // namespace

void softmax(std::span<float> row) { ref::stable_softmax(row); }

void stable_softmax(std::span<float> row) {
  softmax_in_place(detail::active_kernels(), row.data(), row.size());
}

void softmax_rows(matrix_view S) {
  const detail::kernel_table& kernels = detail::active_kernels();
  for (std::size_t i = 0; i < S.rows; ++i) softmax_in_place(kernels, S.data + i * S.cols, S.cols);
}

float log_sum_exp(std::span<const float> row) {
  const detail::kernel_table& kernels = detail::active_kernels();
  if (row.empty()) return -infinity;
  const float m = kernels.max(row.data(), row.size());
  if (std::isnan(m)) return quiet_nan;
  if (std::isinf(m)) return m;  // +inf present, or every entry -inf
  return m + std::log(kernels.sum_exp_shifted(row.data(), m, nullptr, row.size()));
}

namespace {

std::atomic<std::size_t> thread_count{1};

// A row of attention_weights() whose exponentials (in [0, padded), the rest of its n
// entries to be zeros) sum to `sum`, or which is NaN when `sum` is.
struct pending_row {
  float* row = nullptr;
  std::size_t padded = 0;
  float sum = 1.0f;

  void finish(const detail::kernel_table& kernels, std::size_t n) const {
    if (row == nullptr) return;
    if (std::isnan(sum)) {
      std::fill(row, row + n, quiet_nan);
      return;
    }
    if (sum != 1.0f) kernels.divide(row, sum, padded);  // x / 1 = x: skipped
    std::memset(row + padded, 0, (n - padded) * sizeof(float));  // +0.0f is all zero bits
  }
};

// Threads only for problems worth a helper: a parked helper (thread_pool.hpp) that is still
// watching takes a call within a microsecond, one asleep some tens of microseconds later
// (about 20 on a KVM guest), and starting one the first time costs up to a hundred. From
// 2^21 multiply-adds left by the mask (a causal 256 x 256 x 64 problem, about 65
// microseconds on one core) two threads pay in most runs: there, calls back to back took
// 42 us on two against 67 on one, calls 1 ms apart (the helper asleep) 57 against 69; some
// runs lose (80 against 67), see docs/benchmarks.md.
std::size_t weights_threads(const_matrix_view Q, const_matrix_view K, bool causal, std::size_t blocks) {
  constexpr std::size_t kMinBlocksPerThread = 4, kMinWork = std::size_t{1} << 21;
  const bool large = Q.rows * K.rows * Q.cols / (causal ? 2 : 1) >= kMinWork;
  return large ? std::max<std::size_t>(1, std::min<std::size_t>(thread_count, blocks / kMinBlocksPerThread)) : 1;
}

std::size_t round_up(std::size_t x, std::size_t m) { return (x + m - 1) / m * m; }

// The columns a block of rows ending at `last` needs: all n_k, or under the causal mask the
// whole tiles (the partial tile copies through a buffer) covering every row's padded prefix.
std::size_t block_columns(std::size_t last, std::size_t n_k, bool causal, const detail::kernel_table& kernels) {
  return causal ? std::min(round_up(last, std::max<std::size_t>(kernels.tile_cols, kernels.lanes)), n_k) : n_k;
}

// Row i's exponentials in place over [0, padded), from the maxima its lanes of row_max
// hold: the sum still to divide by, or a special row already final (NaN, or 1: nothing
// left to divide).
pending_row row_exponentials(const detail::kernel_table& kernels, float* row, std::size_t padded,
                             const float* lane_max) {
  pending_row now{row, padded, 0.0f};
  const float m = *std::max_element(lane_max, lane_max + kernels.lanes);  // NaN-free, or NaN: then not finite
  if (std::isfinite(m)) {
    now.sum = kernels.sum_exp_shifted(row, m, row, padded);  // >= 1: exp(m - m) = 1 is in it
    // NaN: a NaN score, which the max instructions may have skipped.
  } else {
    now.sum = std::isnan(softmax_in_place(kernels, row, padded)) ? quiet_nan : 1.0f;
  }
  return now;
}

// Block b of rows of A: its scores by the micro-kernel (masked, with the rows' maxima in
// row_max), then each row's weights while it is still in cache. Each row's division waits
// for its sum (a reduction, then a reciprocal), so it is done one row late, after the next
// row's exponentials, which hide that wait: about 4% of the whole time at causal
// n = 1024, d = 64. Two rows at a time stay in cache.
void block_weights(const detail::kernel_table& kernels, const detail::packed_scores& packed, matrix_view A,
                   std::size_t n_k, bool causal, std::size_t b, float* row_max) {
  const std::size_t lanes = kernels.lanes;
  const std::size_t first = b * packed.block_rows();
  const std::size_t last = std::min(first + packed.block_rows(), A.rows);
  const std::size_t cols = block_columns(last, n_k, causal, kernels);
  std::fill(row_max, row_max + packed.block_rows() * lanes, -infinity);
  packed.compute(b, cols, A.data + first * A.cols, A.cols, causal, row_max);
  pending_row pending;
  for (std::size_t i = first; i < last; ++i) {
    const std::size_t visible = causal ? std::min(i + 1, n_k) : n_k;
    const std::size_t padded = std::min(round_up(visible, lanes), cols);  // [visible, padded) is -inf
    const pending_row now = row_exponentials(kernels, A.data + i * A.cols, padded, row_max + (i - first) * lanes);
    pending.finish(kernels, n_k);
    pending = now;
  }
  pending.finish(kernels, n_k);
}

// One thread's share: blocks taken one at a time from `next` until none is left; with
// costliest_first (causal, with helpers) the last blocks, which cost the most, go first.
void take_blocks(const detail::kernel_table& kernels, const detail::packed_scores& packed, matrix_view A,
                 std::size_t n_k, bool causal, bool costliest_first, std::atomic<std::size_t>& next) {
  std::vector<float> max_storage(packed.block_rows() * kernels.lanes + detail::cache_line_floats);
  float* row_max = detail::align_to_cache_line(max_storage.data());  // for the kernel's aligned loads
  const std::size_t blocks = packed.blocks();
  for (std::size_t taken = next++; taken < blocks; taken = next++) {
    block_weights(kernels, packed, A, n_k, causal, costliest_first ? blocks - 1 - taken : taken, row_max);
  }
}

}  // namespace


void set_threads(std::size_t count) {
  thread_count = count != 0 ? count : std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

std::size_t threads() { return thread_count; }

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  detail::check_score_shapes("attn::ref::attention_weights", Q, K, A, "A");
  // Fused, and equal bit for bit to scores() + apply_causal_mask() + softmax_rows(). The
  // scores of one block of rows (tile_rows of them; the dot product times 1/sqrt(d), as
  // scores() computes them) are computed into A by the register-blocked micro-kernel, which
  // also masks them and raises the rows' maxima while they are in registers; then each row
  // is turned into weights (exp and sum, then the division) while it is still in cache.
  // Under the causal mask only the tiles on or left of the diagonal are computed (about
  // half the work): row i's softmax runs over its visible prefix [0, i], padded to whole
  // SIMD batches with the mask's -inf (weight exactly 0, and never the max), and the rest of
  // the row is written as 0: what masking with -inf and a softmax over the whole row give.
  // A NaN in a row is caught by its sum and makes the whole row NaN; a row whose max is not
  // finite (+inf, or nothing visible) takes softmax_in_place()'s special cases.
  // Blocks are independent; with helpers, each goes to whichever thread asks next.
  const detail::kernel_table& kernels = detail::active_kernels();  // the calling thread's
  const std::size_t count = weights_threads(Q, K, causal, detail::packed_scores::blocks_of(kernels, Q.rows));
  const detail::packed_scores packed(kernels, Q, K, detail::inverse_sqrt(Q.cols), count);
  const bool costliest_first = causal && count > 1;
  std::atomic<std::size_t> next{0};
  detail::run_on_threads(count, [&] { take_blocks(kernels, packed, A, K.rows, causal, costliest_first, next); });
}

}  // namespace attn::ref
