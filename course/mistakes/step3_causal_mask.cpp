// Step 3's typical mistakes: causal_mask and apply_causal_mask. (course/mistakes/mistake.hpp
// says what an entry is.)
#include <cstddef>
#include <limits>

#include "mistake.hpp"

namespace attn::mistakes::step3 {
namespace {

constexpr float minus_inf = -std::numeric_limits<float>::infinity();

/// causal_mask as the answer key writes it: the given apply_causal_mask on n x n zeros.
template <void (*Apply)(matrix_view)>
matrix mask_of(std::size_t n) {
  matrix mask(n, n, 0.0f);
  Apply(mask.view());
  return mask;
}

/// The answer key's loops, with `value` written at every j > i.
void mask_with(matrix_view S, float value) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = i + 1; j < S.cols; ++j) S(i, j) = value;
  }
}

struct mask_includes_diagonal {
  static constexpr info about{
      .step = 3, .id = "mask_includes_diagonal", .name = "masked j >= i instead of j > i",
      .why = "Query i may look at keys 0..i, itself included: only j > i is the future. Masking the "
             "diagonal too leaves query 0 with every score -inf, so its weights alpha_0j are all 0 "
             "(or NaN) instead of alpha_00 = 1",
      .hint = 4};
  static void apply_causal_mask(matrix_view S) {
    for (std::size_t i = 0; i < S.rows; ++i) {
      for (std::size_t j = i; j < S.cols; ++j) S(i, j) = minus_inf;
    }
  }
  static matrix causal_mask(std::size_t n) { return mask_of<&mask_includes_diagonal::apply_causal_mask>(n); }
};
ATTN_MISTAKE(mask_includes_diagonal);

struct mask_transposed {
  static constexpr info about{
      .step = 3, .id = "mask_transposed", .name = "masked the lower triangle (j < i)",
      .why = "Rows are queries and columns are keys, so the future of query i is the keys j > i, "
             "above the diagonal; masking j < i hides every query's past and lets it read the "
             "future, the opposite of a causal model",
      .hint = 1};
  static void apply_causal_mask(matrix_view S) {
    for (std::size_t i = 0; i < S.rows; ++i) {
      for (std::size_t j = 0; j < i && j < S.cols; ++j) S(i, j) = minus_inf;
    }
  }
  static matrix causal_mask(std::size_t n) { return mask_of<&mask_transposed::apply_causal_mask>(n); }
};
ATTN_MISTAKE(mask_transposed);

struct large_negative_instead_of_inf {
  static constexpr info about{
      .step = 3, .id = "large_negative_instead_of_inf", .name = "-1e9 instead of -inf",
      .why = "The mask is -inf so that exp(-inf) = 0 gives a masked key weight exactly 0 whatever "
             "the scores are; -1e9 is only a large number: the mask matrix is not the card's, and a "
             "row with every key masked gets uniform weights instead of zeros (step 5)",
      .hint = 2};
  static void apply_causal_mask(matrix_view S) { mask_with(S, -1e9f); }
  static matrix causal_mask(std::size_t n) { return mask_of<&large_negative_instead_of_inf::apply_causal_mask>(n); }
};
ATTN_MISTAKE(large_negative_instead_of_inf);

struct lowest_float_instead_of_inf {
  static constexpr info about{
      .step = 3, .id = "lowest_float_instead_of_inf",
      .name = "-FLT_MAX (numeric_limits lowest) instead of -inf",
      .why = "The most negative finite float is still a number, not -inf: the mask is not the card's, "
             "a score added to it is absorbed and leaves -FLT_MAX, finite, so a row with every key "
             "masked gets uniform weights instead of zeros (step 5)",
      .hint = 2};
  static void apply_causal_mask(matrix_view S) { mask_with(S, std::numeric_limits<float>::lowest()); }
  static matrix causal_mask(std::size_t n) { return mask_of<&lowest_float_instead_of_inf::apply_causal_mask>(n); }
};
ATTN_MISTAKE(lowest_float_instead_of_inf);

struct limits_min_instead_of_inf {
  static constexpr info about{
      .step = 3, .id = "limits_min_instead_of_inf",
      .name = "numeric_limits<float>::min() used as minus infinity",
      .why = "std::numeric_limits<float>::min() is the smallest POSITIVE normal float, about 1.2e-38, "
             "not the most negative one: the future keys get a score of about 0 and so a real "
             "weight exp(0) instead of weight 0",
      .hint = 2};
  static void apply_causal_mask(matrix_view S) { mask_with(S, std::numeric_limits<float>::min()); }
  static matrix causal_mask(std::size_t n) { return mask_of<&limits_min_instead_of_inf::apply_causal_mask>(n); }
};
ATTN_MISTAKE(limits_min_instead_of_inf);

