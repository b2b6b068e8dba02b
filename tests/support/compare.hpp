// Comparing what a function returned with what it should have returned, element by
// element, each within its own absolute bound (from tolerances.hpp), and saying so in ONE
// readable message when it does not: which element, expected, actual, absolute and
// relative error, the tolerance, the inputs (when small) and the seed of the run.
//
//   ATTN_CHECK_CLOSE(what, expected, actual, bound[, inputs])     one number
//   ATTN_CHECK_ALL_CLOSE(what, expected, actual, bounds[, inputs])
//                                                      a vector or matrix; `bounds` is one
//                                                      bound per element or one for all
//   ATTN_REQUIRE_INVALID(expr, "scores", 2, 3)         std::invalid_argument naming the function
//                                                      and the sizes (whole name, whole numbers)
//
// The rules, whatever the bound (support/close.hpp): a NaN expected needs a NaN actual; an
// infinity expected needs the same infinity; a finite expected needs a finite actual; a
// bound of 0 asks for the exact value (masked weights are exactly 0).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <attn/matrix.hpp>

#include "support/catch.hpp"
#include "support/close.hpp"
#include "support/diagnosis.hpp"
#include "support/seed.hpp"

namespace attn::test {

/// Largest input printed in full; bigger ones are summarised by their shape.
inline constexpr std::size_t kPrintLimit = 8;

/// A float or double in full precision ("0.244728476", "-inf", "nan").
inline std::string fmt(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

/// A short number for tables of inputs.
inline std::string fmt_short(double x) {
  if (std::isnan(x) || std::isinf(x)) return fmt(x);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

/// The inputs of a check, printed under the failure message when small enough.
class inputs {
 public:
  inputs() = default;

  inputs& add(std::string_view name, std::span<const float> v) {
    text_ += "    " + std::string(name) + " (length " + std::to_string(v.size()) + ")";
    if (v.size() <= 2 * kPrintLimit) {
      text_ += " = " + row_text(v) + "\n";
    } else {
      text_ += " starts " + row_text(v.first(kPrintLimit)) + " ...\n";
    }
    return *this;
  }
  inputs& add(std::string_view name, const std::vector<float>& v) {
    return add(name, std::span<const float>(v));
  }
  inputs& add(std::string_view name, const_matrix_view m) {
    text_ += "    " + std::string(name) + " (" + std::to_string(m.rows) + " x " +
             std::to_string(m.cols) + ")";
    if (m.rows <= kPrintLimit && m.cols <= kPrintLimit) {
      text_ += " =\n";
      for (std::size_t i = 0; i < m.rows; ++i) text_ += "      " + row_text(m.row(i)) + "\n";
    } else {
      text_ += ": larger than " + std::to_string(kPrintLimit) + " x " +
               std::to_string(kPrintLimit) + ", not printed\n";
    }
    return *this;
  }
  inputs& add(std::string_view name, const matrix& m) { return add(name, m.view()); }
  inputs& add(std::string_view name, double x) {
    text_ += "    " + std::string(name) + " = " + fmt(x) + "\n";
    return *this;
  }
  inputs& note(std::string_view line) {
    text_ += "    " + std::string(line) + "\n";
    return *this;
  }

  const std::string& text() const { return text_; }

 private:
  static std::string row_text(std::span<const float> v) {
    std::string s = "[";
    for (std::size_t j = 0; j < v.size(); ++j) s += (j ? ", " : "") + fmt_short(v[j]);
    return s + "]";
  }
  std::string text_;
};

/// The outcome of a comparison: ok, or the message to print.
struct verdict {
  bool ok = true;
  std::string message;
};

namespace detail {

inline std::string error_text(double expected, double actual, double bound) {
  std::string s = "    expected   " + fmt(expected) + "\n    actual     " + fmt(actual) + "\n";
  if (std::isnan(expected)) return s + "    NaN in must give NaN out\n";
  if (std::isinf(expected)) return s + "    an infinity must come out exactly\n";
  if (!std::isfinite(actual)) return s + "    expected a finite value\n";
  const double abs_err = std::fabs(actual - expected);
  s += "    abs error  " + fmt(abs_err);
  if (expected != 0.0) s += "   (relative " + fmt(abs_err / std::fabs(expected)) + ")";
  s += "\n    tolerance  " + fmt(bound) + (bound == 0.0 ? " (the exact value)" : " (absolute)") + "\n";
  return s;
}

/// rows == 0 marks a vector (or a single number): its elements have one index.
inline std::string index_text(std::size_t k, std::size_t rows, std::size_t cols) {
  if (rows == 0 || cols == 0) return "element " + std::to_string(k);
  return "element (" + std::to_string(k / cols) + ", " + std::to_string(k % cols) + ")";
}

}  // namespace detail

/// Compares `actual` with `expected`, element k within bounds[k] (or bounds[0] for all when
/// bounds has one entry), both laid out row-major as rows x cols (rows = 0: a vector). Reports the first
/// mismatch in full and how many others there were.
inline verdict compare_elements(std::string_view what, std::span<const double> expected,
                                std::span<const double> actual, std::span<const double> bounds,
                                std::size_t rows, std::size_t cols, const inputs& in = {}) {
  verdict v;
  if (expected.size() != actual.size()) {
    v.ok = false;
    v.message = std::string(what) + ": expected " + std::to_string(expected.size()) +
                " elements, got " + std::to_string(actual.size()) + "\n" + seed_note();
    return v;
  }
  std::size_t first = expected.size();
  std::size_t mismatches = 0;
  for (std::size_t k = 0; k < expected.size(); ++k) {
    const double b = bounds.size() == 1 ? bounds[0] : bounds[k];
    if (!close(expected[k], actual[k], b)) {
      if (mismatches++ == 0) first = k;
    }
  }
  if (mismatches == 0) return v;
  const double b = bounds.size() == 1 ? bounds[0] : bounds[first];
  v.ok = false;
  v.message = std::string(what) + ": " + detail::index_text(first, rows, cols) + " is wrong (" +
              std::to_string(mismatches) + " of " + std::to_string(expected.size()) +
              " elements are)\n" + detail::error_text(expected[first], actual[first], b);
  if (!in.text().empty()) v.message += "  inputs:\n" + in.text();
  if (diagnosis::on_values) v.message += diagnosis::on_values(expected, actual, bounds);
  v.message += "  " + seed_note();
  return v;
}

/// Anything with elements: a span or vector of float/double, or a matrix or view.
template <class T>
std::vector<double> as_doubles(const T& xs) {
  return std::vector<double>(xs.begin(), xs.end());
}
inline std::vector<double> as_doubles(const_matrix_view m) {
  return std::vector<double>(m.data, m.data + m.size());
}
inline std::vector<double> as_doubles(matrix_view m) { return as_doubles(const_matrix_view(m)); }
inline std::vector<double> as_doubles(const matrix& m) { return as_doubles(m.view()); }
inline std::vector<double> as_doubles(std::initializer_list<double> xs) { return std::vector<double>(xs); }
inline std::vector<double> as_doubles(double x) { return {x}; }

/// {rows, cols} of a matrix; {0, size} for a vector.
template <class T> std::pair<std::size_t, std::size_t> shape_of(const T& xs) { return {0, xs.size()}; }
inline std::pair<std::size_t, std::size_t> shape_of(const_matrix_view m) { return {m.rows, m.cols}; }
inline std::pair<std::size_t, std::size_t> shape_of(matrix_view m) { return {m.rows, m.cols}; }
inline std::pair<std::size_t, std::size_t> shape_of(const matrix& m) { return {m.rows(), m.cols()}; }
inline std::pair<std::size_t, std::size_t> shape_of(std::initializer_list<double> xs) { return {0, xs.size()}; }

/// compare_elements for any two containers of numbers of the same shape.
template <class E, class A, class B>
verdict compare(std::string_view what, const E& expected, const A& actual, const B& bounds,
                const inputs& in = {}) {
  const auto e = as_doubles(expected);
  const auto a = as_doubles(actual);
  const auto b = as_doubles(bounds);
  const auto [rows, cols] = shape_of(actual);
  return compare_elements(what, e, a, b, rows, cols, in);
}

/// One number.
inline verdict compare_value(std::string_view what, double expected, double actual, double bound,
                             const inputs& in = {}) {
  const double e[1] = {expected}, a[1] = {actual}, b[1] = {bound};
  return compare_elements(what, e, a, b, 0, 1, in);
}

/// Bounds with 0 wherever the score row is -inf: a masked position's weight must be
/// exactly 0, not merely small.
inline std::vector<double> exact_where_masked(std::vector<double> bounds, std::span<const float> scores) {
  for (std::size_t j = 0; j < scores.size() && j < bounds.size(); ++j) {
    if (scores[j] == -std::numeric_limits<float>::infinity()) bounds[j] = 0.0;
  }
  return bounds;
}

/// The message of the std::invalid_argument `f` throws, or "" when it throws none.
template <class F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

/// How a call that should have been refused ended.
struct refusal {
  bool returned = true;  ///< it returned normally
  bool invalid = false;  ///< it threw std::invalid_argument
  std::string message;   ///< what it threw (type and message for other exceptions)
};

template <class F>
refusal refusal_of(F&& f) {
  refusal r;
  try {
    f();
  } catch (const std::invalid_argument& e) {
    r = {false, true, e.what()};
  } catch (const std::exception& e) {
    r = {false, false, e.what()};
  } catch (...) {
    r = {false, false, "an exception that is not a std::exception"};
  }
  return r;
}

/// "3", "3 and 5", "2, 3 and 4".
inline std::string and_list(std::span<const std::size_t> xs) {
  std::string s;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i > 0) s += i + 1 == xs.size() ? " and " : ", ";
    s += std::to_string(xs[i]);
  }
  return s;
}

/// The failure message of a refusal check, or "" when `r` is the refusal asked for: a
/// std::invalid_argument whose message names `function` as a whole identifier and holds each
/// of `sizes` as a whole number (diagnosis::gaps_in, the one rule). `function` is one name
/// ("scores") or several that are all right ("attention_weights|scores": a pipeline may let
/// the step it calls refuse the input). `sizes` are the sizes that make the input wrong.
inline std::string refusal_failure(std::string_view expr, const refusal& r, std::string_view function,
                                   std::span<const std::size_t> sizes) {
  const diagnosis::message_gaps gaps = diagnosis::gaps_in(r.message, function, sizes);
  if (r.invalid && gaps.ok()) return {};
  std::string names;  // "attention_weights or scores"
  for (const char c : function) names += c == '|' ? std::string(" or ") : std::string(1, c);
  std::string s = std::string(expr) + ": expected std::invalid_argument whose message names " + names;
  if (!sizes.empty()) s += std::string(" and the size") + (sizes.size() == 1 ? " " : "s ") + and_list(sizes);
  s += ", but ";
  if (r.returned) {
    s += "it returned normally (the bad input was not refused)";
  } else if (r.invalid) {
    s += "its message ";
    if (gaps.function_missing) {
      s += "does not name " + names;
      // Only inside a longer name ("attention" in "attention_output"): another function.
      bool fragment = false;
      for (std::size_t at = 0; at <= function.size();) {
        std::size_t bar = function.find('|', at);
        if (bar == std::string_view::npos) bar = function.size();
        const std::string_view one = function.substr(at, bar - at);
        fragment = fragment || (!one.empty() && r.message.find(one) != std::string::npos);
        at = bar + 1;
      }
      if (fragment) s += " (only as part of a longer name, another function's)";
      if (!gaps.sizes_missing.empty()) s += " and ";
    }
    if (!gaps.sizes_missing.empty()) s += "lacks " + and_list(gaps.sizes_missing);
    s += ": \"" + r.message + "\"";
  } else {
    s += "it threw another exception: \"" + r.message + "\"";
  }
  s += "\n";
  if (diagnosis::on_refusal) s += diagnosis::on_refusal(function, sizes, r.returned, r.invalid, r.message);
  return s + "  " + seed_note();
}

}  // namespace attn::test

