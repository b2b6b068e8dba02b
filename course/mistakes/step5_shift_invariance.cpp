// Step 5's typical mistakes: log_sum_exp, stable_softmax and attention_weights. (course/mistakes/
// mistake.hpp says what an entry is.)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "mistake.hpp"

namespace attn::mistakes::step5 {
namespace {

using std::span;

constexpr float infinity = std::numeric_limits<float>::infinity();
constexpr float quiet_nan = std::numeric_limits<float>::quiet_NaN();

bool has_nan(span<const float> row) {
  return std::any_of(row.begin(), row.end(), [](float x) { return std::isnan(x); });
}

/// The answer key's max loop: -inf for an empty row, and a NaN entry is skipped (x > m is false).
float max_of(span<const float> row) {
  float m = -infinity;
  for (float x : row) {
    if (x > m) m = x;
  }
  return m;
}

/// The answer key's special rows of stable_softmax (NaN, all -inf, +inf): true when `row`
/// was one of them and is now done.
bool special_row(span<float> row) {
  if (row.empty()) return true;
  if (has_nan(row)) {
    std::fill(row.begin(), row.end(), quiet_nan);
    return true;
  }
  const float m = max_of(row);
  if (m == -infinity) {
    std::fill(row.begin(), row.end(), 0.0f);
    return true;
  }
  if (m == infinity) {
    const auto n_inf = std::count(row.begin(), row.end(), infinity);
    const float share = 1.0f / static_cast<float>(n_inf);
    for (float& x : row) x = (x == infinity) ? share : 0.0f;
    return true;
  }
  return false;
}

/// The answer key's last loop: e_j / sum_l e_l, the sum in double.
void normalise(span<float> row, double sum) {
  for (float& e : row) e = static_cast<float>(e / sum);
}

/// attention_weights with `Softmax` on every row: the reference's checks and scores, the
/// causal mask when asked, then the (wrong) row softmax.
template <void (*Softmax)(span<float>)>
void weights_with(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  ref::scores(Q, K, A);  // the checks, and beta_ij = q_i.k_j / sqrt(d)
  if (causal) ref::apply_causal_mask(A);
  for (std::size_t i = 0; i < A.rows; ++i) Softmax(A.row(i));
}

// ------------------------------------------------------------------------ stable_softmax

struct softmax_without_max {
  static constexpr info about{
      .step = 5, .id = "softmax_without_max", .name = "the max not subtracted before exp",
      .why = "Shift invariance is what makes the softmax stable: exp(x_j - m) with m the row's max never "
             "exceeds 1, but exp(x_j) overflows to inf once x_j > 88.72 (and underflows to 0 below ln 2^-150 = -103.97), "
             "so [1000, 1001, 1002] gives inf / inf = NaN instead of softmax([0, 1, 2]) = [0.090, 0.245, 0.665]",
      .hint = 1};
  static void stable_softmax(span<float> row) {
    if (special_row(row)) return;
    double sum = 0.0;
    for (float& x : row) {
      x = std::exp(x);
      sum += x;
    }
    normalise(row, sum);
  }
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    weights_with<&softmax_without_max::stable_softmax>(Q, K, A, causal);
  }
};
ATTN_MISTAKE(softmax_without_max);

struct all_masked_row_gives_nan {
  static constexpr info about{
      .step = 5, .id = "all_masked_row_gives_nan", .name = "a row of -inf gives NaN weights",
      .why = "When every score of a row is -inf (a query with every key masked) the max m is -inf too, and "
             "x_j - m = -inf - (-inf) is NaN; such a query has nothing to attend to and must get all-zero "
             "weights alpha_ij = 0, not NaN that spreads into its output",
      .hint = 2};
  static void stable_softmax(span<float> row) {
    if (row.empty()) return;
    if (has_nan(row)) {
      std::fill(row.begin(), row.end(), quiet_nan);
      return;
    }
    const float m = max_of(row);
    if (m == infinity) {
      special_row(row);
      return;
    }
    double sum = 0.0;
    for (float& x : row) {
      x = std::exp(x - m);
      sum += x;
    }
    normalise(row, sum);
  }
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    weights_with<&all_masked_row_gives_nan::stable_softmax>(Q, K, A, causal);
  }
};
ATTN_MISTAKE(all_masked_row_gives_nan);

