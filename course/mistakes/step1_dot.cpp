// Step 1's typical mistakes: dot. (course/mistakes/mistake.hpp says what an entry is.)
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>

#include "mistake.hpp"

namespace attn::mistakes::step1 {
namespace {

using std::span;

/// The answer key's sum of q[t] k[t] for t in [from, to), in double (as the key does).
double products(span<const float> q, span<const float> k, std::size_t from, std::size_t to) {
  double sum = 0.0;
  for (std::size_t t = from; t < to && t < q.size() && t < k.size(); ++t) {
    sum += static_cast<double>(q[t]) * static_cast<double>(k[t]);
  }
  return sum;
}

struct lengths_not_compared {
  static constexpr info about{
      .step = 1, .id = "lengths_not_compared", .name = "q and k of different lengths not refused",
      .why = "q . k only means something when q and k have the same dimension d; summing anyway reads "
             "past the end of the shorter one (undefined behaviour that may seem to work), so the "
             "contract asks for std::invalid_argument naming attn::dot and both sizes",
      .hint = 2};
  static float dot(span<const float> q, span<const float> k) {
    // What such a loop adds up, kept inside both vectors: the products that exist.
    return static_cast<float>(products(q, k, 0, q.size()));
  }
};
ATTN_MISTAKE(lengths_not_compared);

struct refusal_does_not_name_dot {
  static constexpr info about{
      .step = 1, .id = "refusal_does_not_name_dot",
      .name = "the error for different lengths does not name attn::dot",
      .why = "A bare std::invalid_argument(\"size mismatch\") leaves the caller guessing which of "
             "many calls went wrong; attn::invalid_input(\"attn::dot\", ...) names the function and the "
             "message gives both sizes",
      .hint = 2};
  static float dot(span<const float> q, span<const float> k) {
    if (q.size() != k.size()) throw std::invalid_argument("size mismatch: q and k differ in length");
    return ref::dot(q, k);
  }
};
ATTN_MISTAKE(refusal_does_not_name_dot);

struct refusal_omits_sizes {
  static constexpr info about{
      .step = 1, .id = "refusal_omits_sizes",
      .name = "the error for different lengths does not give the sizes",
      .why = "A message like \"attn::dot: q and k have different lengths\" names the function but not the lengths, so "
             "the caller still has to find out which vector was wrong and by how much; the contract "
             "asks for a message naming both sizes (\"q has 3 elements but k has 5\"), made with "
             "std::to_string",
      .hint = 2};
  static float dot(span<const float> q, span<const float> k) {
    if (q.size() != k.size()) invalid_input("attn::dot", "q and k have different lengths; expected equal lengths");
    return ref::dot(q, k);
  }
};
ATTN_MISTAKE(refusal_omits_sizes);

struct skips_last_element {
  static constexpr info about{
      .step = 1, .id = "skips_last_element", .name = "the loop stops one element early",
      .why = "With t + 1 < d (or t < d - 1) the last product q[d-1] k[d-1] is never added: on the "
             "card that drops (-1.5)(2.0) = -3 and gives 2 instead of -1, and a key that differs "
             "from the query only in its last component is not seen at all",
      .hint = 5};
  static float dot(span<const float> q, span<const float> k) {
    ref::dot(q, k);  // the length check
    return static_cast<float>(products(q, k, 0, q.empty() ? 0 : q.size() - 1));
  }
};
ATTN_MISTAKE(skips_last_element);

struct skips_first_element {
  static constexpr info about{
      .step = 1, .id = "skips_first_element", .name = "the loop starts at 1 instead of 0",
      .why = "Indices run from 0 to d - 1; starting at t = 1 drops the product q[0] k[0]: on the "
             "card that is (2.0)(1.0) = 2, so the sum is -3 instead of -1",
      .hint = 5};
  static float dot(span<const float> q, span<const float> k) {
    ref::dot(q, k);
    return static_cast<float>(products(q, k, 1, q.size()));
  }
};
ATTN_MISTAKE(skips_first_element);

struct sum_overwritten {
  static constexpr info about{
      .step = 1, .id = "sum_overwritten", .name = "sum = q[t] * k[t] instead of sum +=",
      .why = "Assigning instead of adding keeps only the last product: on the card (-1.5)(2.0) = -3 "
             "instead of the whole sum -1. The accumulator must add one product per element",
      .hint = 3};
  static float dot(span<const float> q, span<const float> k) {
    ref::dot(q, k);
    return q.empty() ? 0.0f : static_cast<float>(products(q, k, q.size() - 1, q.size()));
  }
};
ATTN_MISTAKE(sum_overwritten);

struct adds_instead_of_multiplying {
  static constexpr info about{
      .step = 1, .id = "adds_instead_of_multiplying", .name = "q[t] + k[t] instead of q[t] * k[t]",
      .why = "The dot product is a sum of products, q[0] k[0] + q[1] k[1] + ...; a sum of sums is "
             "just the total of both vectors and says nothing about how well q matches k (on the "
             "card it gives 5.5 instead of -1)",
      .hint = 1};
  static float dot(span<const float> q, span<const float> k) {
    ref::dot(q, k);
    double sum = 0.0;
    for (std::size_t t = 0; t < q.size() && t < k.size(); ++t) {
      sum += static_cast<double>(q[t]) + static_cast<double>(k[t]);
    }
    return static_cast<float>(sum);
  }
};
ATTN_MISTAKE(adds_instead_of_multiplying);

struct nan_products_skipped {
  static constexpr info about{
      .step = 1, .id = "nan_products_skipped", .name = "NaN products skipped",
      .why = "A NaN in q or k (or inf * 0) means the score is undefined, and the contract asks for "
             "NaN out so that the problem shows up; skipping it returns a plausible number that "
             "hides the bad input",
      .hint = 3};
  static float dot(span<const float> q, span<const float> k) {
    ref::dot(q, k);
    double sum = 0.0;
    for (std::size_t t = 0; t < q.size() && t < k.size(); ++t) {
      const double p = static_cast<double>(q[t]) * static_cast<double>(k[t]);
      if (std::isnan(p)) continue;
      sum += p;
    }
    return static_cast<float>(sum);
  }
};
ATTN_MISTAKE(nan_products_skipped);

struct int_accumulator {
  static constexpr info about{
      .step = 1, .id = "int_accumulator", .name = "the sum kept in an int (auto sum = 0)",
      .why = "auto sum = 0 makes sum an int, so every sum += q[t] * k[t] truncates towards zero: the "
             "card's 2 + 0.5 - 0.5 - 3 becomes 2, 2, 1, -2 instead of -1. Start a float or double "
             "accumulator at 0.0",
      .hint = 6};
  /// What converting a float to int gives on x86-64 (cvttss2si): truncation, and INT_MIN
  /// for NaN and for values outside int's range (undefined behaviour in C++).
  static std::int32_t to_int(float f) {
    if (!(f >= -2147483648.0f && f < 2147483648.0f)) return std::numeric_limits<std::int32_t>::min();
    return static_cast<std::int32_t>(f);
  }
  static float dot(span<const float> q, span<const float> k) {
    ref::dot(q, k);
    std::int32_t sum = 0;
    for (std::size_t t = 0; t < q.size() && t < k.size(); ++t) sum = to_int(static_cast<float>(sum) + q[t] * k[t]);
    return static_cast<float>(sum);
  }
};
ATTN_MISTAKE(int_accumulator);

}  // namespace
}  // namespace attn::mistakes::step1