/// Fails (without stopping the test) with one readable message when a verdict is not ok.
#define ATTN_CHECK_VERDICT(verdict_expr)                         \
  do {                                                           \
    const ::attn::test::verdict attn_verdict_ = (verdict_expr);  \
    if (!attn_verdict_.ok) {                                     \
      FAIL_CHECK(attn_verdict_.message);                         \
    } else {                                                     \
      SUCCEED("within tolerance");                               \
    }                                                            \
  } while (false)

/// One number within an absolute bound (NaN must match NaN, infinities exactly).
/// Arguments: what, expected, actual, bound[, inputs].
#define ATTN_CHECK_CLOSE(...) ATTN_CHECK_VERDICT(::attn::test::compare_value(__VA_ARGS__))

/// A vector or matrix, element by element, each within its bound.
/// Arguments: what, expected, actual, bounds (one per element, or one for all)[, inputs].
#define ATTN_CHECK_ALL_CLOSE(...) ATTN_CHECK_VERDICT(::attn::test::compare(__VA_ARGS__))

/// `expr` throws std::invalid_argument, and its message names `function` (e.g. "scores", or
/// "attention_weights|scores" for either) as a whole identifier and each of the sizes that
/// make the input wrong (one or more) as a whole number:
///   ATTN_REQUIRE_INVALID(attn::dot(q3, k5), "dot", 3, 5);
/// A failure stops the test case, as REQUIRE does: what follows a bad input that was not
/// refused is not worth checking.
#define ATTN_REQUIRE_INVALID(expr, function, first_size, ...)                                   \
  do {                                                                                          \
    const std::string_view attn_function_ = (function);                                         \
    const std::initializer_list<std::size_t> attn_sizes_{first_size __VA_OPT__(, ) __VA_ARGS__}; \
    const ::attn::test::refusal attn_refusal_ =                                                 \
        ::attn::test::refusal_of([&] { static_cast<void>(expr); });                             \
    const std::string attn_failure_ = ::attn::test::refusal_failure(                            \
        #expr, attn_refusal_, attn_function_,                                                   \
        std::span<const std::size_t>(attn_sizes_.begin(), attn_sizes_.size()));                 \
    if (!attn_failure_.empty()) FAIL(attn_failure_);                                            \
    SUCCEED("refused, naming " << attn_function_ << " and the sizes "                           \
                               << ::attn::test::and_list({attn_sizes_.begin(), attn_sizes_.size()})); \
  } while (false)
