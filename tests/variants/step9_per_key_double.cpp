// A correct step 9 that must be accepted: merge written as "push the other state's sum at
// its max", and streaming attention as FlashAttention's per-key recurrence with double
// accumulators, ignoring the block size (one key at a time is one pass too).
#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace attn {
namespace {
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float nan_f = std::numeric_limits<float>::quiet_NaN();
}  // namespace

void push(online_softmax& state, float x) {
  if (std::isnan(x) || std::isnan(state.max)) {
    state = {nan_f, nan_f};
  } else if (x == -inf) {
  } else if (x <= state.max) {
    state.sum += (x == state.max) ? 1.0f : std::exp(x - state.max);
  } else {
    state.sum = (state.sum == 0.0f ? 0.0f : state.sum * std::exp(state.max - x)) + 1.0f;
    state.max = x;
  }
}

online_softmax merge(const online_softmax& a, const online_softmax& b) {
  if (std::isnan(a.max) || std::isnan(b.max)) return {nan_f, nan_f};
  if (b.sum == 0.0f) return a;
  if (a.sum == 0.0f) return b;
  const online_softmax& hi = a.max >= b.max ? a : b;
  const online_softmax& lo = a.max >= b.max ? b : a;
  const float factor = lo.max == hi.max ? 1.0f : std::exp(lo.max - hi.max);
  return {hi.max, hi.sum + lo.sum * factor};
}

float weight(const online_softmax& state, float x) {
  if (std::isnan(x) || std::isnan(state.sum)) return nan_f;
  if (x == -inf || state.sum == 0.0f) return 0.0f;
  return (x == state.max ? 1.0f : std::exp(x - state.max)) / state.sum;
}

void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal,
                         std::size_t block_size) {
  if (Q.cols != K.cols || Q.cols == 0 || V.rows != K.rows || O.rows != Q.rows || O.cols != V.cols ||
      block_size == 0) {
    const auto dims = [](const_matrix_view M) { return std::to_string(M.rows) + " x " + std::to_string(M.cols); };
    attn::invalid_input("attn::streaming_attention", "bad shapes (Q " + dims(Q) + ", K " + dims(K) + ", V " + dims(V) +
                                                         ", O " + dims(O) + ") or block_size " +
                                                         std::to_string(block_size) +
                                                         "; expected Q n_q x d, K n_k x d, V n_k x d_v, O n_q x d_v");
  }
  std::vector<double> o(V.cols);
  for (std::size_t i = 0; i < Q.rows; ++i) {
    std::fill(o.begin(), o.end(), 0.0);
    double m = -INFINITY, l = 0.0;
    bool nan = false;
    const std::size_t visible = causal ? std::min(K.rows, i + 1) : K.rows;
    for (std::size_t j = 0; j < visible && !nan; ++j) {
      const double beta = attn::scaled_score(Q.row(i), K.row(j));
      if (std::isnan(beta)) nan = true;
      if (nan) continue;
      if (beta == -INFINITY) {  // weight 0, but the value still counts (0 x NaN = NaN)
        for (std::size_t c = 0; c < V.cols; ++c) o[c] += 0.0 * V(j, c);
        continue;
      }
      if (beta > m) {
        const double r = std::exp(m - beta);
        l *= r;
        for (double& x : o) x *= r;
        m = beta;
      }
      const double p = beta == m ? 1.0 : std::exp(beta - m);
      l += p;
      for (std::size_t c = 0; c < V.cols; ++c) o[c] += p * V(j, c);
    }
    for (std::size_t c = 0; c < V.cols; ++c) O(i, c) = nan ? nan_f : static_cast<float>(l == 0.0 ? o[c] : o[c] / l);
  }
}

}  // namespace attn
