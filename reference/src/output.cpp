// Steps 7 and 9 of the reference: the attention output O = A V, the whole of attention,
// and attention in one pass over the keys (the online softmax of Milakov and Gimelshein
// 2018 carried into the output, as FlashAttention does).
//
// Both accumulate value rows into an output row with the scale_add kernel (y = c y + w x):
// row i of O is a sum over keys, so the inner loop runs along d_v, contiguous in V and O.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <attn/errors.hpp>
#include <attn/reference.hpp>

#include "online_exp.hpp"

#include "kernel_table.hpp"
#include "shapes.hpp"

namespace attn::ref {
using detail::exp_below;
using detail::infinity;
using detail::quiet_nan;

void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  detail::check_value_shapes("attn::ref::attention_output", A.rows, A.cols, "A (n_q x n_k)", V, O);
  const detail::kernel_table& kernels = detail::active_kernels();
  for (std::size_t i = 0; i < O.rows; ++i) {
    float* o = O.data + i * O.cols;
    std::fill(o, o + O.cols, 0.0f);
    for (std::size_t j = 0; j < A.cols; ++j) kernels.scale_add(o, 1.0f, A(i, j), V.data + j * V.cols, V.cols);
  }
}

// Under the causal mask query i reads keys and values 0..i only: a masked key contributes
// nothing, whatever its value row holds (NaN and inf included), as if it were not there.
// Every visible key takes part, even with a weight of 0 (0 x NaN = NaN: NaN in, NaN out).
void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
  detail::check_score_shapes("attn::ref::attention", Q, K, matrix_view(nullptr, Q.rows, K.rows), "A");
  detail::check_value_shapes("attn::ref::attention", Q.rows, K.rows, "K (n_k x d)", V, O);
  matrix A(Q.rows, K.rows);
  ref::attention_weights(Q, K, A.view(), causal);
  if (!causal) {
    ref::attention_output(A.view(), V, O);
    return;
  }
  const detail::kernel_table& kernels = detail::active_kernels();
  for (std::size_t i = 0; i < O.rows; ++i) {
    float* o = O.data + i * O.cols;
    std::fill(o, o + O.cols, 0.0f);
    const std::size_t visible = std::min(K.rows, i + 1);
    for (std::size_t j = 0; j < visible; ++j) kernels.scale_add(o, 1.0f, A(i, j), V.data + j * V.cols, V.cols);
  }
}

// For each query: running max m, running sum l and unnormalised output o. A block of keys
// raises the max to m'; l and o are rescaled by e^(m - m') (0 while nothing has been seen:
// e^(-inf) = 0), then each key adds e^(beta - m') to l and e^(beta - m') v_j to o. Only the
// keys the causal mask leaves visible are read; each of them adds its term even when its
// weight is 0 (a score of -inf, or one that underflows), so that a NaN or inf value row
// gives NaN as it does in attention() (0 x NaN), and a query with nothing to attend to gets
// 0 v_j summed: zeros for finite values.
void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                         bool causal, std::size_t block_size) {
  detail::check_score_shapes("attn::ref::streaming_attention", Q, K, matrix_view(nullptr, Q.rows, K.rows), "A");
  detail::check_value_shapes("attn::ref::streaming_attention", Q.rows, K.rows, "K (n_k x d)", V, O);
  if (block_size == 0) {
    invalid_input("attn::ref::streaming_attention", "block_size is 0; expected at least 1 key per block");
  }
  const detail::kernel_table& kernels = detail::active_kernels();
  const std::size_t d = Q.cols, d_v = V.cols;
  const float sqrt_d = std::sqrt(static_cast<float>(d));
  std::vector<float> beta(block_size);
  for (std::size_t i = 0; i < Q.rows; ++i) {
    float* o = O.data + i * d_v;
    std::fill(o, o + d_v, 0.0f);
    float m = -infinity, l = 0.0f;
    bool nan = false;
    const std::size_t visible = causal ? std::min(K.rows, i + 1) : K.rows;
    for (std::size_t start = 0; start < visible && !nan; start += block_size) {
      const std::size_t count = std::min(block_size, visible - start);
      for (std::size_t t = 0; t < count; ++t) {
        beta[t] = kernels.dot(Q.data + i * d, K.data + (start + t) * d, d) / sqrt_d;
      }
      const float block_max = kernels.max(beta.data(), count);  // NaN if any score is NaN
      if (std::isnan(block_max)) {
        nan = true;
        break;
      }
      // The rescale of o rides on the block's first scale_add (y = c y + w x).
      float rescale = 1.0f;
      if (block_max > m) {
        rescale = std::exp(m - block_max);  // m < block_max: never inf - inf
        l *= rescale;
        m = block_max;
      }
      if (m == -infinity) {
        // Every score so far is -inf: weight 0 each, but their values still take part.
        for (std::size_t t = 0; t < count; ++t) kernels.scale_add(o, 1.0f, 0.0f, V.data + (start + t) * d_v, d_v);
        continue;
      }
      for (std::size_t t = 0; t < count; ++t) {
        const float p = exp_below(beta[t], m);
        l += p;
        kernels.scale_add(o, t == 0 ? rescale : 1.0f, p, V.data + (start + t) * d_v, d_v);
      }
    }
    if (nan) {
      std::fill(o, o + d_v, quiet_nan);
    } else if (l != 0.0f) {
      kernels.divide(o, l, d_v);
    }  // l == 0: nothing to attend to; o holds 0 v_j summed (zeros, or NaN from a NaN or inf value)
  }
}

}  // namespace attn::ref