struct causal_mask_not_masked {
  static constexpr info about{
      .step = 3, .id = "causal_mask_not_masked", .name = "causal_mask returns all zeros",
      .why = "causal_mask(n) is the n x n matrix of zeros with -inf above the diagonal, i.e. "
             "apply_causal_mask applied to zeros; returning the zeros alone masks nothing, so "
             "adding it to the scores lets every query see the future",
      .hint = 3};
  static matrix causal_mask(std::size_t n) { return matrix(n, n, 0.0f); }
};
ATTN_MISTAKE(causal_mask_not_masked);

struct mask_bounds_from_rows {
  static constexpr info about{
      .step = 3, .id = "mask_bounds_from_rows", .name = "the column loop bounded by S.rows",
      .why = "S is n_q x n_k and need not be square: with j < S.rows a 3 x 5 matrix keeps keys 3 "
             "and 4 visible to query 0, and a 5 x 3 matrix writes -inf past the end of rows, into "
             "the next row or outside S. Bound i by S.rows and j by S.cols",
      .hint = 3};
  static void apply_causal_mask(matrix_view S) {
    // S(i, j) is data[i * cols + j]: a j past the row lands in a later row. What such a loop
    // writes inside S (and nothing outside it).
    const std::size_t size = S.size();
    for (std::size_t i = 0; i < S.rows; ++i) {
      for (std::size_t j = i + 1; j < S.rows; ++j) {
        if (i * S.cols + j < size) S.data[i * S.cols + j] = minus_inf;
      }
    }
  }
};
ATTN_MISTAKE(mask_bounds_from_rows);

struct mask_added_not_assigned {
  static constexpr info about{
      .step = 3, .id = "mask_added_not_assigned", .name = "S(i, j) += -inf instead of = -inf",
      .why = "Adding -inf gives -inf for a finite score but NaN for a score of +inf (inf - inf) and "
             "leaves a NaN a NaN, so a future key can still reach the softmax. A masked entry is "
             "overwritten with -inf whatever it held",
      .hint = 5};
  static void apply_causal_mask(matrix_view S) {
    for (std::size_t i = 0; i < S.rows; ++i) {
      for (std::size_t j = i + 1; j < S.cols; ++j) S(i, j) += minus_inf;
    }
  }
};
ATTN_MISTAKE(mask_added_not_assigned);

struct mask_written_over_scores {
  static constexpr info about{
      .step = 3, .id = "mask_written_over_scores", .name = "the past entries set to 0 as in the mask",
      .why = "apply_causal_mask changes only the future, j > i; the entries with j <= i are the "
             "scores beta_ij and must stay exactly as they were. Writing the mask's 0 over them "
             "makes every visible key score 0, so the weights of a query become uniform",
      .hint = 5};
  static void apply_causal_mask(matrix_view S) {
    for (std::size_t i = 0; i < S.rows; ++i) {
      for (std::size_t j = 0; j < S.cols; ++j) S(i, j) = j > i ? minus_inf : 0.0f;
    }
  }
};
ATTN_MISTAKE(mask_written_over_scores);

struct mask_one_row_too_many {
  static constexpr info about{
      .step = 3, .id = "mask_one_row_too_many", .name = "one row too many masked (i <= S.rows)",
      .why = "S has S.rows rows, numbered 0 to S.rows - 1. The extra row i = S.rows lies past the end "
             "of S, so the -inf of its future keys j > i lands in memory that belongs to something "
             "else, even though every entry inside S is right. It shows when S has more columns "
             "than rows, where that row has keys after the diagonal",
      .hint = 3};
  static void apply_causal_mask(matrix_view S) {
    // Row S.rows writes at most S.cols floats past the end: inside the runner's guard band.
    for (std::size_t i = 0; i <= S.rows; ++i) {
      for (std::size_t j = i + 1; j < S.cols; ++j) S(i, j) = minus_inf;
    }
  }
};
ATTN_MISTAKE(mask_one_row_too_many);

}  // namespace
}  // namespace attn::mistakes::step3
