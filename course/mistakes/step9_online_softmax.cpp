// Step 9's typical mistakes: push, merge, weight and streaming_attention. (course/mistakes/
// mistake.hpp says what an entry is.)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "mistake.hpp"

namespace attn::mistakes::step9 {
namespace {

constexpr float infinity = std::numeric_limits<float>::infinity();
constexpr float quiet_nan = std::numeric_limits<float>::quiet_NaN();

/// e^(x - m) for x <= m, exactly 1 when x == m (two +inf included), as the answer key.
float exp_below(float x, float m) { return x == m ? 1.0f : std::exp(x - m); }

using push_fn = void (*)(online_softmax&, float);
using merge_fn = online_softmax (*)(const online_softmax&, const online_softmax&);

/// What a streaming_attention gets wrong by itself (all false: the answer key's loop).
struct loop_mistakes {
  bool output_not_rescaled = false;  ///< o is not multiplied by e^(m - m') when the max grows
  bool nan_when_empty = false;       ///< o / 0 for a query with nothing to attend to
  bool ignores_causal = false;       ///< every key visited, even under the causal mask
  bool drops_last_key = false;       ///< blocks end one key early
  bool inf_minus_inf = false;        ///< e^(beta - m) as it stands: e^(inf - inf) = NaN
};

/// The answer key's streaming_attention with the given push and merge and loop mistakes,
/// after the reference's checks.
template <push_fn Push, merge_fn Merge, loop_mistakes Wrong = loop_mistakes{}>
void streaming_with(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O, bool causal,
                    std::size_t block_size) {
  ref::streaming_attention(Q, K, V, O, causal, block_size);  // the checks: block_size >= 1, the shapes
  std::vector<float> beta;
  for (std::size_t i = 0; i < Q.rows; ++i) {
    const auto o = O.row(i);
    std::fill(o.begin(), o.end(), 0.0f);
    online_softmax state;
    const std::size_t visible = causal && !Wrong.ignores_causal ? std::min(K.rows, i + 1) : K.rows;
    for (std::size_t start = 0; start < visible; start += block_size) {
      const std::size_t end = std::min(visible, start + block_size - (Wrong.drops_last_key ? 1 : 0));
      online_softmax block;
      beta.clear();
      for (std::size_t j = start; j < end; ++j) {
        beta.push_back(ref::scaled_score(Q.row(i), K.row(j)));
        Push(block, beta.back());
      }
      const online_softmax merged = Merge(state, block);
      if (std::isnan(merged.max)) {
        state = merged;
        break;
      }
      if (merged.sum == 0.0f) {  // weight 0 each, but visible keys still take part (0 x NaN)
        for (std::size_t j = start; j < end; ++j) {
          for (std::size_t c = 0; c < o.size(); ++c) o[c] += 0.0f * V(j, c);
        }
        continue;
      }
      const float rescale = state.sum == 0.0f ? 0.0f : exp_below(state.max, merged.max);
      if (!Wrong.output_not_rescaled) {
        for (float& x : o) x *= rescale;
      }
      for (std::size_t j = start; j < end; ++j) {
        const float p = Wrong.inf_minus_inf ? std::exp(beta[j - start] - merged.max)
                                            : exp_below(beta[j - start], merged.max);
        for (std::size_t c = 0; c < o.size(); ++c) o[c] += p * V(j, c);
      }
      state = merged;
    }
    if (std::isnan(state.max)) {
      std::fill(o.begin(), o.end(), quiet_nan);
    } else if (state.sum != 0.0f || Wrong.nan_when_empty) {
      for (float& x : o) x /= state.sum;
    }  // sum 0: o holds 0 v_j summed, zeros for finite values
  }
}

struct online_push_without_rescale {
  static constexpr info about{
      .step = 9, .id = "online_push_without_rescale", .name = "the old sum not rescaled when the max grows",
      .why = "The running sum l = sum_j e^(x_j - m) is relative to the running max m; when a larger x "
             "arrives every old term becomes e^(x_j - x), so l must be multiplied by e^(m - x) before "
             "the new 1 is added (for [1, 3, 2] the sum goes 1, 1.135335, 1.503215, not 1, 2, 2.37)",
      .hint = 1};
  static void push(online_softmax& state, float x) {
    if (std::isnan(x) || std::isnan(state.max)) {
      state = {quiet_nan, quiet_nan};
      return;
    }
    if (x == -infinity) return;
    if (x > state.max) {
      state.sum = state.sum + 1.0f;
      state.max = x;
    } else {
      state.sum += exp_below(x, state.max);
    }
  }
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&online_push_without_rescale::push, &ref::merge>(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(online_push_without_rescale);

struct online_push_minus_inf {
  static constexpr info about{
      .step = 9, .id = "online_push_minus_inf", .name = "pushing -inf not treated as weight 0",
      .why = "A score of -inf (a masked key) has weight e^-inf = 0 and must change nothing; against the "
             "empty state, whose max is also -inf, x == max counts it as e^0 = 1, so a fully masked "
             "query seems to have something to attend to and gets the masked keys' values",
      .hint = 2};
  static void push(online_softmax& state, float x) {
    if (std::isnan(x) || std::isnan(state.max)) {
      state = {quiet_nan, quiet_nan};
      return;
    }
    if (x > state.max) {
      state.sum = state.sum * std::exp(state.max - x) + 1.0f;
      state.max = x;
    } else {
      state.sum += exp_below(x, state.max);
    }
  }
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&online_push_minus_inf::push, &ref::merge>(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(online_push_minus_inf);

struct online_push_nan_not_kept {
  static constexpr info about{
      .step = 9, .id = "online_push_nan_not_kept", .name = "a NaN score does not make the state NaN",
      .why = "NaN in gives NaN out: a NaN score makes both fields NaN for good; without that case "
             "x > max is false for NaN, the max stays a number and only the sum turns NaN, so "
             "whatever merges or compares maxima afterwards is misled",
      .hint = 2};
  static void push(online_softmax& state, float x) {
    if (x == -infinity) return;
    if (x > state.max) {
      state.sum = state.sum * std::exp(state.max - x) + 1.0f;
      state.max = x;
    } else {
      state.sum += exp_below(x, state.max);
    }
  }
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&online_push_nan_not_kept::push, &ref::merge>(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(online_push_nan_not_kept);

struct online_inf_minus_inf {
  static constexpr info about{
      .step = 9, .id = "online_inf_minus_inf", .name = "exp(x - max) computed when both are +inf",
      .why = "When x equals the max the term is e^0 = 1, also for two +inf scores; computing "
             "std::exp(x - max) there gives e^(inf - inf) = NaN, so the +inf scores no longer share "
             "the weight (in [1, inf, 5, inf] each should get 1/2)",
      .hint = 2};
  static void push(online_softmax& state, float x) {
    if (std::isnan(x) || std::isnan(state.max)) {
      state = {quiet_nan, quiet_nan};
      return;
    }
    if (x == -infinity) return;
    if (x > state.max) {
      state.sum = state.sum * std::exp(state.max - x) + 1.0f;
      state.max = x;
    } else {
      state.sum += std::exp(x - state.max);
    }
  }
  static float weight(const online_softmax& state, float x) {
    if (std::isnan(x) || std::isnan(state.max)) return quiet_nan;
    if (state.sum == 0.0f || x == -infinity) return 0.0f;
    return std::exp(x - state.max) / state.sum;
  }
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&online_inf_minus_inf::push, &ref::merge>(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(online_inf_minus_inf);

struct online_merge_without_rescale {
  static constexpr info about{
      .step = 9, .id = "online_merge_without_rescale", .name = "merge adds the two sums as they are",
      .why = "Each part's sum is relative to its own max, l_a = sum e^(x_j - m_a); before adding them "
             "both must be brought to the common max m: l = l_a e^(m_a - m) + l_b e^(m_b - m). Adding "
             "l_a + l_b is right only when the two maxima are equal",
      .hint = 3};
  static online_softmax merge(const online_softmax& a, const online_softmax& b) {
    if (std::isnan(a.max) || std::isnan(b.max)) return {quiet_nan, quiet_nan};
    if (a.sum == 0.0f) return b;
    if (b.sum == 0.0f) return a;
    return {std::max(a.max, b.max), a.sum + b.sum};
  }
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&ref::push, &online_merge_without_rescale::merge>(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(online_merge_without_rescale);

struct online_weight_unnormalised {
  static constexpr info about{
      .step = 9, .id = "online_weight_unnormalised", .name = "the weight not divided by the running sum",
      .why = "The weight of x is e^(x - m) / l: the numerator alone is 1 for the largest score whatever "
             "the others are, and the weights of a row no longer sum to 1 (for [1, 3, 2]: 0.135, 1, "
             "0.368 instead of 0.0900, 0.6652, 0.2447)",
      .hint = 2};
  static float weight(const online_softmax& state, float x) {
    if (std::isnan(x) || std::isnan(state.max)) return quiet_nan;
    if (state.sum == 0.0f || x == -infinity) return 0.0f;
    return exp_below(x, state.max);
  }
};
ATTN_MISTAKE(online_weight_unnormalised);

struct online_weight_without_special_cases {
  static constexpr info about{
      .step = 9, .id = "online_weight_without_special_cases", .name = "weight is exp(x - max) / sum with no special case",
      .why = "The formula alone divides 0 by 0 for an empty state (max -inf, sum 0) and computes "
             "-inf - (-inf) or inf - inf, both NaN: a query with nothing to attend to must get weight "
             "0, a -inf score weight 0 and a +inf score 1 / sum",
      .hint = 2};
  static float weight(const online_softmax& state, float x) { return std::exp(x - state.max) / state.sum; }
};
ATTN_MISTAKE(online_weight_without_special_cases);

struct streaming_output_not_rescaled {
  static constexpr info about{
      .step = 9, .id = "streaming_output_not_rescaled", .name = "the running output not rescaled when the max grows",
      .why = "The running output o = sum_j e^(beta_ij - m) v_j is relative to the running max m just "
             "as the sum l is; when a block raises the max to m', o must be multiplied by e^(m - m') "
             "too, or the early keys keep too much weight in o / l",
      .hint = 4};
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&ref::push, &ref::merge, loop_mistakes{.output_not_rescaled = true}>(Q, K, V, O, causal,
                                                                                        block_size);
  }
};
ATTN_MISTAKE(streaming_output_not_rescaled);

struct streaming_masked_row_nan {
  static constexpr info about{
      .step = 9, .id = "streaming_masked_row_nan", .name = "divided by a zero sum for a fully masked query",
      .why = "A query whose scores are all -inf has nothing to attend to: its sum l stays 0 and o "
             "stays 0, and o / l = 0 / 0 is NaN; as in attention() such a query gets an output of "
             "zeros",
      .hint = 4};
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&ref::push, &ref::merge, loop_mistakes{.nan_when_empty = true}>(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(streaming_masked_row_nan);

struct streaming_ignores_causal {
  static constexpr info about{
      .step = 9, .id = "streaming_ignores_causal", .name = "every key visited under the causal mask",
      .why = "Under the causal mask query i may only look at keys 0..i (alpha_ij = 0 for j > i); the "
             "loop over keys must stop at key i, or future values leak into the past",
      .hint = 4};
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&ref::push, &ref::merge, loop_mistakes{.ignores_causal = true}>(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(streaming_ignores_causal);

struct streaming_block_drops_last_key {
  static constexpr info about{
      .step = 9, .id = "streaming_block_drops_last_key", .name = "each block stops one key early",
      .why = "A block covers keys start .. start + block_size - 1, so it ends at min(visible, start + "
             "block_size), exclusive; ending at start + block_size - 1 skips the last key of every "
             "block, so those keys get no weight (with a block size of 1, every key)",
      .hint = 4};
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&ref::push, &ref::merge, loop_mistakes{.drops_last_key = true}>(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(streaming_block_drops_last_key);

struct streaming_inf_minus_inf {
  static constexpr info about{
      .step = 9, .id = "streaming_inf_minus_inf", .name = "+inf scores give NaN in streaming attention",
      .why = "A +inf score equals the running max +inf, so its term is e^(beta - m) = e^0 = 1: the +inf "
             "keys share the weight equally and the others get 0, as in attention(); computing "
             "std::exp(beta - m) as it stands gives e^(inf - inf) = NaN, and the output of every query "
             "that sees a +inf score is NaN",
      .hint = 4};
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&ref::push, &ref::merge, loop_mistakes{.inf_minus_inf = true}>(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(streaming_inf_minus_inf);

struct streaming_causal_past_last_key {
  static constexpr info about{
      .step = 9, .id = "streaming_causal_past_last_key", .name = "the causal loop stops at key i even past the last key",
      .why = "The causal mask is top-left aligned: query i sees keys 0..min(i, n_k - 1). With more queries than "
             "keys (n_q > n_k) a loop that stops at key i reads rows of K and V past the last key, which do not "
             "exist, so the outputs of the queries i >= n_k are garbage (or the program crashes); the visible "
             "keys end at min(i + 1, n_k)",
      .hint = 4};
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    ref::streaming_attention(Q, K, V, O, causal, block_size);  // the checks, and the output where no loop runs past the end
    if (!causal || Q.rows <= K.rows || K.rows == 0) return;
    // The rows past the end read as copies of the last one (in bounds, and as wrong).
    const matrix K_past = last_row_repeated(K, Q.rows), V_past = last_row_repeated(V, Q.rows);
    ref::streaming_attention(Q, K_past.view(), V_past.view(), O, true, block_size);
  }
};
ATTN_MISTAKE(streaming_causal_past_last_key);

struct streaming_refusal_omits_sizes {
  static constexpr info about{
      .step = 9, .id = "streaming_refusal_omits_sizes",
      .name = "the errors of streaming_attention do not give the sizes",
      .why = "A message like \"bad shapes\" or \"bad block size\" names attn::streaming_attention but not the "
             "sizes, so the caller cannot tell which argument was wrong; the contract asks for a message "
             "naming them (\"K is 2 x 3, V is 3 x 3 and O is 2 x 3; expected V to be 2 x 3 and O 2 x 3\", "
             "\"block_size = 0; expected at least 1\")",
      .hint = 4};
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    if (Q.cols != K.cols || Q.cols == 0 || V.rows != K.rows || O.rows != Q.rows || O.cols != V.cols) {
      attn::invalid_input("attn::streaming_attention", "bad shapes; expected Q, K, V and O that fit");
    }
    if (block_size == 0) attn::invalid_input("attn::streaming_attention", "bad block size; expected a positive one");
    ref::streaming_attention(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(streaming_refusal_omits_sizes);

struct online_merge_drops_nan_in_a {
  static constexpr info about{
      .step = 9, .id = "online_merge_drops_nan_in_a", .name = "merge picks the max with a comparison that drops a NaN in a",
      .why = "NaN in either part gives NaN in both fields. Without that case first, a.max > b.max ? a.max : b.max "
             "is false when a.max is NaN and keeps b's max: the merged state has a number for its max and NaN "
             "for its sum, and whatever compares maxima afterwards is misled",
      .hint = 3};
  static online_softmax merge(const online_softmax& a, const online_softmax& b) {
    if (a.sum == 0.0f) return b;
    if (b.sum == 0.0f) return a;
    const float m = a.max > b.max ? a.max : b.max;  // false for a NaN in a: b.max
    return {m, a.sum * exp_below(a.max, m) + b.sum * exp_below(b.max, m)};
  }
};
ATTN_MISTAKE(online_merge_drops_nan_in_a);

struct online_merge_inf_minus_inf {
  static constexpr info about{
      .step = 9, .id = "online_merge_inf_minus_inf", .name = "merge computes e^(m_a - m) when both maxima are +inf",
      .why = "Where a part's max equals the common max the factor is e^0 = 1, also when both are +inf; "
             "std::exp(a.max - m) there gives e^(inf - inf) = NaN, so the +inf scores of two parts no longer "
             "share the weight (merging the states {inf, 1} of [1, inf] and of [inf, 5] must give {inf, 2})",
      .hint = 3};
  static online_softmax merge(const online_softmax& a, const online_softmax& b) {
    if (std::isnan(a.max) || std::isnan(b.max)) return {quiet_nan, quiet_nan};
    if (a.sum == 0.0f) return b;
    if (b.sum == 0.0f) return a;
    const float m = std::max(a.max, b.max);
    return {m, a.sum * std::exp(a.max - m) + b.sum * std::exp(b.max - m)};
  }
  static void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
                                  bool causal, std::size_t block_size) {
    streaming_with<&ref::push, &online_merge_inf_minus_inf::merge>(Q, K, V, O, causal, block_size);
  }
};
ATTN_MISTAKE(online_merge_inf_minus_inf);

struct online_weight_nan_as_masked {
  static constexpr info about{
      .step = 9, .id = "online_weight_nan_as_masked", .name = "a NaN score given weight 0, tested as !(x > -inf)",
      .why = "The weight of a NaN score is NaN (NaN in, NaN out); only x == -inf (a masked key) has weight 0. "
             "The test !(x > -inf) is true for a NaN as well, since every comparison with NaN is false, so a "
             "NaN score quietly weighs 0",
      .hint = 2};
  static float weight(const online_softmax& state, float x) {
    if (std::isnan(state.max)) return quiet_nan;
    if (state.sum == 0.0f || !(x > -infinity)) return 0.0f;
    return exp_below(x, state.max) / state.sum;
  }
};
ATTN_MISTAKE(online_weight_nan_as_masked);

struct online_weight_empty_before_nan {
  static constexpr info about{
      .step = 9, .id = "online_weight_empty_before_nan",
      .name = "the empty state's weight 0 returned before the NaN test",
      .why = "NaN in, NaN out comes first: the weight of a NaN score is NaN in every state. Returning 0 for "
             "the empty state (sum 0) before testing x for NaN gives a NaN score weight 0 whenever nothing "
             "has been pushed yet, and the NaN disappears",
      .hint = 2};
  static float weight(const online_softmax& state, float x) {
    if (state.sum == 0.0f || x == -infinity) return 0.0f;
    if (std::isnan(x) || std::isnan(state.max)) return quiet_nan;
    return exp_below(x, state.max) / state.sum;
  }
};
ATTN_MISTAKE(online_weight_empty_before_nan);

}  // namespace
}  // namespace attn::mistakes::step9
