// Step 8's typical mistakes: alibi_slopes and add_alibi_bias. (course/mistakes/mistake.hpp
// says what an entry is.)
#include <cmath>
#include <cstddef>
#include <vector>

#include "mistake.hpp"

namespace attn::mistakes::step8 {
namespace {

/// The slopes 2^e(h, H) for h = 1..H, with the exponent given by Exponent.
template <double (*Exponent)(std::size_t, std::size_t)>
std::vector<float> slopes_with(std::size_t heads) {
  std::vector<float> slopes;
  for (std::size_t h = 1; h <= heads; ++h) slopes.push_back(static_cast<float>(std::exp2(Exponent(h, heads))));
  return slopes;
}

/// S(i, j) = Combine(S(i, j), slope, i, j) for every element of S (any shape).
template <float (*Combine)(float, float, std::size_t, std::size_t)>
void bias_with(matrix_view S, float slope) {
  for (std::size_t i = 0; i < S.rows; ++i) {
    for (std::size_t j = 0; j < S.cols; ++j) S(i, j) = Combine(S(i, j), slope, i, j);
  }
}

float signed_distance(std::size_t i, std::size_t j) { return static_cast<float>(j) - static_cast<float>(i); }

struct alibi_heads_from_zero {
  static constexpr info about{
      .step = 8, .id = "alibi_heads_from_zero", .name = "heads counted from 0 in the slopes",
      .why = "The slopes are lambda_h = 2^(-8h/H) for h = 1..H; counting h from 0 makes the first slope "
             "2^0 = 1 and the last 2^(-8(H-1)/H), which never reaches 1/256 (for 8 heads 1, 1/2, ..., "
             "1/128 instead of 1/2, ..., 1/256)",
      .hint = 1};
  static double exponent(std::size_t h, std::size_t heads) {
    return -8.0 * static_cast<double>(h - 1) / static_cast<double>(heads);
  }
  static std::vector<float> alibi_slopes(std::size_t heads) { return slopes_with<&alibi_heads_from_zero::exponent>(heads); }
};
ATTN_MISTAKE(alibi_heads_from_zero);

struct alibi_natural_base {
  static constexpr info about{
      .step = 8, .id = "alibi_natural_base", .name = "e^(-8h/H) instead of 2^(-8h/H)",
      .why = "ALiBi's slopes are powers of two, lambda_h = 2^(-8h/H), from 2^(-8/H) down to 2^-8 = 1/256; "
             "std::exp is e^x, which makes every slope smaller (the last e^-8 = 0.00034 instead of "
             "1/256); std::exp2 is 2^x",
      .hint = 1};
  static std::vector<float> alibi_slopes(std::size_t heads) {
    std::vector<float> slopes;
    for (std::size_t h = 1; h <= heads; ++h) {
      slopes.push_back(static_cast<float>(std::exp(-8.0 * static_cast<double>(h) / static_cast<double>(heads))));
    }
    return slopes;
  }
};
ATTN_MISTAKE(alibi_natural_base);

struct alibi_exponent_integer_division {
  static constexpr info about{
      .step = 8, .id = "alibi_exponent_integer_division", .name = "-8h/H computed in integers",
      .why = "With h and H integers, -8 * h / H is an integer division that drops the fraction, so "
             "unless H divides 8h the exponent is wrong (for 3 heads the first slope is 2^-2 "
             "instead of 2^(-8/3)); convert to double before dividing",
      .hint = 4};
  static double exponent(std::size_t h, std::size_t heads) {
    // Signed integers: C++ divides toward zero (with size_t, -8 * h would wrap instead).
    return static_cast<double>(-8 * static_cast<long long>(h) / static_cast<long long>(heads));
  }
  static std::vector<float> alibi_slopes(std::size_t heads) {
    return slopes_with<&alibi_exponent_integer_division::exponent>(heads);
  }
};
ATTN_MISTAKE(alibi_exponent_integer_division);

struct alibi_slopes_reversed {
  static constexpr info about{
      .step = 8, .id = "alibi_slopes_reversed", .name = "the slopes smallest first",
      .why = "Head h (counting from 1) gets lambda_h = 2^(-8h/H), so the slopes come largest first: 1/2, "
             "1/4, ..., 1/256 for 8 heads; in the other order each head gets another head's slope, "
             "and the steep, local heads and the flat, far-looking ones swap places",
      .hint = 1};
  static std::vector<float> alibi_slopes(std::size_t heads) {
    std::vector<float> slopes = ref::alibi_slopes(heads);
    return std::vector<float>(slopes.rbegin(), slopes.rend());
  }
};
ATTN_MISTAKE(alibi_slopes_reversed);

struct alibi_sign_flipped {
  static constexpr info about{
      .step = 8, .id = "alibi_sign_flipped", .name = "added slope * (i - j) instead of slope * (j - i)",
      .why = "For a key in the past j < i, so slope * (j - i) is negative: the further back, the "
             "lower beta_ij, and the weights decay into the past; slope * (i - j) rewards the "
             "distant past instead of penalising it",
      .hint = 2};
  static float combine(float s, float slope, std::size_t i, std::size_t j) { return s + slope * signed_distance(j, i); }
  static void add_alibi_bias(matrix_view S, float slope) { bias_with<&alibi_sign_flipped::combine>(S, slope); }
};
ATTN_MISTAKE(alibi_sign_flipped);

struct alibi_unsigned_distance {
  static constexpr info about{
      .step = 8, .id = "alibi_unsigned_distance", .name = "j - i computed in std::size_t",
      .why = "i and j are std::size_t, so for a key in the past (j < i) j - i wraps around to about "
             "1.8e19 instead of going negative, and the bias of every past key is a huge positive "
             "number; convert each index to float before subtracting",
      .hint = 2};
  static float combine(float s, float slope, std::size_t i, std::size_t j) {
    return s + slope * static_cast<float>(j - i);
  }
  static void add_alibi_bias(matrix_view S, float slope) { bias_with<&alibi_unsigned_distance::combine>(S, slope); }
};
ATTN_MISTAKE(alibi_unsigned_distance);

struct alibi_absolute_distance {
  static constexpr info about{
      .step = 8, .id = "alibi_absolute_distance", .name = "the bias -slope * |j - i|",
      .why = "The bias is slope * (j - i): negative for past keys and positive for keys after i; "
             "-slope * |j - i| penalises both sides, which agrees under the causal mask but not on "
             "the keys j > i of any other score matrix",
      .hint = 2};
  static float combine(float s, float slope, std::size_t i, std::size_t j) {
    return s - slope * std::fabs(signed_distance(i, j));
  }
  static void add_alibi_bias(matrix_view S, float slope) { bias_with<&alibi_absolute_distance::combine>(S, slope); }
};
ATTN_MISTAKE(alibi_absolute_distance);

struct alibi_overwrites_scores {
  static constexpr info about{
      .step = 8, .id = "alibi_overwrites_scores", .name = "wrote the bias instead of adding it",
      .why = "The bias is added to the scores, beta_ij + slope * (j - i); assigning it throws away "
             "the content score q_i.k_j / sqrt(d) and the mask (a -inf must stay -inf)",
      .hint = 3};
  static float combine(float, float slope, std::size_t i, std::size_t j) { return slope * signed_distance(i, j); }
  static void add_alibi_bias(matrix_view S, float slope) { bias_with<&alibi_overwrites_scores::combine>(S, slope); }
};
ATTN_MISTAKE(alibi_overwrites_scores);

}  // namespace
}  // namespace attn::mistakes::step8
