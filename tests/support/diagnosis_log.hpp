// What the judge keeps of each call it forwards to the student's code, for the diagnosis
// (diagnosis.cpp): the inputs as they were sent, how the call ended, and every output as
// numbers. proxy.cpp records; diagnosis.cpp runs the catalogued mistakes on the same inputs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "support/remote.hpp"

namespace attn::test::diagnosis {

/// The outputs of one call: each output argument in order, then the result, as numbers.
using outputs = std::vector<std::vector<double>>;

/// Appends an argument of contract type A to `out` when it is an output (a span<float>, a
/// matrix_view or an online_softmax&); inputs add nothing.
template <class A, class V>
void snapshot(outputs& out, V&& v) {
  if constexpr (std::is_same_v<A, std::span<float>>) {
    out.emplace_back(v.begin(), v.end());
  } else if constexpr (std::is_same_v<A, matrix_view>) {
    out.emplace_back(v.data, v.data + v.size());
  } else if constexpr (std::is_same_v<A, online_softmax&>) {
    out.push_back({v.max, v.sum});
  }
}

inline void snapshot_result(outputs& out, float v) { out.push_back({v}); }
inline void snapshot_result(outputs& out, double v) { out.push_back({v}); }
inline void snapshot_result(outputs& out, const online_softmax& v) { out.push_back({v.max, v.sum}); }
inline void snapshot_result(outputs& out, const std::vector<float>& v) { out.emplace_back(v.begin(), v.end()); }
inline void snapshot_result(outputs& out, const matrix& m) {
  out.emplace_back(m.elements().begin(), m.elements().end());
}

struct call_record {
  remote::function fn{};
  std::uint64_t serial = 0;
  std::vector<unsigned char> args;  ///< the request after the function's number
  remote::outcome how = remote::outcome::returned;
  std::string message;
  outputs values;
};

/// Does any catalogued mistake define `f` (is the call worth recording)?
bool wanted(remote::function f);
/// Keeps a call (the last few dozen, within a memory limit).
void record(call_record&& c);
/// The last call recorded (of `f`) wrote outside its views, as `hits` say (remote.hpp's
/// guards): the text naming the catalogued mistakes that write into the same bands ("" when
/// none does).
std::string explain_guards(remote::function f, const std::vector<remote::guard_hit>& hits);

}  // namespace attn::test::diagnosis
