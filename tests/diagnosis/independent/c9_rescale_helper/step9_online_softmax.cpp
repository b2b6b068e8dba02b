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

bool broken(const online_softmax& s) { return std::isnan(s.max) || std::isnan(s.sum); }

// e^(from - to) for from <= to, without ever forming inf - inf or -inf - (-inf):
// exactly 1 when the two are equal (+inf included), exactly 0 when from is -inf.
float rescale(float from, float to) {
  if (from == to) return 1.0f;
  if (from == -kInf) return 0.0f;
  return std::exp(from - to);
}

}  // namespace

online_softmax merge(const online_softmax& a, const online_softmax& b) {
  if (broken(a) || broken(b)) return online_softmax{kNaN, kNaN};
  if (a.sum == 0.0f) return b;  // the empty state is the identity
  if (b.sum == 0.0f) return a;
  const float m = a.max < b.max ? b.max : a.max;
  return online_softmax{m, a.sum * rescale(a.max, m) + b.sum * rescale(b.max, m)};
}

// pushing x is merging with the one-score state (x, e^0)
void push(online_softmax& state, float x) {
  if (std::isnan(x)) {
    state = online_softmax{kNaN, kNaN};
    return;
  }
  if (x == -kInf) return;  // weight 0: nothing changes (a NaN state stays NaN)
  state = attn::merge(state, online_softmax{x, 1.0f});
}

float weight(const online_softmax& state, float x) {
  if (std::isnan(x) || broken(state)) return kNaN;
  if (x == -kInf || state.sum == 0.0f) return 0.0f;
  return rescale(x, state.max) / state.sum;
}

void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                         matrix_view O, bool causal, std::size_t block_size) {
  const auto fail = [](const std::string& what) {
    attn::invalid_input("attn::streaming_attention", what);
  };
  if (Q.cols != K.cols)
    fail("Q has d = " + std::to_string(Q.cols) + " but K has d = " + std::to_string(K.cols) +
         "; expected the same d");
  if (Q.cols == 0) fail("d = 0; expected d >= 1");
  if (V.rows != K.rows)
    fail("V has " + std::to_string(V.rows) + " rows but K has " + std::to_string(K.rows) +
         "; expected one value per key");
  if (O.rows != Q.rows || O.cols != V.cols)
    fail("O is " + std::to_string(O.rows) + " x " + std::to_string(O.cols) + "; expected " +
         std::to_string(Q.rows) + " x " + std::to_string(V.cols));
  if (block_size == 0) fail("block_size = 0; expected at least 1");

  const std::size_t dv = V.cols;
  std::vector<double> acc(dv);
  std::vector<float> block;
  block.reserve(block_size);

  for (std::size_t i = 0; i < Q.rows; ++i) {
    std::fill(acc.begin(), acc.end(), 0.0);
    float m = -kInf;   // running max
    double l = 0.0;    // running sum, relative to m
    bool saw_nan = false;
    const std::size_t n_keys = causal ? std::min(K.rows, i + 1) : K.rows;

    for (std::size_t start = 0; start < n_keys && !saw_nan; start += block_size) {
      const std::size_t stop = std::min(n_keys, start + block_size);
      block.clear();
      float block_max = -kInf;
      for (std::size_t j = start; j < stop; ++j) {
        const float s = attn::scaled_score(Q.row(i), K.row(j));
        if (std::isnan(s)) saw_nan = true;
        else if (s > block_max) block_max = s;
        block.push_back(s);
      }
      if (saw_nan) break;
      if (block_max == -kInf) {  // every score of the block is -inf: weight 0, values still count
        for (std::size_t j = start; j < stop; ++j) {
          const auto v = V.row(j);
          for (std::size_t c = 0; c < dv; ++c) acc[c] += 0.0 * static_cast<double>(v[c]);
        }
        continue;
      }

      const float m_new = std::max(m, block_max);
      const double r = rescale(m, m_new);
      l *= r;
      for (double& x : acc) x *= r;
      for (std::size_t j = start; j < stop; ++j) {
        const float s = block[j - start];
        const double e = s == -kInf ? 0.0 : rescale(s, m_new);
        l += e;
        const auto v = V.row(j);
        for (std::size_t c = 0; c < dv; ++c) acc[c] += e * static_cast<double>(v[c]);
      }
      m = m_new;
    }

    auto out = O.row(i);
    for (std::size_t c = 0; c < dv; ++c) {
      if (saw_nan) out[c] = kNaN;
      else if (l == 0.0) out[c] = static_cast<float>(acc[c]);  // 0, or NaN from a NaN value
      else out[c] = static_cast<float>(acc[c] / l);
    }
  }
}

}  // namespace attn
