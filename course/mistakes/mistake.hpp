// The catalogue of typical mistakes: what one entry is, and how the entries register.
//
// Each step has one file here, step<n>_<slug>.cpp. An entry is a struct:
//
//   struct divides_by_d {
//     static constexpr attn::mistakes::info about{
//         .step = 2, .id = "divides_by_d",
//         .name = "divided by d instead of sqrt(d)",          // what the student reads first
//         .why = "...",                                       // why it is wrong, in the course's terms
//         .hint = 2};                                         // ./attn hint 2 2 addresses it
//     static float scaled_score(std::span<const float> q, std::span<const float> k) {...}
//     static void scores(attn::const_matrix_view Q, attn::const_matrix_view K, attn::matrix_view S) {...}
//   };
//   ATTN_MISTAKE(divides_by_d);
//
// Its static functions are the wrong implementation itself: same names and signatures as
// the contract's functions of that step (a different signature does not compile). A
// function the entry does not define behaves correctly. Entries compute what is right with
// the course's reference (attn::ref), never with the contract's attn:: functions: in the
// judge, attn:: is the student's code.
//
// Everything that needs the catalogue reads it from here: the judge's diagnosis
// (tests/support/diagnosis.cpp), the self-check that every entry fails its step's tests and
// is diagnosed as itself (tests/mistakes/), the mistakes runner, and the `attn_mistakes`
// program that writes the catalogue for the docs and the graders.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <attn/contract.hpp>
#include <attn/contract_functions.hpp>
#include <attn/reference.hpp>

namespace attn::mistakes {

/// What a student reads about one mistake.
struct info {
  int step = 0;
  std::string_view id;    ///< unique within the step: lower_case_with_underscores
  std::string_view name;  ///< short, in the student's words, lower case; no ". " inside
  std::string_view why;   ///< why it is wrong and what it breaks: sentences, the first one
                          ///< capitalised, no final full stop
  int hint = 0;           ///< the hint of course/hints/step<n>.md that addresses it
  /// True when the entry's results are the right ones and only its cost is wrong (an O(n^2)
  /// loop where O(n) is asked): the judge recognises it by the growth check alone, and does
  /// not run it to explain a wrong value or refusal, which it can neither match nor rule
  /// out (and where, on the tests' longest rows, it would take the most time of all).
  bool only_cost = false;
};

/// The contract's functions, numbered in course order (the same order as the wire's).
enum class fn : std::size_t {
#define ATTN_MISTAKES_ENUM(name, step) name,
  ATTN_CONTRACT_FUNCTIONS(ATTN_MISTAKES_ENUM)
#undef ATTN_MISTAKES_ENUM
  count
};
inline constexpr std::size_t function_count = static_cast<std::size_t>(fn::count);

/// A function pointer of any contract signature, stored as void (*)() and cast back to
/// decltype(&attn::<name>) by whoever calls it.
using any_function = void (*)();

/// One registered entry: its text and the wrong functions it defines (nullptr elsewhere).
struct entry {
  info about;
  std::array<any_function, function_count> functions{};
  bool defines(fn f) const { return functions[static_cast<std::size_t>(f)] != nullptr; }
};

/// Every entry of every step, in step order and, within a step, in the order of its file.
const std::vector<entry>& catalogue();

/// The entry "<step>.<id>" (e.g. "2.divides_by_d"), or nullptr.
const entry* find(std::string_view key);

/// `s` as a JSON string, quotes included (control characters become spaces).
std::string json_quoted(std::string_view s);
/// An entry's text as JSON object members: "step": 2, "id": "...", "name", "why", "hint".
std::string json_members(const info& m);

/// M with rows M.rows .. rows - 1 added, each a copy of its last row: what a causal loop over
/// j <= i reads past the end of K and V when n_q > n_k (steps 7 and 9), stood in for by values
/// an entry can compute (reading past the real end is undefined behaviour, which an entry must
/// not have).
inline matrix last_row_repeated(const_matrix_view M, std::size_t rows) {
  matrix out(rows, M.cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const auto from = M.row(r < M.rows ? r : M.rows - 1);
    for (std::size_t c = 0; c < M.cols; ++c) out(r, c) = from[c];
  }
  return out;
}

namespace detail {

void add(const entry& e);

template <class M>
entry make_entry() {
  entry e{M::about, {}};
#define ATTN_MISTAKES_FUNCTION(fname, fstep)                                                      \
  if constexpr (requires { &M::fname; }) {                                                          \
    static_assert(std::is_same_v<decltype(&M::fname), decltype(&::attn::fname)>,                    \
                  "a mistake's " #fname " must have the contract's signature of attn::" #fname);    \
    static_assert(M::about.step == (fstep),                                                         \
                  "a mistake may only define functions of its own step (attn::" #fname             \
                  " belongs to step " #fstep ")");                                                  \
    e.functions[static_cast<std::size_t>(fn::fname)] = reinterpret_cast<any_function>(&M::fname); \
  }
  ATTN_CONTRACT_FUNCTIONS(ATTN_MISTAKES_FUNCTION)
#undef ATTN_MISTAKES_FUNCTION
  return e;
}

struct registrar {
  explicit registrar(const entry& e) { add(e); }
};

}  // namespace detail
}  // namespace attn::mistakes

/// Registers the entry `type` (a struct in the current namespace) in the catalogue.
#define ATTN_MISTAKE(type) \
  static const ::attn::mistakes::detail::registrar attn_mistake_registrar_##type{ \
      ::attn::mistakes::detail::make_entry<type>()}
