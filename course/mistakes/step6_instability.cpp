// Step 6's typical mistakes: dot_variance, entropy and softmax_jacobian. (course/mistakes/
// mistake.hpp says what an entry is.)
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "mistake.hpp"

namespace attn::mistakes::step6 {
namespace {

using std::span;

// --------------------------------------------------------------------------- dot_variance

/// The answer key's draws (one generator, q then k from a float standard normal, `samples`
/// times), each dot product passed through `Term` and the terms averaged; `Divisor` says
/// what the sum is divided by.
template <double (*Term)(double)>
double estimate(std::size_t d, std::size_t samples, std::uint64_t seed, double divisor) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(d), k(d);
  double sum = 0.0;
  for (std::size_t s = 0; s < samples; ++s) {
    for (float& x : q) x = normal(gen);
    for (float& x : k) x = normal(gen);
    sum += Term(static_cast<double>(ref::dot(q, k)));
  }
  return sum / divisor;
}

double square(double x) { return x * x; }
double itself(double x) { return x; }

struct variance_of_mean_not_square {
  static constexpr info about{
      .step = 6, .id = "variance_of_mean_not_square", .name = "averaged q.k instead of its square",
      .why = "The mean of q.k is 0, so its variance is the mean of the squares (1/N) sum_r (q^(r).k^(r))^2 over the N samples, "
             "which is about d; averaging the dot products themselves (or squaring their average) gives "
             "about 0 whatever d is",
      .hint = 2};
  static double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
    if (samples == 0) return ref::dot_variance(d, samples, seed);  // the check
    return estimate<&itself>(d, samples, seed, static_cast<double>(samples));
  }
};
ATTN_MISTAKE(variance_of_mean_not_square);

struct variance_divided_by_d {
  static constexpr info about{
      .step = 6, .id = "variance_divided_by_d", .name = "the variance divided by d",
      .why = "dot_variance measures Var[q.k] = d for the raw dot product, the reason step 2 divides the "
             "scores by sqrt(d); dividing the estimate by d gives the variance of the scaled score q.k / "
             "sqrt(d), which is 1",
      .hint = 2};
  static double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
    if (samples == 0) return ref::dot_variance(d, samples, seed);
    return estimate<&square>(d, samples, seed, static_cast<double>(samples * d));
  }
};
ATTN_MISTAKE(variance_divided_by_d);

struct variance_generator_reseeded {
  static constexpr info about{
      .step = 6, .id = "variance_generator_reseeded", .name = "the generator seeded again for every sample",
      .why = "A std::mt19937_64 made from the seed inside the loop starts over each time, so every sample "
             "draws the same q and k and the estimate is one (q.k)^2, not an average over N independent "
             "pairs; make the generator once, before the loop",
      .hint = 2};
  static double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
    if (samples == 0) return ref::dot_variance(d, samples, seed);
    // Every sample is the first one: the mean of N equal squares is that square.
    const double first = estimate<&square>(d, 1, seed, 1.0);
    double sum = 0.0;
    for (std::size_t s = 0; s < samples; ++s) sum += first;
    return sum / static_cast<double>(samples);
  }
};
ATTN_MISTAKE(variance_generator_reseeded);

struct zero_samples_not_refused {
  static constexpr info about{
      .step = 6, .id = "zero_samples_not_refused", .name = "samples = 0 not refused",
      .why = "With no samples the estimate is 0 / 0, which is NaN: the contract asks for "
             "std::invalid_argument naming the function instead of a NaN that spreads silently",
      .hint = 2};
  static double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
    if (samples == 0) return 0.0 / static_cast<double>(samples);
    return ref::dot_variance(d, samples, seed);
  }
};
ATTN_MISTAKE(zero_samples_not_refused);

// -------------------------------------------------------------------------------- entropy

struct entropy_log2 {
  static constexpr info about{
      .step = 6, .id = "entropy_log2", .name = "log2 instead of the natural log",
      .why = "The entropy H(a) = -sum_j a_j ln a_j is in nats: uniform weights over 3 keys give "
             "ln 3 = 1.0986, and the tests' softmax([14, 12]) gives 0.365; std::log2 gives bits, 1/ln 2 = "
             "1.44 times too much (log2 3 = 1.585)",
      .hint = 3};
  static float entropy(span<const float> a) {
    double h = 0.0;
    for (float x : a) {
      if (x == 0.0f) continue;
      const double xd = x;
      h -= xd * std::log2(xd);
    }
    return static_cast<float>(h);
  }
};
ATTN_MISTAKE(entropy_log2);

struct entropy_wrong_sign {
  static constexpr info about{
      .step = 6, .id = "entropy_wrong_sign", .name = "sum of a ln a without the minus sign",
      .why = "Every weight a_j is in [0, 1], so ln a_j <= 0 and each a_j ln a_j is <= 0; the entropy "
             "H(a) = -sum_j a_j ln a_j is the negated sum, >= 0, ln n for uniform weights and 0 for one-hot",
      .hint = 1};
  static float entropy(span<const float> a) {
    double h = 0.0;
    for (float x : a) {
      if (x == 0.0f) continue;
      const double xd = x;
      h += xd * std::log(xd);
    }
    return static_cast<float>(h);
  }
};
ATTN_MISTAKE(entropy_wrong_sign);

struct zero_times_log_zero {
  static constexpr info about{
      .step = 6, .id = "zero_times_log_zero", .name = "0 ln 0 computed as 0 * log(0)",
      .why = "In floating point 0 * log(0) is 0 * -inf = NaN, so any zero weight (a masked key, one-hot "
             "weights) makes the entropy NaN; the limit of a ln a as a -> 0 is 0, so skip weights that are "
             "exactly 0",
      .hint = 3};
  static float entropy(span<const float> a) {
    double h = 0.0;
    for (float x : a) {
      const double xd = x;
      h -= xd * std::log(xd);
    }
    return static_cast<float>(h);
  }
};
ATTN_MISTAKE(zero_times_log_zero);

