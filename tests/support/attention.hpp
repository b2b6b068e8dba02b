// Expected attention outputs and their bounds, shared by the tests of steps 7 and 9: the
// reference's scores and weights for Q and K, and from them one absolute bound per output
// element (tolerances.hpp: attention_row or streaming_attention_row for the weights, then
// attention_output for the weighted sum of the values).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <attn/attn.hpp>

#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/oracle.hpp"
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
/// comparing another implementation with it (implementations = 2). Under the causal mask the
/// value rows of masked keys (j > i) play no part in query i's output or bounds, NaN or not. `streaming` selects the
/// weight bound of a one-pass computation (tol::streaming_attention_row), which also covers
/// two passes.
inline expected_attention reference_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                                              bool causal, bool streaming, int implementations = 2) {
  const std::size_t nq = Q.rows, nk = K.rows, dv = V.cols;
  expected_attention e{matrix(nq, nk), matrix(nq, nk), matrix(nq, dv), {}};
  ref::scores(Q, K, e.beta.view());
  if (causal) ref::apply_causal_mask(e.beta.view());
  ref::attention_weights(Q, K, e.weights.view(), causal);
  // attn::ref::attention, not attention_output(weights, V): under the causal mask a masked
  // key contributes nothing, whatever its value row holds (0 x NaN is not taken).
  ref::attention(Q, K, V, e.output.view(), causal);
  std::vector<float> column(nk);
  for (std::size_t i = 0; i < nq; ++i) {
    const double score_error = tol::visible_score_error(Q.row(i), K, tol::visible_keys(i, nk, causal), implementations);
    const auto b = exact_where_masked(
        streaming ? tol::streaming_attention_row(e.beta.row(i), e.weights.row(i), score_error, implementations)
                  : tol::attention_row(e.beta.row(i), e.weights.row(i), score_error, implementations),
        e.beta.row(i));
    for (std::size_t c = 0; c < dv; ++c) {
      for (std::size_t j = 0; j < nk; ++j) column[j] = causal && j > i ? 0.0f : V(j, c);  // masked: not read
      e.bounds.push_back(tol::attention_output(b, e.weights.row(i), column, implementations));
    }
  }
  return e;
}

/// The first `k` rows of M, as a matrix of their own (attention over the first k keys).
inline matrix first_rows(const matrix& M, std::size_t k) {
  matrix top(k, M.cols());
  for (std::size_t r = 0; r < k; ++r) std::copy(M.row(r).begin(), M.row(r).end(), top.row(r).begin());
  return top;
}

/// The ways a masked key's row can be poisoned: NaN or inf in its value row or its key row.
inline constexpr const char* masked_row_poisons[] = {"V NaN", "V inf", "K NaN", "K inf"};

/// Row `k` of V or K (as `poison`, one of masked_row_poisons, says) set to NaN or inf.
inline void poison_row(matrix& K, matrix& V, std::size_t k, std::string_view poison) {
  const float x = poison[2] == 'N' ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  for (float& v : (poison[0] == 'V' ? V.row(k) : K.row(k))) v = x;
}

/// The check that a causal attention reads no row of a masked key, for any causal
/// attention `run(Q, K, V, O)` (step 7's attention, step 9's streaming_attention): with row k
/// of K or V poisoned (each of masked_row_poisons), queries 0..k-1 must equal attention over
/// the first k keys and queries, within the reference's bounds (`streaming`: those of one
/// pass), and with NaN the queries from k on must be NaN (NaN in, NaN out). `what` names the
/// call in the messages.
template <class Run>
void check_masked_rows_unread(const std::string& what, const matrix& Q, const matrix& K, const matrix& V,
                              std::initializer_list<std::size_t> rows, bool streaming, Run run) {
  const std::size_t n = Q.rows(), dv = V.cols();
  for (const std::size_t k : rows) {
    const auto e = reference_attention(first_rows(Q, k), first_rows(K, k), first_rows(V, k), true, streaming);
    for (const char* poison : masked_row_poisons) {
      matrix Kp = K, Vp = V;
      poison_row(Kp, Vp, k, poison);
      matrix O(n, dv, std::numeric_limits<float>::quiet_NaN());
      run(Q, Kp, Vp, O);
      const std::string call = what + " with row " + std::to_string(k) + " of " + std::string(poison);
      ATTN_CHECK_ALL_CLOSE(call + ": queries 0.." + std::to_string(k - 1) + " (they cannot see key " +
                               std::to_string(k) + ")",
                           e.output, const_matrix_view(O.view().data, k, dv), e.bounds,
                           inputs().add("Q", Q).add("K", Kp).add("V", Vp));
      if (poison[2] == 'N') {
        ATTN_CHECK_ALL_CLOSE(call + ": queries " + std::to_string(k) + ".. see it (NaN in, NaN out)",
                             std::vector<double>((n - k) * dv, std::numeric_limits<double>::quiet_NaN()),
                             const_matrix_view(O.view().data + k * dv, n - k, dv), 0.0,
                             inputs().add("Q", Q).add("K", Kp).add("V", Vp));
      }
    }
  }
}

