#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace attn {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
bool is_nan(const online_softmax& s) { return std::isnan(s.max) || std::isnan(s.sum); }
}  // namespace

void push(online_softmax& state, float x) {
  if (std::isnan(x) || is_nan(state)) {
    state.max = kNaN;
    state.sum = kNaN;
    return;
  }
  if (x == -kInf) return;
  const float m_new = std::max(state.max, x);
  state.sum += (x == m_new) ? 1.0f : std::exp(x - m_new);
  state.max = m_new;
}

online_softmax merge(const online_softmax& a, const online_softmax& b) {
  if (is_nan(a) || is_nan(b)) return {kNaN, kNaN};
  if (a.sum == 0.0f) return b;
  if (b.sum == 0.0f) return a;
  const float m = std::max(a.max, b.max);
  const float la = (a.max == m) ? a.sum : a.sum * std::exp(a.max - m);
  const float lb = (b.max == m) ? b.sum : b.sum * std::exp(b.max - m);
  return {m, la + lb};
}

float weight(const online_softmax& state, float x) {
  if (std::isnan(x) || is_nan(state)) return kNaN;
  if (x == -kInf || state.sum == 0.0f) return 0.0f;
  if (x == state.max) return 1.0f / state.sum;
  return std::exp(x - state.max) / state.sum;
}

void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                         matrix_view O, bool causal, std::size_t block_size) {
  const char* who = "attn::streaming_attention";
  if (block_size == 0) invalid_input(who, "block_size = 0; expected at least 1");
  if (Q.cols != K.cols)
    invalid_input(who, "Q has " + std::to_string(Q.cols) + " columns but K has " +
                           std::to_string(K.cols) + "; expected equal d");
  if (Q.cols == 0) invalid_input(who, "d = 0; expected d >= 1");
  if (V.rows != K.rows)
    invalid_input(who, "V has " + std::to_string(V.rows) + " rows but K has " +
                           std::to_string(K.rows) + "; expected equal");
  if (O.rows != Q.rows || O.cols != V.cols)
    invalid_input(who, "O is " + std::to_string(O.rows) + " x " + std::to_string(O.cols) +
                           "; expected " + std::to_string(Q.rows) + " x " + std::to_string(V.cols));

  std::vector<float> beta(block_size);
  for (std::size_t i = 0; i < Q.rows; ++i) {
    auto o = O.row(i);
    std::fill(o.begin(), o.end(), 0.0f);
    online_softmax state;
    const std::size_t end = causal ? std::min(K.rows, i + 1) : K.rows;
    for (std::size_t b = 0; b < end; b += block_size) {
      const std::size_t stop = std::min(end, b + block_size);
      online_softmax blk;
      for (std::size_t j = b; j < stop; ++j) {
        beta[j - b] = attn::scaled_score(Q.row(i), K.row(j));
        attn::push(blk, beta[j - b]);
      }
      const online_softmax merged = attn::merge(state, blk);
      float scale = 0.0f;
      if (is_nan(merged)) scale = kNaN;
      else if (state.sum == 0.0f) scale = 0.0f;
      else if (state.max == merged.max) scale = 1.0f;
      else scale = std::exp(state.max - merged.max);
      for (float& x : o) x *= scale;
      for (std::size_t j = b; j < stop; ++j) {
        const float s = beta[j - b];
        if (s == -kInf) {  // weight 0, but the value still takes part (0 * NaN is NaN)
          for (std::size_t c = 0; c < o.size(); ++c) o[c] += 0.0f * V(j, c);
          continue;
        }
        float w = 0.0f;
        if (std::isnan(s) || std::isnan(merged.max)) w = kNaN;
        else if (s == merged.max) w = 1.0f;
        else w = std::exp(s - merged.max);
        for (std::size_t c = 0; c < o.size(); ++c) o[c] += w * V(j, c);
      }
      state = merged;
    }
    if (is_nan(state)) {
      std::fill(o.begin(), o.end(), kNaN);
    } else if (state.sum != 0.0f) {
      for (float& x : o) x /= state.sum;
    }
  }
}

}  // namespace attn