struct entropy_skips_nan {
  static constexpr info about{
      .step = 6, .id = "entropy_skips_nan", .name = "NaN weights skipped along with the zeros",
      .why = "A test like if (!(a_j > 0)) continue; skips NaN too, since every comparison with NaN is "
             "false, and [0.25, nan, 0.5] gets a finite entropy; skip only a_j == 0 (false for NaN) so "
             "that NaN in gives NaN out",
      .hint = 3};
  static float entropy(span<const float> a) {
    double h = 0.0;
    for (float x : a) {
      if (!(x > 0.0f)) continue;
      const double xd = x;
      h -= xd * std::log(xd);
    }
    return static_cast<float>(h);
  }
};
ATTN_MISTAKE(entropy_skips_nan);

struct epsilon_in_log {
  static constexpr info about{
      .step = 6, .id = "epsilon_in_log", .name = "a small epsilon added inside the log",
      .why = "ln(a_j + 1e-12) avoids log(0) but changes every term: one-hot weights get -ln(1 + 1e-12) "
             "instead of exactly 0, and a tiny weight such as 1e-40 gets 1e-40 ln(1e-12) instead of "
             "1e-40 ln(1e-40); skip the zero weights instead (0 ln 0 = 0)",
      .hint = 3};
  static float entropy(span<const float> a) {
    double h = 0.0;
    for (float x : a) {
      const double xd = x;
      h -= xd * std::log(xd + 1e-12);
    }
    return static_cast<float>(h);
  }
};
ATTN_MISTAKE(epsilon_in_log);

// ----------------------------------------------------------------------- softmax_jacobian

/// J(i, j) = Entry(a, i, j) after the reference's shape check.
template <float (*Entry)(span<const float>, std::size_t, std::size_t)>
void jacobian_with(span<const float> a, matrix_view J) {
  ref::softmax_jacobian(a, J);  // the checks
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < a.size(); ++j) J(i, j) = Entry(a, i, j);
  }
}

float minus_outer(span<const float> a, std::size_t i, std::size_t j) { return -a[i] * a[j]; }
float diagonal_only(span<const float> a, std::size_t i, std::size_t j) { return a[i] * (i == j ? 1.0f : 0.0f); }
float a_i_for_a_j(span<const float> a, std::size_t i, std::size_t j) {
  return a[i] * ((i == j ? 1.0f : 0.0f) - a[i]);
}

struct jacobian_without_diagonal {
  static constexpr info about{
      .step = 6, .id = "jacobian_without_diagonal", .name = "the Jacobian without its diagonal term",
      .why = "J = diag(a) - a a^T: raising score s_j raises its own weight, so J_jj = a_j (1 - a_j); "
             "-a_j a_l alone is wrong on the diagonal, and its rows sum to -a_j instead of 0 (shift "
             "invariance: moving every score together changes no weight)",
      .hint = 4};
  static void softmax_jacobian(span<const float> a, matrix_view J) { jacobian_with<&minus_outer>(a, J); }
};
ATTN_MISTAKE(jacobian_without_diagonal);

struct jacobian_diagonal_only {
  static constexpr info about{
      .step = 6, .id = "jacobian_diagonal_only", .name = "the Jacobian without its -a a^T term",
      .why = "J_jl = a_j (delta_jl - a_l): besides diag(a), each weight a_j loses a_j a_l when score s_l "
             "grows, since the weights share a total of 1; diag(a) alone has rows summing to a_j instead of "
             "0 and does not vanish for one-hot weights",
      .hint = 4};
  static void softmax_jacobian(span<const float> a, matrix_view J) { jacobian_with<&diagonal_only>(a, J); }
};
ATTN_MISTAKE(jacobian_diagonal_only);

struct jacobian_a_i_for_a_j {
  static constexpr info about{
      .step = 6, .id = "jacobian_a_i_for_a_j", .name = "a_j (delta_jl - a_j) instead of a_j (delta_jl - a_l)",
      .why = "J_jl = d a_j / d s_l = a_j (delta_jl - a_l) involves the weights of both positions; with a_j "
             "in both places the diagonal is still right but every off-diagonal entry is -a_j^2 instead of -a_j a_l, "
             "and the rows no longer sum to 0",
      .hint = 4};
  static void softmax_jacobian(span<const float> a, matrix_view J) { jacobian_with<&a_i_for_a_j>(a, J); }
};
ATTN_MISTAKE(jacobian_a_i_for_a_j);

struct jacobian_shape_not_checked {
  static constexpr info about{
      .step = 6, .id = "jacobian_shape_not_checked", .name = "the shape of J not checked",
      .why = "J must be n x n for n weights; filling a J of another shape writes outside it or leaves "
             "part of it unset, so a wrong shape is refused with std::invalid_argument before anything is "
             "written",
      .hint = 4};
  static void softmax_jacobian(span<const float> a, matrix_view J) {
    // What such a loop writes, kept inside J: the entries that fit.
    for (std::size_t i = 0; i < a.size() && i < J.rows; ++i) {
      for (std::size_t j = 0; j < a.size() && j < J.cols; ++j) J(i, j) = a[i] * ((i == j ? 1.0f : 0.0f) - a[j]);
    }
  }
};
ATTN_MISTAKE(jacobian_shape_not_checked);

}  // namespace
}  // namespace attn::mistakes::step6
