// Step 11's typical mistakes: attention_backward. (course/mistakes/mistake.hpp says what an
// entry is.)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "mistake.hpp"

namespace attn::mistakes::step11 {
namespace {

/// What a wrong attention_backward does differently from the answer key.
struct slip {
  bool scaled = true;            ///< dQ and dK divided by sqrt(d)
  bool through_softmax = true;   ///< dS = A (dA - <dA, A>), not dA
  bool causal_honoured = true;   ///< the mask applied when asked for
  bool masked_read = false;      ///< the loops run over every key, masked ones included
  bool cleared = true;           ///< the outputs set to 0 first
  bool zero_weights_skipped = false;  ///< keys of weight 0 left out of every sum
  bool dk_transposed = true;     ///< dK = dS^T Q, not dS Q
};

/// The answer key's loops (double sums for dA and <dA, A>), after the reference's checks,
/// with the slips of `s`.
void backward_with(const_matrix_view Q, const_matrix_view K, const_matrix_view V, const_matrix_view dO, bool causal,
                   matrix_view dQ, matrix_view dK, matrix_view dV, slip s) {
  std::vector<float> held_q(dQ.data, dQ.data + dQ.size()), held_k(dK.data, dK.data + dK.size()),
      held_v(dV.data, dV.data + dV.size());  // what the outputs held before the call
  ref::attention_backward(Q, K, V, dO, causal, dQ, dK, dV);  // the checks
  const std::size_t nq = Q.rows, nk = K.rows, d = Q.cols, dv = V.cols;
  const bool mask = causal && s.causal_honoured;
  matrix A(nq, nk), dS(nq, nk);
  ref::attention_weights(Q, K, A.view(), mask);
  if (s.cleared) {
    std::fill(dQ.data, dQ.data + dQ.size(), 0.0f);
    std::fill(dK.data, dK.data + dK.size(), 0.0f);
    std::fill(dV.data, dV.data + dV.size(), 0.0f);
  } else {
    std::copy(held_q.begin(), held_q.end(), dQ.data);
    std::copy(held_k.begin(), held_k.end(), dK.data);
    std::copy(held_v.begin(), held_v.end(), dV.data);
  }
  const float scale = s.scaled ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(d))) : 1.0f;
  std::vector<float> dA(nk);
  for (std::size_t i = 0; i < nq; ++i) {
    const std::size_t keys = mask && !s.masked_read ? std::min(nk, i + 1) : nk;
    const auto skipped = [&](std::size_t j) { return s.zero_weights_skipped && A(i, j) == 0.0f; };
    double c = 0.0;
    for (std::size_t j = 0; j < keys; ++j) {
      double sum = 0.0;
      for (std::size_t t = 0; t < dv; ++t) sum += static_cast<double>(dO(i, t)) * V(j, t);
      dA[j] = static_cast<float>(sum);
      if (!skipped(j)) c += static_cast<double>(A(i, j)) * dA[j];
    }
    for (std::size_t j = 0; j < keys; ++j) {
      if (skipped(j)) continue;
      dS(i, j) = s.through_softmax ? A(i, j) * (dA[j] - static_cast<float>(c)) : dA[j];
      const float ds = dS(i, j) * scale;
      for (std::size_t t = 0; t < dv; ++t) dV(j, t) += A(i, j) * dO(i, t);
      for (std::size_t t = 0; t < d; ++t) {
        dQ(i, t) += ds * K(j, t);
        if (s.dk_transposed) dK(j, t) += ds * Q(i, t);
      }
    }
  }
  if (!s.dk_transposed) {
    // dK_jt = sum_i dS_ji Q_it: row j of dS where column j belongs. A loop written that way runs
    // past dS's rows (or Q's) when n_q != n_k; kept here to the part both have.
    const std::size_t both = std::min(nq, nk);
    for (std::size_t j = 0; j < both; ++j) {
      for (std::size_t t = 0; t < d; ++t) {
        for (std::size_t i = 0; i < both; ++i) dK(j, t) += dS(j, i) * scale * Q(i, t);
      }
    }
  }
}

/// An entry's attention_backward: the answer key with the slips of S.
template <slip S>
struct entry_of {
  static void attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V, const_matrix_view dO, bool causal,
                  matrix_view dQ, matrix_view dK, matrix_view dV) {
    backward_with(Q, K, V, dO, causal, dQ, dK, dV, S);
  }
};

struct backward_no_inv_sqrt_d : entry_of<slip{.scaled = false}> {
  static constexpr info about{
      .step = 11, .id = "backward_no_inv_sqrt_d", .name = "dQ and dK without the 1/sqrt(d)",
      .why = "The scores are S = Q K^T / sqrt(d), so dS reaches Q and K through that same factor: "
             "dQ = dS K / sqrt(d) and dK = dS^T Q / sqrt(d); without it both gradients are sqrt(d) "
             "times too large (8 times at d = 64), and a training step on Q and K overshoots",
      .hint = 2};
};

