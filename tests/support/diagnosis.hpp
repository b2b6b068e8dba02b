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

#include <span>
#include <string>
#include <string_view>

namespace attn::test::diagnosis {

/// Does `message` name `function`: one name ("scores"), or any of several
/// ("attention_weights|scores")?
inline bool names_function(std::string_view message, std::string_view function) {
  for (std::size_t at = 0; at <= function.size();) {
    std::size_t bar = function.find('|', at);
    if (bar == std::string_view::npos) bar = function.size();
    if (message.find(function.substr(at, bar - at)) != std::string_view::npos) return true;
    at = bar + 1;
  }
  return false;
}

/// A value check failed: expected, actual and bounds as compare_elements saw them. Returns
/// the text to add to the message ("" when no mistake reproduces `actual`).
using values_hook = std::string (*)(std::span<const double> expected, std::span<const double> actual,
                                    std::span<const double> bounds);

/// A refusal check failed: the last call was to be refused with std::invalid_argument naming
/// `function`. `returned`: it returned normally; otherwise it threw `message` (of the kind
/// that check expected when `invalid` is true, not naming `function`). Returns the text to add.
using refusal_hook = std::string (*)(std::string_view function, bool returned, bool invalid,
                                     std::string_view message);

/// After the run: the summary of the diagnoses (printed, and written where the graders ask).
using summary_hook = void (*)();

inline values_hook on_values = nullptr;
inline refusal_hook on_refusal = nullptr;
inline summary_hook on_finish = nullptr;

}  // namespace attn::test::diagnosis
