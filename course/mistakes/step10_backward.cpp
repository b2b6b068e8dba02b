// Step 10's typical mistakes: softmax_backward. (course/mistakes/mistake.hpp says what an
// entry is.)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

#include "mistake.hpp"

namespace attn::mistakes::step10 {
namespace {

using std::span;

/// <g, a> = sum_l g_l a_l, accumulated in double as the answer key does, over the first n.
float weighted_mean(span<const float> a, span<const float> g, std::size_t n) {
  double c = 0.0;
  for (std::size_t i = 0; i < n; ++i) c += static_cast<double>(g[i]) * a[i];
  return static_cast<float>(c);
}

/// grad_s[j] = Entry(a_j, g_j, c) with c = <g, a>, after the reference's checks.
template <float (*Entry)(float, float, float)>
void backward_with(span<const float> a, span<const float> g, span<float> grad_s) {
  ref::softmax_backward(a, g, grad_s);  // the checks
  const float c = weighted_mean(a, g, a.size());
  for (std::size_t j = 0; j < a.size(); ++j) grad_s[j] = Entry(a[j], g[j], c);
}

/// The right formula over the first n entries (n fits every span).
void right_formula(span<const float> a, span<const float> g, span<float> grad_s, std::size_t n) {
  const float c = weighted_mean(a, g, n);
  for (std::size_t j = 0; j < n; ++j) grad_s[j] = a[j] * (g[j] - c);
}

struct backward_mean_not_weighted {
  static constexpr info about{
      .step = 10, .id = "backward_mean_not_weighted", .name = "subtracted the plain mean of grad_a",
      .why = "The constant is <g, a> = sum_l a_l g_l, the mean of g weighted by the softmax weights "
             "a_l; the plain mean (1/n) sum_l g_l is the same only for uniform weights, and with "
             "it the entries of grad_s no longer sum to 0",
      .hint = 2};
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    ref::softmax_backward(a, grad_a, grad_s);  // the checks
    double mean = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) mean += static_cast<double>(grad_a[i]) / static_cast<double>(a.size());
    const float c = static_cast<float>(mean);
    for (std::size_t j = 0; j < a.size(); ++j) grad_s[j] = a[j] * (grad_a[j] - c);
  }
};
ATTN_MISTAKE(backward_mean_not_weighted);

struct backward_weight_on_one_term {
  static constexpr info about{
      .step = 10, .id = "backward_weight_on_one_term", .name = "a_j g_j - <g, a> instead of a_j (g_j - <g, a>)",
      .why = "Both terms of (J^T g)_j = a_j g_j - a_j <g, a> carry the factor a_j; subtracting <g, a> "
             "unweighted takes the same amount from every entry, so the entries no longer sum to 0 "
             "and a key with weight 0 still gets a gradient",
      .hint = 3};
  static float entry(float a, float g, float c) { return a * g - c; }
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    backward_with<&backward_weight_on_one_term::entry>(a, grad_a, grad_s);
  }
};
ATTN_MISTAKE(backward_weight_on_one_term);

struct backward_sign_flipped {
  static constexpr info about{
      .step = 10, .id = "backward_sign_flipped", .name = "a_j (<g, a> - g_j): the gradient with the wrong sign",
      .why = "dL/ds_j = a_j (g_j - <g, a>): raising s_j raises a_j, which changes L by g_j, and takes "
             "weight from the others, which changes it by <g, a>; with the sign flipped a gradient "
             "descent step on the scores climbs the loss",
      .hint = 1};
  static float entry(float a, float g, float c) { return a * (c - g); }
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    backward_with<&backward_sign_flipped::entry>(a, grad_a, grad_s);
  }
};
ATTN_MISTAKE(backward_sign_flipped);

struct backward_no_diagonal {
  static constexpr info about{
      .step = 10, .id = "backward_no_diagonal", .name = "only -a_j <g, a>, the diagonal of J forgotten",
      .why = "J = diag(a) - a a^T has two parts: the diag(a) part gives a_j g_j and the a a^T part "
             "gives -a_j <g, a>; without the first every entry has the sign of -<g, a> and g_j itself "
             "plays no part",
      .hint = 3};
  static float entry(float a, float, float c) { return -a * c; }
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    backward_with<&backward_no_diagonal::entry>(a, grad_a, grad_s);
  }
};
ATTN_MISTAKE(backward_no_diagonal);

struct backward_diagonal_only {
  static constexpr info about{
      .step = 10, .id = "backward_diagonal_only", .name = "a_j g_j only, the <g, a> term forgotten",
      .why = "J = diag(a) - a a^T: raising s_j raises a_j but also lowers every other weight, which is "
             "the -a_j <g, a> term; a_j g_j alone treats the weights as independent, and the entries "
             "no longer sum to 0 (for a = [0.5, 0.5], g = [1, -1] it happens to be right)",
      .hint = 3};
  static float entry(float a, float g, float) { return a * g; }
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    backward_with<&backward_diagonal_only::entry>(a, grad_a, grad_s);
  }
};
ATTN_MISTAKE(backward_diagonal_only);

