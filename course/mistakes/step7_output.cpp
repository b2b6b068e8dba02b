// Step 7's typical mistakes: attention_output and attention. (course/mistakes/mistake.hpp
// says what an entry is.)
#include <algorithm>
#include <cstddef>
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

}  // namespace
}  // namespace attn::mistakes::step7