/// The exact output of attention(Q, K, V, causal) in double, from oracle::attention_weights
/// (the scores in double, the contract's special rows): o_ic = sum_j alpha_ij V(j, c) over the
/// keys query i sees, j < n_k and, under the causal mask, j <= i (top-left aligned: with more
/// queries than keys, query i >= n_k sees every key). Masked keys are not read. n_q x d_v,
/// row-major.
inline std::vector<double> oracle_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                                            bool causal) {
  const std::size_t nq = Q.rows, nk = K.rows, d = Q.cols, dv = V.cols;
  const std::vector<double> A = oracle::attention_weights(std::span<const float>(Q.data, nq * d),
                                                          std::span<const float>(K.data, nk * d), nq, nk, d, causal);
  std::vector<double> O(nq * dv, 0.0);
  for (std::size_t i = 0; i < nq; ++i) {
    const std::size_t visible = causal ? std::min(i + 1, nk) : nk;
    for (std::size_t c = 0; c < dv; ++c) {
      double o = 0.0;
      for (std::size_t j = 0; j < visible; ++j) o += A[i * nk + j] * static_cast<double>(V(j, c));
      O[i * dv + c] = o;
    }
  }
  return O;
}

/// The check that a causal attention with more queries than keys lets query i >= n_k see
/// all n_k keys and never a key past the last (the mask is top-left aligned), for any causal
/// attention `run(Q, K, V, O)`: on a few shapes n_q > n_k, against the double oracle
/// (oracle_attention) within the reference's bounds (`streaming`: those of one pass), with
/// nothing outside O written. `what` names the call; `seed` salts the inputs.
template <class Run>
void check_more_queries_than_keys(const std::string& what, std::uint64_t seed, bool streaming, Run run) {
  auto gen = rng(seed);
  const std::size_t shapes[][3] = {{5, 3, 4}, {8, 3, 2}, {4, 1, 3}, {6, 2, 1}};  // n_q, n_k, d
  for (const auto& [nq, nk, d] : shapes) {
    const std::size_t dv = 1 + (nq + d) % 3;
    const matrix Q = gaussian_matrix(gen, nq, d), K = gaussian_matrix(gen, nk, d);
    const matrix V = uniform_matrix(gen, nk, dv, -4.0f, 4.0f);
    const auto exact = oracle_attention(Q, K, V, true);
    const auto e = reference_attention(Q, K, V, true, streaming);  // the bounds
    guarded_matrix O(nq, dv, std::numeric_limits<float>::quiet_NaN());
    run(Q, K, V, O.view());
    const std::string call = what + " with more queries than keys, Q " + shape(nq, d) + ", K " + shape(nk, d) +
                             ", V " + shape(nk, dv) + " (queries " + std::to_string(nk) + ".. see all " +
                             std::to_string(nk) + " keys)";
    ATTN_CHECK_ALL_CLOSE(call, exact, O.view(), e.bounds, inputs().add("Q", Q).add("K", K).add("V", V));
    INFO(call << ": nothing outside O may be written");
    CHECK(O.intact());
  }
}

}  // namespace attn::test