struct all_masked_row_uniform {
  static constexpr info about{
      .step = 5, .id = "all_masked_row_uniform", .name = "a row of -inf gets uniform weights",
      .why = "A row whose scores are all -inf is a query with every key masked: it has nothing to attend to, "
             "and the contract gives it all-zero weights; spreading 1/n over keys it may not see leaks "
             "masked (future) keys into its output",
      .hint = 2};
  static void stable_softmax(span<float> row) {
    if (!row.empty() && !has_nan(row) && max_of(row) == -infinity) {
      std::fill(row.begin(), row.end(), 1.0f / static_cast<float>(row.size()));
      return;
    }
    ref::stable_softmax(row);
  }
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    weights_with<&all_masked_row_uniform::stable_softmax>(Q, K, A, causal);
  }
};
ATTN_MISTAKE(all_masked_row_uniform);

struct plus_inf_gives_nan {
  static constexpr info about{
      .step = 5, .id = "plus_inf_gives_nan", .name = "a row holding +inf gives NaN weights",
      .why = "With +inf in the row the max m is +inf and x_j - m is inf - inf = NaN for the +inf entries, so "
             "the sum and every weight are NaN; adding the same c to all those scores and letting c grow "
             "without bound, they share the weight equally in the limit (1 / count each) and every finite "
             "score gets 0",
      .hint = 2};
  static void stable_softmax(span<float> row) {
    if (row.empty()) return;
    if (has_nan(row)) {
      std::fill(row.begin(), row.end(), quiet_nan);
      return;
    }
    const float m = max_of(row);
    if (m == -infinity) {
      std::fill(row.begin(), row.end(), 0.0f);
      return;
    }
    double sum = 0.0;
    for (float& x : row) {
      x = std::exp(x - m);
      sum += x;
    }
    normalise(row, sum);
  }
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    weights_with<&plus_inf_gives_nan::stable_softmax>(Q, K, A, causal);
  }
};
ATTN_MISTAKE(plus_inf_gives_nan);

struct plus_inf_each_weight_one {
  static constexpr info about{
      .step = 5, .id = "plus_inf_each_weight_one", .name = "every +inf score gets weight 1",
      .why = "The weights of a row always sum to 1: when several scores are +inf they share the weight "
             "equally, 1 / count each ([inf, 1, inf, -inf] gives [0.5, 0, 0.5, 0]), and a weight of 1 for "
             "each makes the row sum to the number of +inf entries",
      .hint = 2};
  static void stable_softmax(span<float> row) {
    if (!row.empty() && !has_nan(row) && max_of(row) == infinity) {
      for (float& x : row) x = (x == infinity) ? 1.0f : 0.0f;
      return;
    }
    ref::stable_softmax(row);
  }
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    weights_with<&plus_inf_each_weight_one::stable_softmax>(Q, K, A, causal);
  }
};
ATTN_MISTAKE(plus_inf_each_weight_one);

struct softmax_max_hides_nan {
  static constexpr info about{
      .step = 5, .id = "softmax_max_hides_nan", .name = "NaN dropped by the max loop",
      .why = "Every comparison with NaN is false, so the max loop skips a NaN score: in a row like "
             "[nan, -inf, -inf] the max is -inf and the row comes out as zero weights, in [inf, nan] as "
             "[1, 0]; a NaN anywhere must make every weight of the row NaN, so check with std::isnan first",
      .hint = 3};
  static void stable_softmax(span<float> row) {
    if (row.empty()) return;
    const float m = max_of(row);
    if (m == -infinity || m == infinity) {
      // What the answer key's special rows do once the NaN check is gone: NaN entries
      // compare unequal to +inf (weight 0) and are overwritten by the fill.
      if (m == -infinity) {
        std::fill(row.begin(), row.end(), 0.0f);
      } else {
        const auto n_inf = std::count(row.begin(), row.end(), infinity);
        const float share = 1.0f / static_cast<float>(n_inf);
        for (float& x : row) x = (x == infinity) ? share : 0.0f;
      }
      return;
    }
    double sum = 0.0;
    for (float& x : row) {
      x = std::exp(x - m);
      sum += x;
    }
    normalise(row, sum);
  }
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    weights_with<&softmax_max_hides_nan::stable_softmax>(Q, K, A, causal);
  }
};
ATTN_MISTAKE(softmax_max_hides_nan);