struct backward_running_dot {
  static constexpr info about{
      .step = 10, .id = "backward_running_dot", .name = "<g, a> summed in the same loop that writes grad_s",
      .why = "Every entry needs the whole sum <g, a> = sum_l a_l g_l over all n weights; adding a_j g_j "
             "to it in the loop that writes grad_s[j] gives entry j only the partial sum over l <= j, "
             "so all but the last entry are wrong. Compute it once, before that loop",
      .hint = 2};
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    ref::softmax_backward(a, grad_a, grad_s);  // the checks
    double c = 0.0;
    for (std::size_t j = 0; j < a.size(); ++j) {
      c += static_cast<double>(grad_a[j]) * a[j];
      grad_s[j] = a[j] * (grad_a[j] - static_cast<float>(c));
    }
  }
};
ATTN_MISTAKE(backward_running_dot);

struct backward_lengths_not_checked {
  static constexpr info about{
      .step = 10, .id = "backward_lengths_not_checked", .name = "the three lengths not checked",
      .why = "a, grad_a and grad_s must all have length n (one entry per score); with a mismatch the "
             "loop reads past grad_a or writes past grad_s, so it is refused with "
             "std::invalid_argument naming attn::softmax_backward before anything is written",
      .hint = 2};
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    // What such a loop computes, kept inside the three spans: the entries they all have.
    right_formula(a, grad_a, grad_s, std::min({a.size(), grad_a.size(), grad_s.size()}));
  }
};
ATTN_MISTAKE(backward_lengths_not_checked);

struct backward_output_length_not_checked {
  static constexpr info about{
      .step = 10, .id = "backward_output_length_not_checked", .name = "the length of grad_s not checked",
      .why = "grad_s is an output, but its length must be checked as well as grad_a's: one gradient "
             "entry per score, n; a shorter grad_s is written past its end, a longer one is left "
             "partly unset, so it is refused with std::invalid_argument",
      .hint = 2};
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    if (grad_a.size() != a.size()) return ref::softmax_backward(a, grad_a, grad_s);
    right_formula(a, grad_a, grad_s, std::min(a.size(), grad_s.size()));
  }
};
ATTN_MISTAKE(backward_output_length_not_checked);

struct backward_refusal_omits_sizes {
  static constexpr info about{
      .step = 10, .id = "backward_refusal_omits_sizes",
      .name = "the error for lengths that differ does not give the lengths",
      .why = "A message like \"the lengths differ\" names attn::softmax_backward but not the three lengths, "
             "so the caller cannot tell which span was wrong; the contract asks for a message naming them "
             "(\"a has 3 elements, grad_a has 4 and grad_s has 3; expected equal lengths\")",
      .hint = 2};
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    if (grad_a.size() != a.size() || grad_s.size() != a.size()) {
      attn::invalid_input("attn::softmax_backward", "the lengths differ; expected equal lengths");
    }
    ref::softmax_backward(a, grad_a, grad_s);
  }
};
ATTN_MISTAKE(backward_refusal_omits_sizes);

struct backward_skips_zero_weights {
  static constexpr info about{
      .step = 10, .id = "backward_skips_zero_weights", .name = "skips zero weights in <g, a>",
      .why = "Every term of <g, a> = sum_l a_l g_l counts: 0 x NaN = NaN (0 x inf too), so a NaN in "
             "grad_a makes <g, a>, and so every entry a_j (g_j - <g, a>), NaN even where a_j = 0 "
             "(NaN in, NaN out); skipping the terms with a_l == 0 hides it",
      .hint = 2};
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    ref::softmax_backward(a, grad_a, grad_s);  // the checks
    double c = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i] != 0.0f) c += static_cast<double>(grad_a[i]) * a[i];
    }
    for (std::size_t j = 0; j < a.size(); ++j) grad_s[j] = a[j] * (grad_a[j] - static_cast<float>(c));
  }
};
ATTN_MISTAKE(backward_skips_zero_weights);

struct backward_dot_per_entry {
  static constexpr info about{
      .step = 10, .id = "backward_dot_per_entry", .name = "recomputes <g, a> for every entry (O(n^2))",
      .why = "The sum <g, a> is the same number for every entry j; recomputing the n-term sum inside the loop "
             "that writes grad_s gives the right values in O(n^2) work instead of O(n), which is the "
             "point of the formula (forming J costs O(n^2) too). Compute it once, before that loop",
      .hint = 2,
      .only_cost = true};
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    ref::softmax_backward(a, grad_a, grad_s);  // the checks
    for (std::size_t j = 0; j < a.size(); ++j) grad_s[j] = a[j] * (grad_a[j] - weighted_mean(a, grad_a, a.size()));
  }
};
ATTN_MISTAKE(backward_dot_per_entry);

struct backward_skips_nan_weights {
  static constexpr info about{
      .step = 10, .id = "backward_skips_nan_weights", .name = "leaves NaN weights out of <g, a>",
      .why = "<g, a> = sum_l a_l g_l takes every term: a NaN weight makes it NaN, and so every entry "
             "a_j (g_j - <g, a>) (NaN in, NaN out); leaving the NaN weights out of the sum (a test such as "
             "!std::isnan(a_l)) makes only their own entries NaN and hides the NaN from the others",
      .hint = 2};
  static void softmax_backward(span<const float> a, span<const float> grad_a, span<float> grad_s) {
    ref::softmax_backward(a, grad_a, grad_s);  // the checks
    double c = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!std::isnan(a[i])) c += static_cast<double>(grad_a[i]) * a[i];
    }
    for (std::size_t j = 0; j < a.size(); ++j) grad_s[j] = a[j] * (grad_a[j] - static_cast<float>(c));
  }
};
ATTN_MISTAKE(backward_skips_nan_weights);

}  // namespace
}  // namespace attn::mistakes::step10
