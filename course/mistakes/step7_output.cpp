// Step 7's typical mistakes: attention_output and attention. (course/mistakes/mistake.hpp
// says what an entry is.)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "mistake.hpp"

namespace attn::mistakes::step7 {
namespace {

/// The answer key's attention with a wrong O = A V: the reference's checks and weights (step
/// 5), then `Output` on them, as attention() does by calling attention_output().
template <void (*Output)(const_matrix_view, const_matrix_view, matrix_view)>
void attention_with(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
  std::vector<float> held(O.data, O.data + O.size());  // what O held before the call
  ref::attention(Q, K, V, O, causal);                   // the checks, and the right shape
  std::copy(held.begin(), held.end(), O.data);
  matrix A(Q.rows, K.rows);
  ref::attention_weights(Q, K, A.view(), causal);
  Output(A.view(), V, O);
}

/// O = A V with the weight of key j for query i given by Weight, and each term divided by
/// Divisor; the checks of the reference first.
template <float (*Weight)(const_matrix_view, std::size_t, std::size_t), float (*Divisor)(const_matrix_view)>
void weighted_sum(const_matrix_view A, const_matrix_view V, matrix_view O) {
  ref::attention_output(A, V, O);  // the checks, and the right shape
  for (std::size_t i = 0; i < O.rows; ++i) {
    std::fill(O.row(i).begin(), O.row(i).end(), 0.0f);
    for (std::size_t j = 0; j < A.cols; ++j) {
      const float a = Weight(A, i, j);
      for (std::size_t c = 0; c < O.cols; ++c) O(i, c) += a * V(j, c) / Divisor(A);
    }
  }
}

float given_weight(const_matrix_view A, std::size_t i, std::size_t j) { return A(i, j); }
float uniform_weight(const_matrix_view A, std::size_t, std::size_t) { return 1.0f / static_cast<float>(A.cols); }
float one(const_matrix_view) { return 1.0f; }
float keys(const_matrix_view A) { return static_cast<float>(A.cols); }

struct output_not_zeroed {
  static constexpr info about{
      .step = 7, .id = "output_not_zeroed", .name = "added to O without clearing it first",
      .why = "o_i = sum_j alpha_ij v_j is a fresh sum: adding the terms to whatever O already held "
             "puts that on top of every output, and the tests hand in an O full of NaN, so the "
             "outputs come out NaN",
      .hint = 2};
  static void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
    std::vector<float> held(O.data, O.data + O.size());
    ref::attention_output(A, V, O);  // the checks
    std::copy(held.begin(), held.end(), O.data);
    for (std::size_t i = 0; i < O.rows; ++i) {
      for (std::size_t j = 0; j < A.cols; ++j) {
        const float a = A(i, j);
        for (std::size_t c = 0; c < O.cols; ++c) O(i, c) += a * V(j, c);
      }
    }
  }
  static void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
    attention_with<&output_not_zeroed::attention_output>(Q, K, V, O, causal);
  }
};
ATTN_MISTAKE(output_not_zeroed);

struct output_plain_average {
  static constexpr info about{
      .step = 7, .id = "output_plain_average", .name = "the plain average of the values, ignoring the weights",
      .why = "Each key's value counts by its weight alpha_ij, o_i = sum_j alpha_ij v_j; giving every "
             "key 1/n_k throws away what the scores said (and the causal mask: on the card every "
             "query gets (1 + 2 + 3) / 3 = 2, not the running means 1, 1.5, 2)",
      .hint = 1};
  static void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
    weighted_sum<&uniform_weight, &one>(A, V, O);
  }
  static void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
    attention_with<&output_plain_average::attention_output>(Q, K, V, O, causal);
  }
};
ATTN_MISTAKE(output_plain_average);