// --------------------------------------------------------------------------- log_sum_exp

struct lse_forgets_max {
  static constexpr info about{
      .step = 5, .id = "lse_forgets_max", .name = "log-sum-exp without adding the max back",
      .why = "The weights do not change when a constant is added to the scores, but the log-sum-exp does: "
             "LSE(x + c) = LSE(x) + c, so LSE(x) = m + log sum_j exp(x_j - m); without the m, "
             "[1000, 1001, 1002] gives 0.4076 instead of 1002.4076",
      .hint = 5};
  static float log_sum_exp(span<const float> row) {
    if (has_nan(row)) return quiet_nan;
    const float m = max_of(row);
    if (std::isinf(m)) return m;
    double sum = 0.0;
    for (float x : row) sum += std::exp(static_cast<double>(x) - static_cast<double>(m));
    return static_cast<float>(std::log(sum));
  }
};
ATTN_MISTAKE(lse_forgets_max);

struct lse_without_max {
  static constexpr info about{
      .step = 5, .id = "lse_without_max", .name = "log-sum-exp as log(sum exp(x)) without the shift",
      .why = "exp(x_j) overflows to inf once x_j > 88.72 (the log is then inf) and underflows to 0 for very "
             "negative scores (the log is then -inf); with m the row's max, m + log sum_j exp(x_j - m) has "
             "every exponent <= 0 and a sum in [1, n], so [1000, 1001, 1002] gives 1002.4076",
      .hint = 1};
  static float log_sum_exp(span<const float> row) {
    double sum = 0.0;
    for (float x : row) sum += std::exp(x);
    return static_cast<float>(std::log(sum));
  }
};
ATTN_MISTAKE(lse_without_max);

struct lse_inf_minus_inf {
  static constexpr info about{
      .step = 5, .id = "lse_inf_minus_inf", .name = "log-sum-exp of a row of -inf or with +inf is NaN",
      .why = "When the max m is -inf (every score -inf) or +inf, x_j - m is inf - inf = NaN for some entry; "
             "those rows already have their answer, m itself: log(0) = -inf for a query with nothing to "
             "attend to, +inf when a score is +inf",
      .hint = 2};
  static float log_sum_exp(span<const float> row) {
    if (has_nan(row)) return quiet_nan;
    const float m = max_of(row);
    double sum = 0.0;
    for (float x : row) sum += std::exp(static_cast<double>(x) - static_cast<double>(m));
    return static_cast<float>(static_cast<double>(m) + std::log(sum));
  }
};
ATTN_MISTAKE(lse_inf_minus_inf);

struct lse_max_hides_nan {
  static constexpr info about{
      .step = 5, .id = "lse_max_hides_nan", .name = "NaN dropped by the max loop of log-sum-exp",
      .why = "The max loop skips NaN (every comparison with NaN is false), so [nan] and [nan, -inf, -inf] "
             "have max -inf and [inf, nan] has max +inf, which are returned at once as the answer; a NaN "
             "anywhere must make the log-sum-exp NaN, so check with std::isnan first",
      .hint = 3};
  static float log_sum_exp(span<const float> row) {
    const float m = max_of(row);
    if (std::isinf(m)) return m;
    double sum = 0.0;
    for (float x : row) sum += std::exp(static_cast<double>(x) - static_cast<double>(m));
    return static_cast<float>(static_cast<double>(m) + std::log(sum));
  }
};
ATTN_MISTAKE(lse_max_hides_nan);

