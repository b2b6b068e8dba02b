// solutions/step9_online_softmax.cpp -- answer key for step 9: the online softmax and
// streaming attention.
#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace attn {
namespace {

constexpr float infinity = std::numeric_limits<float>::infinity();
constexpr float quiet_nan = std::numeric_limits<float>::quiet_NaN();

// e^(x - m) for a score x <= m. x == m gives exactly 1, also when both are +inf (inf - inf
// would be NaN); x = -inf < m gives e^(-inf) = 0.
float exp_below(float x, float m) { return x == m ? 1.0f : std::exp(x - m); }

std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

}  // namespace

//! [push]
void push(online_softmax& state, float x) {
  if (std::isnan(x) || std::isnan(state.max)) {
    state = {quiet_nan, quiet_nan};  // NaN in, NaN out, for good
    return;
  }
  if (x == -infinity) return;  // weight 0: nothing changes (and no -inf - (-inf))
  if (x > state.max) {
    // The max grows: every old term e^(x_j - m) becomes e^(x_j - x) = e^(x_j - m) e^(m - x).
    state.sum = state.sum * std::exp(state.max - x) + 1.0f;  // the new term is e^0
    state.max = x;
  } else {
    state.sum += exp_below(x, state.max);
  }
}
//! [push]

//! [merge]
online_softmax merge(const online_softmax& a, const online_softmax& b) {
  if (std::isnan(a.max) || std::isnan(b.max)) return {quiet_nan, quiet_nan};
  if (a.sum == 0.0f) return b;  // an empty part adds nothing
  if (b.sum == 0.0f) return a;
  // Bring both sums to the common max, then add.
  const float m = std::max(a.max, b.max);
  return {m, a.sum * exp_below(a.max, m) + b.sum * exp_below(b.max, m)};
}
//! [merge]

//! [weight]
float weight(const online_softmax& state, float x) {
  if (std::isnan(x) || std::isnan(state.max)) return quiet_nan;
  if (state.sum == 0.0f || x == -infinity) return 0.0f;  // nothing to attend to / masked
  return exp_below(x, state.max) / state.sum;
}
//! [weight]

//! [streaming_attention]
void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                         matrix_view O, bool causal, std::size_t block_size) {
  if (Q.cols != K.cols || Q.cols == 0) {
    attn::invalid_input("attn::streaming_attention",
                        "Q is " + shape(Q.rows, Q.cols) + " and K is " + shape(K.rows, K.cols) +
                            "; expected the same number of columns d >= 1");
  }
  if (V.rows != K.rows || O.rows != Q.rows || O.cols != V.cols) {
    attn::invalid_input("attn::streaming_attention",
                        "K is " + shape(K.rows, K.cols) + ", V is " + shape(V.rows, V.cols) +
                            " and O is " + shape(O.rows, O.cols) + "; expected V to be " +
                            shape(K.rows, V.cols) + " and O " + shape(Q.rows, V.cols));
  }
  if (block_size == 0) {
    attn::invalid_input("attn::streaming_attention", "block_size = 0; expected at least 1");
  }
  std::vector<float> beta;
  for (std::size_t i = 0; i < Q.rows; ++i) {
    const auto o = O.row(i);
    std::fill(o.begin(), o.end(), 0.0f);  // the unnormalised output, relative to state.max
    online_softmax state;                 // running max and sum: empty
    // Under the causal mask keys j > i are not there for query i: never visit them (their
    // values, NaN or not, contribute nothing).
    const std::size_t visible = causal ? std::min(K.rows, i + 1) : K.rows;
    for (std::size_t start = 0; start < visible; start += block_size) {
      const std::size_t end = std::min(visible, start + block_size);
      // One block: its scores and their own normaliser, then merged into the running one.
      online_softmax block;
      beta.clear();
      for (std::size_t j = start; j < end; ++j) {
        beta.push_back(attn::scaled_score(Q.row(i), K.row(j)));
        attn::push(block, beta.back());
      }
      const online_softmax merged = attn::merge(state, block);
      if (std::isnan(merged.max)) {
        state = merged;
        break;
      }
      if (merged.sum == 0.0f) {
        // Every score so far is -inf: weight 0, but a visible key still takes part, so that
        // a NaN or inf value gives NaN as in attention() (0 x NaN = NaN: NaN in, NaN out).
        for (std::size_t j = start; j < end; ++j) {
          for (std::size_t c = 0; c < o.size(); ++c) o[c] += 0.0f * V(j, c);
        }
        continue;
      }
      // The max may have grown: rescale what o holds from state.max to merged.max
      // (an empty state holds o = 0, and its max is -inf: the factor is 0).
      const float rescale = state.sum == 0.0f ? 0.0f : exp_below(state.max, merged.max);
      for (float& x : o) x *= rescale;
      for (std::size_t j = start; j < end; ++j) {
        const float p = exp_below(beta[j - start], merged.max);  // e^(beta - m), 0 for -inf
        for (std::size_t c = 0; c < o.size(); ++c) o[c] += p * V(j, c);
      }
      state = merged;
    }
    if (std::isnan(state.max)) {
      std::fill(o.begin(), o.end(), quiet_nan);
    } else if (state.sum != 0.0f) {
      for (float& x : o) x /= state.sum;
    }  // state.sum == 0: nothing to attend to; o holds 0 v_j summed, zeros for finite values
  }
}
//! [streaming_attention]

}  // namespace attn