struct backward_skips_softmax : entry_of<slip{.through_softmax = false}> {
  static constexpr info about{
      .step = 11, .id = "backward_skips_softmax", .name = "dS = dA: the softmax backward skipped",
      .why = "Between the weights A and the scores S sits the softmax: dS_ij = A_ij (dA_ij - <dA_i, A_i>), "
             "step 10's softmax_backward of each row. Taking dA for dS treats the weights as the scores: "
             "it moves every score by <dO_i, v_j>, even when raising all of a query's scores together "
             "cannot change its weights at all",
      .hint = 1};
};

struct backward_ignores_mask : entry_of<slip{.causal_honoured = false}> {
  static constexpr info about{
      .step = 11, .id = "backward_ignores_mask", .name = "the causal mask left out of the backward pass",
      .why = "The backward pass must use the forward pass's weights: with causal = true, A comes from "
             "attention_weights(Q, K, A, true), where query i sees keys 0..i only; without the mask every "
             "query gets gradient from, and sends it to, the keys of the future",
      .hint = 3};
};

struct backward_reads_masked_keys : entry_of<slip{.masked_read = true}> {
  static constexpr info about{
      .step = 11, .id = "backward_reads_masked_keys", .name = "loops over the masked keys too",
      .why = "A masked key has weight 0, but 0 x NaN = NaN: a loop over every key reads the rows of K and V "
             "that query i must not see, so NaN or inf there leaks into <dA_i, A_i> and every gradient of "
             "that query. Under the causal mask query i works on keys 0..i only, as attention() does",
      .hint = 3};
};

struct backward_outputs_not_cleared : entry_of<slip{.cleared = false}> {
  static constexpr info about{
      .step = 11, .id = "backward_outputs_not_cleared", .name = "dQ, dK and dV added to without clearing them",
      .why = "dV_j = sum_i A_ij dO_i and dK_j = sum_i dS_ij q_i / sqrt(d) are sums over the queries, built up "
             "with +=: on outputs that were not set to 0 first they land on top of whatever was there (the "
             "tests hand in outputs full of NaN, or the last call's gradients)",
      .hint = 2};
};

struct backward_skips_zero_weights : entry_of<slip{.zero_weights_skipped = true}> {
  static constexpr info about{
      .step = 11, .id = "backward_skips_zero_weights", .name = "skips the keys whose weight is 0",
      .why = "A visible key with weight 0 (a score far below the others, or -inf) still takes part: "
             "dA_ij = <dO_i, v_j> enters <dA_i, A_i> as 0 x dA_ij, which is NaN when its value row holds "
             "NaN (NaN in, NaN out). Leaving such keys out hides the NaN",
      .hint = 3};
};

struct backward_dk_not_transposed : entry_of<slip{.dk_transposed = false}> {
  static constexpr info about{
      .step = 11, .id = "backward_dk_not_transposed", .name = "dK = dS Q instead of dS^T Q",
      .why = "Key j's score with query i is S_ij, so dK_j = sum_i dS_ij q_i / sqrt(d) sums down column j "
             "of dS, over the queries; dS Q takes row j instead, the scores of query j, and does not even "
             "fit when n_q != n_k",
      .hint = 2};
};

struct backward_refusal_omits_sizes {
  static constexpr info about{
      .step = 11, .id = "backward_refusal_omits_sizes", .name = "the error for a wrong shape does not give the sizes",
      .why = "A message like \"dO has the wrong shape\" names attn::attention_backward but not the sizes, so the "
             "caller cannot tell which matrix is wrong or what it should be; the contract asks for both "
             "(\"dO is 2 x 6; expected 2 x 5 (n_q x d_v, the shape of the output O)\")",
      .hint = 4};
  static void attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V, const_matrix_view dO,
                                 bool causal, matrix_view dQ, matrix_view dK, matrix_view dV) {
    const bool right = V.rows == K.rows && dO.rows == Q.rows && dO.cols == V.cols && dQ.rows == Q.rows &&
                       dQ.cols == Q.cols && dK.rows == K.rows && dK.cols == K.cols && dV.rows == V.rows &&
                       dV.cols == V.cols;
    if (!right) attn::invalid_input("attn::attention_backward", "a matrix has the wrong shape");
    ref::attention_backward(Q, K, V, dO, causal, dQ, dK, dV);
  }
};

ATTN_MISTAKE(backward_no_inv_sqrt_d);
ATTN_MISTAKE(backward_skips_softmax);
ATTN_MISTAKE(backward_ignores_mask);
ATTN_MISTAKE(backward_reads_masked_keys);
ATTN_MISTAKE(backward_outputs_not_cleared);
ATTN_MISTAKE(backward_skips_zero_weights);
ATTN_MISTAKE(backward_dk_not_transposed);
ATTN_MISTAKE(backward_refusal_omits_sizes);

}  // namespace
}  // namespace attn::mistakes::step11