// --------------------------------------------------------------------- attention_weights

struct ignores_causal {
  static constexpr info about{
      .step = 5, .id = "ignores_causal", .name = "the causal flag ignored",
      .why = "With causal = true query i may only look at keys j <= i: beta_ij gets the mask's -inf for "
             "j > i before the softmax, so those alpha_ij are exactly 0; without it every query attends to "
             "future keys",
      .hint = 4};
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool /*causal*/) {
    ref::attention_weights(Q, K, A, false);
  }
};
ATTN_MISTAKE(ignores_causal);

struct masks_after_softmax {
  static constexpr info about{
      .step = 5, .id = "masks_after_softmax", .name = "the causal mask applied after the softmax",
      .why = "The mask is added to the scores beta_ij before the softmax, so that exp(-inf) = 0 gives the "
             "future keys weight exactly 0 and the visible keys share all of it; masking the weights "
             "afterwards leaves -inf in A and rows whose weights no longer sum to 1",
      .hint = 4};
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    ref::attention_weights(Q, K, A, false);
    if (causal) ref::apply_causal_mask(A);
  }
};
ATTN_MISTAKE(masks_after_softmax);

/// Step 4's answer key: the naive formula exp(s_j) / sum_l exp(s_l).
void naive_softmax(span<float> row) {
  double sum = 0.0;
  for (float& s : row) {
    s = std::exp(s);
    sum += s;
  }
  normalise(row, sum);
}

struct pipeline_naive_softmax {
  static constexpr info about{
      .step = 5, .id = "pipeline_naive_softmax", .name = "step 4's naive softmax in the pipeline",
      .why = "attention_weights must use stable_softmax on each row: the naive exp(beta_ij) overflows for "
             "scores above 88.72 (inf / inf = NaN) and gives 0 / 0 = NaN for a query whose scores are all "
             "-inf, which should get all-zero weights",
      .hint = 4};
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    weights_with<&naive_softmax>(Q, K, A, causal);
  }
};
ATTN_MISTAKE(pipeline_naive_softmax);

struct softmax_over_columns {
  static constexpr info about{
      .step = 5, .id = "softmax_over_columns", .name = "softmax over each column instead of each row",
      .why = "Row i of A holds query i's weights over the keys, alpha_ij for j = 0..n_k - 1, and it is each "
             "row that sums to 1; normalising each column shares a key's weight among the queries instead",
      .hint = 4};
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    ref::scores(Q, K, A);
    if (causal) ref::apply_causal_mask(A);
    std::vector<float> column(A.rows);
    for (std::size_t j = 0; j < A.cols; ++j) {
      for (std::size_t i = 0; i < A.rows; ++i) column[i] = A(i, j);
      ref::stable_softmax(column);
      for (std::size_t i = 0; i < A.rows; ++i) A(i, j) = column[i];
    }
  }
};
ATTN_MISTAKE(softmax_over_columns);

struct pipeline_unscaled_scores {
  static constexpr info about{
      .step = 5, .id = "pipeline_unscaled_scores", .name = "the pipeline's scores not divided by sqrt(d)",
      .why = "The scores are beta_ij = q_i.k_j / sqrt(d) (step 2's attn::scores); with the raw dot products "
             "their spread grows like sqrt(d) and the weights come out too peaked, nearly one-hot for large d",
      .hint = 4};
  static void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
    ref::scores(Q, K, A);  // the checks
    for (std::size_t i = 0; i < A.rows; ++i) {
      for (std::size_t j = 0; j < A.cols; ++j) A(i, j) = ref::dot(Q.row(i), K.row(j));
    }
    if (causal) ref::apply_causal_mask(A);
    for (std::size_t i = 0; i < A.rows; ++i) ref::stable_softmax(A.row(i));
  }
};
ATTN_MISTAKE(pipeline_unscaled_scores);

}  // namespace
}  // namespace attn::mistakes::step5