struct output_divided_by_keys {
  static constexpr info about{
      .step = 7, .id = "output_divided_by_keys", .name = "divided the weighted sum by n_k",
      .why = "Each row of weights already sums to 1, so sum_j alpha_ij v_j is already an average; "
             "dividing it by n_k again shrinks every output (on the card [0.33, 0.5, 0.67] instead "
             "of [1, 1.5, 2]), and a value shared by every key no longer comes back unchanged",
      .hint = 4};
  static void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
    weighted_sum<&given_weight, &keys>(A, V, O);
  }
  static void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
    attention_with<&output_divided_by_keys::attention_output>(Q, K, V, O, causal);
  }
};
ATTN_MISTAKE(output_divided_by_keys);

struct output_values_transposed {
  static constexpr info about{
      .step = 7, .id = "output_values_transposed", .name = "read V as if it were stored column by column",
      .why = "Row j of V is the value v_j of key j, and V is stored row by row: O(i, c) pairs "
             "alpha_ij with V(j, c) = V.data[j * d_v + c]; reading V.data[c * n_k + j] takes "
             "numbers of other keys and other coordinates (unless d_v = 1 or n_k = 1)",
      .hint = 1};
  static void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
    ref::attention_output(A, V, O);  // the checks: A.cols == V.rows, so c * V.rows + j < V.size()
    for (std::size_t i = 0; i < O.rows; ++i) {
      std::fill(O.row(i).begin(), O.row(i).end(), 0.0f);
      for (std::size_t j = 0; j < A.cols; ++j) {
        const float a = A(i, j);
        for (std::size_t c = 0; c < O.cols; ++c) O(i, c) += a * V.data[c * V.rows + j];
      }
    }
  }
  static void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
    attention_with<&output_values_transposed::attention_output>(Q, K, V, O, causal);
  }
};
ATTN_MISTAKE(output_values_transposed);

struct output_ignores_causal {
  static constexpr info about{
      .step = 7, .id = "output_ignores_causal", .name = "attention does not pass causal on to the weights",
      .why = "Under the causal mask query i may only look at keys 0..i (alpha_ij = 0 for j > i); "
             "weights computed without the mask let future values leak into the past (on the card "
             "every query gets 2 instead of the running means 1, 1.5, 2)",
      .hint = 3};
  static void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool) {
    ref::attention(Q, K, V, O, false);
  }
};
ATTN_MISTAKE(output_ignores_causal);

struct output_shape_not_checked {
  static constexpr info about{
      .step = 7, .id = "output_shape_not_checked", .name = "the shape of O not checked",
      .why = "O must be n_q x d_v (one row per query, one column per value coordinate); filling an "
             "O of another shape writes outside it or leaves part of it unset, so a wrong shape is "
             "refused with std::invalid_argument before anything is written",
      .hint = 1};
  static void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
    if (A.cols != V.rows) return ref::attention_output(A, V, O);
    // What such a loop writes, kept inside O and the inputs: the outputs that fit.
    for (std::size_t i = 0; i < O.rows && i < A.rows; ++i) {
      for (std::size_t c = 0; c < O.cols && c < V.cols; ++c) {
        float sum = 0.0f;
        for (std::size_t j = 0; j < A.cols; ++j) sum += A(i, j) * V(j, c);
        O(i, c) = sum;
      }
    }
  }
};
ATTN_MISTAKE(output_shape_not_checked);

struct output_inner_size_not_checked {
  static constexpr info about{
      .step = 7, .id = "output_inner_size_not_checked", .name = "A.cols == V.rows not checked",
      .why = "Column j of A is the weight of key j and row j of V its value, so A must have one "
             "column per row of V (n_k); with a mismatch some keys have a weight and no value (the "
             "loop reads past V) or a value and no weight, so it is refused with "
             "std::invalid_argument",
      .hint = 1};
  static void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
    if (O.rows != A.rows || O.cols != V.cols) return ref::attention_output(A, V, O);
    // What such a loop computes, kept inside V: the keys that have both a weight and a value.
    for (std::size_t i = 0; i < O.rows; ++i) {
      std::fill(O.row(i).begin(), O.row(i).end(), 0.0f);
      for (std::size_t j = 0; j < A.cols && j < V.rows; ++j) {
        const float a = A(i, j);
        for (std::size_t c = 0; c < O.cols; ++c) O(i, c) += a * V(j, c);
      }
    }
  }
};
ATTN_MISTAKE(output_inner_size_not_checked);

