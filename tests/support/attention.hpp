// Expected attention outputs and their bounds, shared by the tests of steps 7 and 9: the
// reference's scores and weights for Q and K, and from them one absolute bound per output
// element (tolerances.hpp: attention_row or streaming_attention_row for the weights, then
// attention_output for the weighted sum of the values).
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include <attn/attn.hpp>

#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/tolerances.hpp"

namespace attn::test {

/// The reference's view of one attention problem: masked scores, weights and output.
struct expected_attention {
  matrix beta;     ///< n_q x n_k scaled scores, -inf where masked
  matrix weights;  ///< n_q x n_k
  matrix output;   ///< n_q x d_v
  std::vector<double> bounds;  ///< one per output element, for `implementations` implementations
};

/// Computes the expected output of attention(Q, K, V, causal) with attn::ref, and bounds for
/// comparing another implementation with it (implementations = 2). `streaming` selects the
/// weight bound of a one-pass computation (tol::streaming_attention_row), which also covers
/// two passes.
inline expected_attention reference_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                                              bool causal, bool streaming, int implementations = 2) {
  const std::size_t nq = Q.rows, nk = K.rows, dv = V.cols;
  expected_attention e{matrix(nq, nk), matrix(nq, nk), matrix(nq, dv), {}};
  ref::scores(Q, K, e.beta.view());
  if (causal) ref::apply_causal_mask(e.beta.view());
  ref::attention_weights(Q, K, e.weights.view(), causal);
  ref::attention_output(e.weights.view(), V, e.output.view());
  std::vector<float> column(nk);
  for (std::size_t i = 0; i < nq; ++i) {
    double score_error = 0.0;
    for (std::size_t j = 0; j < nk; ++j) {  // masked scores (-inf) give weight exactly 0: no error
      if (e.beta(i, j) == -std::numeric_limits<float>::infinity()) continue;
      score_error = std::max(score_error, tol::scaled_score(Q.cols, sum_abs_products(Q.row(i), K.row(j)), implementations));
    }
    const auto b = exact_where_masked(
        streaming ? tol::streaming_attention_row(e.beta.row(i), e.weights.row(i), score_error, implementations)
                  : tol::attention_row(e.beta.row(i), e.weights.row(i), score_error, implementations),
        e.beta.row(i));
    for (std::size_t c = 0; c < dv; ++c) {
      for (std::size_t j = 0; j < nk; ++j) column[j] = V(j, c);
      e.bounds.push_back(tol::attention_output(b, e.weights.row(i), column, implementations));
    }
  }
  return e;
}

}  // namespace attn::test
