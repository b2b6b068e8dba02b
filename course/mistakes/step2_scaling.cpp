// Step 2's typical mistakes: scaled_score and scores. (course/mistakes/mistake.hpp says
// what an entry is.)
#include <cmath>
#include <cstddef>
#include <span>
#include <string>

#include "mistake.hpp"

namespace attn::mistakes::step2 {
namespace {

using std::span;

/// The wrong score of one query and key, given what replaces 1/sqrt(d), for both functions.
template <float (*Score)(span<const float>, span<const float>)>
void score_matrix(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  ref::scores(Q, K, S);  // the checks, and the right shape
  for (std::size_t i = 0; i < Q.rows; ++i) {
    for (std::size_t j = 0; j < K.rows; ++j) S(i, j) = Score(Q.row(i), K.row(j));
  }
}

struct divides_by_d {
  static constexpr info about{
      .step = 2, .id = "divides_by_d", .name = "divided by d instead of sqrt(d)",
      .why = "The dot product q.k has a spread of about sqrt(d) (its variance is d), so dividing by sqrt(d) brings "
             "it back to about 1 whatever d is; dividing by d shrinks the scores as d grows, and "
             "the weights go flat (on the card: -1/4 = -0.25, not -1/2 = -0.5)",
      .hint = 1};
  static float scaled_score(span<const float> q, span<const float> k) {
    ref::scaled_score(q, k);  // the checks
    return ref::dot(q, k) / static_cast<float>(q.size());
  }
  static void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
    score_matrix<&divides_by_d::scaled_score>(Q, K, S);
  }
};
ATTN_MISTAKE(divides_by_d);

struct forgets_scaling {
  static constexpr info about{
      .step = 2, .id = "forgets_scaling", .name = "the raw dot product, not divided by sqrt(d)",
      .why = "The score is q.k / sqrt(d); without the division the scores' spread grows like "
             "sqrt(d), so for d = 64 they are 8 times too large and the softmax saturates (step 6)",
      .hint = 1};
  static float scaled_score(span<const float> q, span<const float> k) {
    ref::scaled_score(q, k);
    return ref::dot(q, k);
  }
  static void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
    score_matrix<&forgets_scaling::scaled_score>(Q, K, S);
  }
};
ATTN_MISTAKE(forgets_scaling);

struct scores_scaled_twice {
  static constexpr info about{
      .step = 2, .id = "scores_scaled_twice", .name = "scores divided by sqrt(d) twice",
      .why = "The function scaled_score already divides by sqrt(d); dividing its result by sqrt(d) again gives "
             "q.k / d in S, although scaled_score alone is right",
      .hint = 3};
  static float twice(span<const float> q, span<const float> k) {
    return ref::scaled_score(q, k) / std::sqrt(static_cast<float>(q.size()));
  }
  static void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
    score_matrix<&scores_scaled_twice::twice>(Q, K, S);
  }
};
ATTN_MISTAKE(scores_scaled_twice);

struct d_zero_not_refused {
  static constexpr info about{
      .step = 2, .id = "d_zero_not_refused", .name = "d = 0 not refused",
      .why = "With empty q and k the score is 0 / sqrt(0) = 0 / 0, which is NaN: the contract asks "
             "for std::invalid_argument naming the function instead of a NaN that spreads silently",
      .hint = 2};
  static float scaled_score(span<const float> q, span<const float> k) {
    if (q.empty() && k.empty()) return 0.0f / std::sqrt(0.0f);
    return ref::scaled_score(q, k);
  }
};
ATTN_MISTAKE(d_zero_not_refused);

struct scores_lets_scaled_score_refuse {
  static constexpr info about{
      .step = 2, .id = "scores_lets_scaled_score_refuse",
      .name = "scores does not check d = 0 itself",
      .why = "The error that stops scores then comes from scaled_score and names attn::scaled_score; "
             "a caller of attn::scores is told about a function it never called. scores checks its "
             "own three conditions before its loop",
      .hint = 3};
  static void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
    if (Q.cols == 0 && K.cols == 0 && S.rows == Q.rows && S.cols == K.rows) {
      // The loop calls scaled_score on the first pair, which refuses; no pair, no error.
      if (Q.rows > 0 && K.rows > 0) invalid_input("attn::scaled_score", "q and k are empty (d = 0); expected d >= 1");
      return;
    }
    ref::scores(Q, K, S);
  }
};
ATTN_MISTAKE(scores_lets_scaled_score_refuse);

struct scores_shape_not_checked {
  static constexpr info about{
      .step = 2, .id = "scores_shape_not_checked", .name = "the shape of S not checked",
      .why = "S must be n_q x n_k (rows are queries, columns are keys); filling an S of another "
             "shape writes outside it or leaves part of it unset, so a wrong shape is refused "
             "with std::invalid_argument before anything is written",
      .hint = 3};
  static void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
    if (Q.cols != K.cols || Q.cols == 0) return ref::scores(Q, K, S);
    // What such a loop writes, kept inside S: the scores that fit.
    for (std::size_t i = 0; i < Q.rows && i < S.rows; ++i) {
      for (std::size_t j = 0; j < K.rows && j < S.cols; ++j) S(i, j) = ref::scaled_score(Q.row(i), K.row(j));
    }
  }
};
ATTN_MISTAKE(scores_shape_not_checked);

struct scores_writes_one_past_the_end {
  static constexpr info about{
      .step = 2, .id = "scores_writes_one_past_the_end",
      .name = "one float written past the end of S (k <= n_q * n_k in a flat loop)",
      .why = "S holds n_q * n_k floats, at flat indices 0 to n_q * n_k - 1; a loop that runs while "
             "k <= n_q * n_k writes one float past the end of S, into memory that belongs to "
             "something else. Every score inside S can be right and still another matrix changes "
             "behind your back, or the program crashes",
      .hint = 4};
  static void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
    // S cleared first, by a flat loop that runs one step too far (the runner's guard band
    // after S takes the stray write: the catalogue never runs on unguarded storage).
    for (std::size_t k = 0; k <= S.rows * S.cols; ++k) S.data[k] = 0.0f;
    ref::scores(Q, K, S);
  }
};
ATTN_MISTAKE(scores_writes_one_past_the_end);

}  // namespace
}  // namespace attn::mistakes::step2