struct output_reads_masked_values {
  static constexpr info about{
      .step = 7, .id = "output_reads_masked_values",
      .name = "the causal attention reads masked value rows (0 x NaN leaks the future)",
      .why = "Under the causal mask query i depends on keys and values 0..i only: a masked key "
             "contributes nothing, whatever its value row holds. A V as a whole multiplies the "
             "weight 0 of every future key by its value, and 0 x NaN = NaN (0 x inf too), so one NaN "
             "in a future value row makes every earlier output NaN; take row i of O from the first "
             "i + 1 weights and value rows only",
      .hint = 3};
  static void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
    ref::attention(Q, K, V, O, causal);  // the checks, and the right shape
    matrix A(Q.rows, K.rows);
    ref::attention_weights(Q, K, A.view(), causal);
    ref::attention_output(A.view(), V, O);  // every key's value, masked or not
  }
};
ATTN_MISTAKE(output_reads_masked_values);

struct output_skips_zero_weights {
  static constexpr info about{
      .step = 7, .id = "output_skips_zero_weights", .name = "skips zero weights in attention_output",
      .why = "The output O = A V has no mask: every term alpha_ij v_j counts, and 0 x NaN = NaN "
             "(0 x inf too), so a NaN value behind a weight of 0 must make that output NaN (NaN in, "
             "NaN out); skipping the terms with A(i, j) == 0 hides it",
      .hint = 2};
  static void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
    ref::attention_output(A, V, O);  // the checks, and the right shape
    for (std::size_t i = 0; i < O.rows; ++i) {
      std::fill(O.row(i).begin(), O.row(i).end(), 0.0f);
      for (std::size_t j = 0; j < A.cols; ++j) {
        const float a = A(i, j);
        if (a == 0.0f) continue;
        for (std::size_t c = 0; c < O.cols; ++c) O(i, c) += a * V(j, c);
      }
    }
  }
};
ATTN_MISTAKE(output_skips_zero_weights);

struct output_refusal_omits_sizes {
  static constexpr info about{
      .step = 7, .id = "output_refusal_omits_sizes",
      .name = "the error for mismatched shapes does not give the sizes",
      .why = "A message like \"A, V and O do not fit\" names attn::attention_output but not the shapes, so the caller "
             "cannot tell which of the three was wrong; the contract asks for a message naming the "
             "sizes (\"A is 2 x 3 but V is 4 x 4; expected one row of V per column of A\")",
      .hint = 1};
  static void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
    if (A.cols != V.rows || O.rows != A.rows || O.cols != V.cols) {
      invalid_input("attn::attention_output",
                    "A, V and O do not fit; expected A n_q x n_k, V n_k x d_v and O n_q x d_v");
    }
    ref::attention_output(A, V, O);
  }
};
ATTN_MISTAKE(output_refusal_omits_sizes);

struct attention_refusal_names_output {
  static constexpr info about{
      .step = 7, .id = "attention_refusal_names_output",
      .name = "attention lets attention_output refuse its V or O",
      .why = "An attention() that checks nothing itself passes a V or O of the wrong shape on to "
             "attention_output, whose message names attn::attention_output: the caller called "
             "attn::attention and reads about a function it never called; check V.rows == K.rows and "
             "the shape of O in attention first, with a message naming attn::attention",
      .hint = 3};
  static void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
    if (V.rows != K.rows || O.rows != Q.rows || O.cols != V.cols) {
      // The weights (step 5 checks Q and K), then attention_output, which refuses V or O.
      matrix A(Q.rows, K.rows);
      ref::attention_weights(Q, K, A.view(), causal);
      ref::attention_output(A.view(), V, O);
      return;
    }
    ref::attention(Q, K, V, O, causal);  // right on good input
  }
};
ATTN_MISTAKE(attention_refusal_names_output);

