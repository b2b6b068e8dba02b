/// \file errors.hpp
/// \brief The two ways a contract function refuses: not yet written, or bad input.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace attn {

/// \brief Thrown by every exercise stub until the student writes the function.
///
/// The message names the step and the function, e.g.
/// `not implemented: step 1 (dot product): attn::dot -- edit exercises/step1_dot.cpp`.
/// The tools recognise a stub by its first words, "not implemented: step <n> "
/// (`NOT_IMPLEMENTED` in tools/course.py, and cmake/check_stub.cmake).
class not_implemented : public std::logic_error {
 public:
  /// \param step      the step number, 1-based.
  /// \param step_name the step's title, e.g. "dot product".
  /// \param function  the qualified function name, e.g. "attn::dot".
  /// \param file      the exercise file to edit, e.g. "exercises/step1_dot.cpp".
  not_implemented(int step, std::string_view step_name, std::string_view function,
                  std::string_view file)
      : std::logic_error("not implemented: step " + std::to_string(step) + " (" +
                         std::string(step_name) + "): " + std::string(function) + " -- edit " +
                         std::string(file)) {}
  /// The same error with a message made already: how the tests pass on a not_implemented
  /// that a student's function threw in the runner (a separate process).
  explicit not_implemented(const std::string& message) : std::logic_error(message) {}
};

/// \brief Throws `std::invalid_argument` with the message "<function>: <what>".
///
/// The course's convention for bad input: name the function, say what was wrong and what
/// was expected, e.g. `invalid_input("attn::dot", "q has 3 elements but k has 4; expected equal lengths")`.
[[noreturn]] inline void invalid_input(std::string_view function, const std::string& what) {
  throw std::invalid_argument(std::string(function) + ": " + what);
}

namespace detail {

/// `rows * cols`, or std::invalid_argument naming `who` if the product overflows.
inline std::size_t checked_area(std::string_view who, std::size_t rows, std::size_t cols) {
  if (cols != 0 && rows > static_cast<std::size_t>(-1) / cols) {
    invalid_input(who, std::to_string(rows) + " x " + std::to_string(cols) +
                           " elements overflow std::size_t; expected a representable size");
  }
  return rows * cols;
}

/// std::invalid_argument naming `who` unless `available >= rows * cols`.
inline void require_storage(std::string_view who, std::size_t available, std::size_t rows,
                            std::size_t cols) {
  const std::size_t needed = checked_area(who, rows, cols);
  if (available < needed) {
    invalid_input(who, "storage holds " + std::to_string(available) + " floats but a " +
                           std::to_string(rows) + " x " + std::to_string(cols) + " view needs " +
                           std::to_string(needed) + "; expected at least rows * cols");
  }
}

}  // namespace detail
}  // namespace attn
