// Naming the student's mistake: the hooks the checks of compare.hpp call when a check
// fails. The judge of the exercises (proxy.cpp, diagnosis.cpp) sets them; in every other
// test program (the answer key, the mutants) they stay empty and a failure says only what
// compare.hpp says.
//
// How a failure is diagnosed (diagnosis.cpp): the judge keeps the last calls it forwarded
// to the student's code, with their inputs and outputs. A failing check's `actual` is found
// among those outputs; each catalogued mistake of that function (course/mistakes/) is run
// on the same inputs, and names itself when it reproduces the student's output within the
// check's own bounds while being itself wrong (outside those bounds of `expected`).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attn::test::diagnosis {

/// The one rule for what a refusal's message must say (compare.hpp's ATTN_REQUIRE_INVALID
/// and the diagnosis below both use it): the function's name as a whole identifier, and
/// each size as a whole number.

/// Is `c` a character of an identifier ([A-Za-z0-9_])?
inline bool identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
inline bool digit_char(char c) { return c >= '0' && c <= '9'; }

/// Does `name` appear in `message` as a whole identifier: not preceded or followed by
/// [A-Za-z0-9_] ("attention" is not in "attn::attention_output: ...", "scores" is not in
/// "scaled_scores")?
inline bool names_identifier(std::string_view message, std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t at = message.find(name); at != std::string_view::npos; at = message.find(name, at + 1)) {
    const std::size_t end = at + name.size();
    if ((at == 0 || !identifier_char(message[at - 1])) && (end == message.size() || !identifier_char(message[end]))) {
      return true;
    }
  }
  return false;
}

/// Does `message` name `function`, as a whole identifier: one name ("scores"), or any of
/// several ("attention_weights|scores")?
inline bool names_function(std::string_view message, std::string_view function) {
  for (std::size_t at = 0; at <= function.size();) {
    std::size_t bar = function.find('|', at);
    if (bar == std::string_view::npos) bar = function.size();
    if (names_identifier(message, function.substr(at, bar - at))) return true;
    at = bar + 1;
  }
  return false;
}

/// Does `message` hold the number `n` as a whole number: a run of digits that is not part
/// of a longer number ("3" is in "q has 3 elements" and "3 x 5", not in "13", "3.5" or "1.3")?
inline bool names_number(std::string_view message, std::size_t n) {
  const std::string wanted = std::to_string(n);
  for (std::size_t at = 0; at < message.size();) {
    if (!digit_char(message[at])) {
      ++at;
      continue;
    }
    std::size_t end = at;
    while (end < message.size() && digit_char(message[end])) ++end;
    const bool fraction = at >= 2 && message[at - 1] == '.' && digit_char(message[at - 2]);
    const bool integer_part = end + 1 < message.size() && message[end] == '.' && digit_char(message[end + 1]);
    if (!fraction && !integer_part && message.substr(at, end - at) == wanted) return true;
    at = end;
  }
  return false;
}

/// What a refusal's message lacks of what it must say.
struct message_gaps {
  bool function_missing = false;           ///< it does not name the function (as a whole name)
  std::vector<std::size_t> sizes_missing;  ///< the sizes it does not hold (as whole numbers)
  bool ok() const { return !function_missing && sizes_missing.empty(); }
  /// Two messages fall short the same way (what the diagnosis matches a mistake on).
  bool same_kind(const message_gaps& o) const {
    return function_missing == o.function_missing && sizes_missing.empty() == o.sizes_missing.empty();
  }
};

/// Checks a refusal's message: `function` as in names_function, and every one of `sizes`.
inline message_gaps gaps_in(std::string_view message, std::string_view function,
                            std::span<const std::size_t> sizes) {
  message_gaps g;
  g.function_missing = !names_function(message, function);
  for (const std::size_t n : sizes) {
    if (!names_number(message, n) &&
        std::find(g.sizes_missing.begin(), g.sizes_missing.end(), n) == g.sizes_missing.end()) {
      g.sizes_missing.push_back(n);
    }
  }
  return g;
}

/// A value check failed: expected, actual and bounds as compare_elements saw them. Returns
/// the text to add to the message ("" when no mistake reproduces `actual`).
using values_hook = std::string (*)(std::span<const double> expected, std::span<const double> actual,
                                    std::span<const double> bounds);

/// A refusal check failed: the last call was to be refused with std::invalid_argument naming
/// `function` and `sizes`. `returned`: it returned normally; otherwise it threw `message` (of
/// the kind that check expected when `invalid` is true, but lacking what gaps_in says).
/// Returns the text to add.
using refusal_hook = std::string (*)(std::string_view function, std::span<const std::size_t> sizes,
                                     bool returned, bool invalid, std::string_view message);

/// After the run: the summary of the diagnoses (printed, and written where the graders ask).
using summary_hook = void (*)();

/// Times any implementation of one contract function (passed as `void (*)()`, cast back to
/// its own type by the probe) the way a growth check timed the student's, and returns how
/// many times longer it took on the large input than on the small one.
using growth_probe = double (*)(void (*implementation)());

/// A growth check failed: the student's `function` took more than `limit` times longer on the
/// large input. The diagnosis times the right function and each mistake of `function` with
/// `probe`; a mistake names itself when it grows past `limit` too and the right one does not.
/// Returns the text to add.
using growth_hook = std::string (*)(std::string_view function, double limit, growth_probe probe);

inline values_hook on_values = nullptr;
inline refusal_hook on_refusal = nullptr;
inline summary_hook on_finish = nullptr;
inline growth_hook on_growth = nullptr;

}  // namespace attn::test::diagnosis
