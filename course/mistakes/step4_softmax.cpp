// Step 4's typical mistakes: softmax and softmax_rows. (course/mistakes/mistake.hpp says
// what an entry is.)
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "mistake.hpp"

namespace attn::mistakes::step4 {
namespace {

using std::span;

/// softmax_rows as the answer key writes it, with the given (wrong) softmax on each row.
template <void (*Softmax)(span<float>)>
void each_row(matrix_view S) {
  for (std::size_t i = 0; i < S.rows; ++i) Softmax(S.row(i));
}

struct sums_scores_not_exponentials {
  static constexpr info about{
      .step = 4, .id = "sums_scores_not_exponentials", .name = "the denominator sums the scores, not their exponentials",
      .why = "a_j = exp(s_j) / sum_l exp(s_l): numerator and denominator are both "
             "exponentials, which is what makes the weights sum to 1. Dividing by the sum of the raw "
             "scores (6 on the card's [1, 2, 3], instead of 30.19) gives weights that need not sum to 1 "
             "or even be positive",
      .hint = 1};
  static void softmax(span<float> row) {
    double sum = 0.0;
    for (float& s : row) {
      sum += s;
      s = std::exp(s);
    }
    for (float& e : row) e = static_cast<float>(e / sum);
  }
  static void softmax_rows(matrix_view S) { each_row<&sums_scores_not_exponentials::softmax>(S); }
};
ATTN_MISTAKE(sums_scores_not_exponentials);

struct no_exponential {
  static constexpr info about{
      .step = 4, .id = "no_exponential", .name = "the scores divided by their sum, without exp",
      .why = "Softmax exponentiates first: a_j = exp(s_j) / sum_l exp(s_l). Plain s_j / "
             "sum_l s_l turns negative scores into negative weights, divides by 0 when the "
             "scores cancel, and on the card gives 2/6 = 0.333 instead of 0.2447",
      .hint = 1};
  static void softmax(span<float> row) {
    double sum = 0.0;
    for (const float s : row) sum += s;
    for (float& e : row) e = static_cast<float>(e / sum);
  }
  static void softmax_rows(matrix_view S) { each_row<&no_exponential::softmax>(S); }
};
ATTN_MISTAKE(no_exponential);

struct divides_by_running_sum {
  static constexpr info about{
      .step = 4, .id = "divides_by_running_sum", .name = "divided inside the first loop, by a partial sum",
      .why = "Each weight is divided by the sum over the WHOLE row; dividing while the sum is still "
             "being added up gives position j only exp(s_0) + ... + exp(s_j), so the first "
             "weight is always 1 and the row sums to more than 1",
      .hint = 2};
  static void softmax(span<float> row) {
    double sum = 0.0;
    for (float& s : row) {
      s = std::exp(s);
      sum += s;
      s = static_cast<float>(s / sum);
    }
  }
  static void softmax_rows(matrix_view S) { each_row<&divides_by_running_sum::softmax>(S); }
};
ATTN_MISTAKE(divides_by_running_sum);

struct epsilon_in_denominator {
  static constexpr info about{
      .step = 4, .id = "epsilon_in_denominator", .name = "a safety epsilon added to the sum",
      .why = "The sum of exponentials is never 0 for a row with a finite score, so e / (sum + 1e-6) "
             "protects nothing and changes every weight: the row no longer sums to 1, and a single "
             "score of -30 (exp = 9.4e-14) gets weight about 1e-7 instead of 1",
      .hint = 4};
  static void softmax(span<float> row) {
    double sum = 0.0;
    for (float& s : row) {
      s = std::exp(s);
      sum += s;
    }
    for (float& e : row) e = static_cast<float>(e / (sum + 1e-6));
  }
  static void softmax_rows(matrix_view S) { each_row<&epsilon_in_denominator::softmax>(S); }
};
ATTN_MISTAKE(epsilon_in_denominator);

struct nan_skipped_in_sum {
  static constexpr info about{
      .step = 4, .id = "nan_skipped_in_sum", .name = "NaN scores skipped in the sum",
      .why = "A NaN score means the row's weights are undefined, and the contract asks for NaN in "
             "every weight so the problem shows; skipping it normalises the other scores among "
             "themselves and hides the bad input",
      .hint = 4};
  static void softmax(span<float> row) {
    double sum = 0.0;
    for (float& s : row) {
      if (std::isnan(s)) continue;
      s = std::exp(s);
      sum += s;
    }
    for (float& e : row) e = static_cast<float>(e / sum);
  }
  static void softmax_rows(matrix_view S) { each_row<&nan_skipped_in_sum::softmax>(S); }
};
ATTN_MISTAKE(nan_skipped_in_sum);

struct rows_normalises_columns {
  static constexpr info about{
      .step = 4, .id = "rows_normalises_columns", .name = "softmax_rows normalises the columns",
      .why = "Row i of S holds query i's scores beta_ij over the keys j, and it is each query's "
             "weights alpha_ij that sum to 1; a softmax down column j mixes different queries' "
             "scores for one key",
      .hint = 3};
  static void softmax_rows(matrix_view S) {
    std::vector<float> column(S.rows);
    for (std::size_t j = 0; j < S.cols; ++j) {
      for (std::size_t i = 0; i < S.rows; ++i) column[i] = S(i, j);
      ref::softmax(column);
      for (std::size_t i = 0; i < S.rows; ++i) S(i, j) = column[i];
    }
  }
};
ATTN_MISTAKE(rows_normalises_columns);

struct rows_skips_last_row {
  static constexpr info about{
      .step = 4, .id = "rows_skips_last_row", .name = "softmax_rows stops one row early",
      .why = "With i + 1 < S.rows the last query's row is left as raw scores: every query needs its "
             "weights, the last one included",
      .hint = 3};
  static void softmax_rows(matrix_view S) {
    for (std::size_t i = 0; i + 1 < S.rows; ++i) ref::softmax(S.row(i));
  }
};
ATTN_MISTAKE(rows_skips_last_row);

struct rows_bounded_by_cols {
  static constexpr info about{
      .step = 4, .id = "rows_bounded_by_cols", .name = "softmax_rows loops over S.cols rows",
      .why = "S is n_q x n_k and need not be square: with i < S.cols a 5 x 3 matrix leaves queries 3 "
             "and 4 as raw scores, and a 3 x 5 one reads and writes rows past the end of S",
      .hint = 3};
  static void softmax_rows(matrix_view S) {
    // What such a loop does inside S (rows beyond S.rows are outside it).
    for (std::size_t i = 0; i < S.cols && i < S.rows; ++i) ref::softmax(S.row(i));
  }
};
ATTN_MISTAKE(rows_bounded_by_cols);

struct rows_whole_matrix {
  static constexpr info about{
      .step = 4, .id = "rows_whole_matrix", .name = "one softmax over the whole matrix",
      .why = "Treating S as one long row makes all n_q n_k weights sum to 1 together; each query "
             "(row i) must get its own distribution over the keys, summing to 1 by itself",
      .hint = 3};
  static void softmax_rows(matrix_view S) {
    ref::softmax(span<float>(S.data, S.size()));
  }
};
ATTN_MISTAKE(rows_whole_matrix);

}  // namespace
}  // namespace attn::mistakes::step4