struct attention_causal_past_last_key {
  static constexpr info about{
      .step = 7, .id = "attention_causal_past_last_key", .name = "the causal loop runs to key i even past the last key",
      .why = "The causal mask is top-left aligned: query i sees keys 0..min(i, n_k - 1). With more queries than "
             "keys (n_q > n_k) a loop over j <= i reads weights and rows of K and V past the last key, which do "
             "not exist, so the outputs of the queries i >= n_k are garbage (or the program crashes); stop at "
             "min(i + 1, n_k)",
      .hint = 3};
  static void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
    ref::attention(Q, K, V, O, causal);  // the checks, and the output where no loop runs past the end
    if (!causal || Q.rows <= K.rows || K.rows == 0) return;
    // The rows past the end read as copies of the last one (in bounds, and as wrong).
    const matrix K_past = last_row_repeated(K, Q.rows), V_past = last_row_repeated(V, Q.rows);
    ref::attention(Q, K_past.view(), V_past.view(), O, true);
  }
};
ATTN_MISTAKE(attention_causal_past_last_key);

struct attention_inf_minus_inf {
  static constexpr info about{
      .step = 7, .id = "attention_inf_minus_inf", .name = "+inf scores give NaN in attention (exp(inf - inf))",
      .why = "In a row whose max is +inf each +inf score gets e^(beta - m) = e^0 = 1 and every other key 0, so "
             "the +inf keys share the weight equally and the output is the mean of their values (the rule of "
             "stable_softmax, step 5); computing std::exp(beta - m) as it stands gives e^(inf - inf) = NaN, and "
             "that query's output is NaN. The step 5 attention_weights has the rule",
      .hint = 3};
  static void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
    ref::attention(Q, K, V, O, causal);  // the checks, and the output of the rows without a +inf score
    matrix S(Q.rows, K.rows);
    ref::scores(Q, K, S.view());
    if (causal) ref::apply_causal_mask(S.view());
    for (std::size_t i = 0; i < Q.rows; ++i) {
      const std::size_t visible = causal ? std::min(i + 1, K.rows) : K.rows;
      float m = -std::numeric_limits<float>::infinity();
      for (std::size_t j = 0; j < visible; ++j) m = std::max(m, S(i, j));
      if (m != std::numeric_limits<float>::infinity()) continue;
      float sum = 0.0f;
      for (std::size_t j = 0; j < visible; ++j) sum += std::exp(S(i, j) - m);
      for (std::size_t c = 0; c < O.cols; ++c) {
        float o = 0.0f;
        for (std::size_t j = 0; j < visible; ++j) o += std::exp(S(i, j) - m) / sum * V(j, c);
        O(i, c) = o;
      }
    }
  }
};
ATTN_MISTAKE(attention_inf_minus_inf);

struct attention_no_keys_untouched {
  static constexpr info about{
      .step = 7, .id = "attention_no_keys_untouched", .name = "attention returns without writing O when there are no keys",
      .why = "With n_k = 0 every query has nothing to attend to and its output is the empty sum, 0: attention() is "
             "attention_weights() then attention_output(), which writes the zeros. Returning early leaves O "
             "holding whatever it held, and the tests hand in an O full of NaN",
      .hint = 3};
  static void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal) {
    const std::vector<float> held(O.data, O.data + O.size());
    ref::attention(Q, K, V, O, causal);  // the checks
    if (K.rows == 0) std::copy(held.begin(), held.end(), O.data);  // "nothing to do"
  }
};
ATTN_MISTAKE(attention_no_keys_untouched);

}  // namespace
}  // namespace attn::mistakes::step7
