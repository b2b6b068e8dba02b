// The wire between the judge and the runner (tests/support/proxy.cpp, runner.cpp).
//
// The judge is the test program: Catch2, the tests, the reference and the report writer.
// The runner is a separate program that holds the student's step objects and nothing else
// (no reference, no tests). Each call of a contract function in the judge becomes a request
// on a pipe: the function's number, then its arguments; the runner calls the student's
// function and answers with what happened (returned, or threw which kind of exception with
// which message), the contents of every output argument, and the return value.
//
// Arguments and return values are coded by their C++ type, as contract.hpp declares them,
// so each function's signature is written once, in the contract. The list of functions is
// generated from course/steps.json (attn/contract_functions.hpp, by cmake/AttnCourse.cmake).
//
// The judge trusts nothing the runner sends: every size is checked against what it asked
// for, every message is cut to max_message characters (proxy.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <attn/contract.hpp>
#include <attn/contract_functions.hpp>

namespace attn::remote {

/// Sent by the runner when it starts, before any request: "ATTN", then the version.
inline constexpr std::uint32_t hello_magic = 0x4e545441u;
inline constexpr std::uint32_t protocol_version = 1;
/// The largest argument or result, in floats (256 MiB): nothing in the tests comes near.
inline constexpr std::uint64_t max_floats = std::uint64_t{1} << 26;
/// The longest exception message passed on; longer ones are cut.
inline constexpr std::size_t max_message = 2000;

/// The file descriptors of the pipes in the runner: requests in, answers out.
inline constexpr int request_fd = 3;
inline constexpr int answer_fd = 4;

/// How a call ended, as the runner reports it.
enum class outcome : std::uint8_t {
  returned = 0,
  invalid_argument = 1,  ///< std::invalid_argument: the contract's answer to bad input
  not_implemented = 2,   ///< attn::not_implemented: the stub is still there
  other_exception = 3,   ///< any other std::exception (message: its type and what())
  unknown_exception = 4  ///< something that is not a std::exception
};

/// The contract's functions, numbered in course order (the request's first field).
enum class function : std::uint32_t {
#define ATTN_REMOTE_ENUM(name, step) name,
  ATTN_CONTRACT_FUNCTIONS(ATTN_REMOTE_ENUM)
#undef ATTN_REMOTE_ENUM
  count
};

inline constexpr std::array<const char*, static_cast<std::size_t>(function::count)> function_names{
#define ATTN_REMOTE_NAME(name, step) "attn::" #name,
    ATTN_CONTRACT_FUNCTIONS(ATTN_REMOTE_NAME)
#undef ATTN_REMOTE_NAME
};

inline const char* name_of(function f) { return function_names[static_cast<std::size_t>(f)]; }

/// Waiting for the other side: a short spin on a non-blocking read before sleeping in
/// poll(). On an idle machine a sleeping process takes tens of microseconds to wake, and
/// the tests make tens of thousands of calls; on a busy one a spin only keeps the core from
/// the process it waits for. So the spin adapts: it doubles (up to 200 us) when the answer
/// came while spinning and halves to nothing when it did not; at nothing, every 256th wait
/// tries a short spin again. No sched_yield: on a loaded machine it hands the core to
/// another process for a whole time slice.
struct adaptive_spin {
  static constexpr long max_us = 200, probe_us = 20;
  long us = max_us;
  unsigned waits = 0;
  long next() { return us == 0 && (++waits % 256) == 0 ? probe_us : us; }
  void caught() { us = us == 0 ? 2 : (us * 2 > max_us ? max_us : us * 2); }
  void missed() { us = us < 4 ? 0 : us / 2; }
};

/// Thrown by a reader that got less, or other, than the protocol allows.
class protocol_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Builds one message in memory; it is sent with one write.
struct writer {
  std::vector<unsigned char> bytes;
  void raw(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
  void u8(std::uint8_t v) { raw(&v, 1); }
  void u32(std::uint32_t v) { raw(&v, sizeof v); }
  void u64(std::uint64_t v) { raw(&v, sizeof v); }
  void f32(float v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void floats(std::span<const float> v) { raw(v.data(), v.size_bytes()); }
  void text(const std::string& s) {
    const std::size_t n = s.size() < max_message ? s.size() : max_message;
    u32(static_cast<std::uint32_t>(n));
    raw(s.data(), n);
  }
};

/// Reads a message; the judge's reader has a deadline, the runner's blocks.
struct reader {
  virtual ~reader() = default;
  virtual void raw(void* p, std::size_t n) = 0;
  std::uint8_t u8() { std::uint8_t v; raw(&v, 1); return v; }
  std::uint32_t u32() { std::uint32_t v; raw(&v, sizeof v); return v; }
  std::uint64_t u64() { std::uint64_t v; raw(&v, sizeof v); return v; }
  float f32() { float v; raw(&v, sizeof v); return v; }
  double f64() { double v; raw(&v, sizeof v); return v; }
  /// A count of floats, refused above max_floats (or above `expected` when given).
  std::uint64_t count(std::uint64_t limit = max_floats) {
    const std::uint64_t n = u64();
    if (n > limit) throw protocol_error("a size of " + std::to_string(n) + " floats where at most " +
                                        std::to_string(limit) + " is possible");
    return n;
  }
  void floats(std::span<float> out) { raw(out.data(), out.size_bytes()); }
  std::vector<float> floats(std::uint64_t n) {
    std::vector<float> v(static_cast<std::size_t>(n));
    floats(std::span<float>(v));
    return v;
  }
  std::string text() {
    const std::uint32_t n = u32();
    if (n > max_message) throw protocol_error("a message of " + std::to_string(n) + " bytes");
    std::string s(n, '\0');
    raw(s.data(), n);
    return s;
  }
};

// ---------------------------------------------------------------------------- arguments
// arg<T> for each parameter type T of the contract:
//   send(writer&, T)         judge: the argument's value (and an output's old contents)
//   receive_back(reader&, T) judge: an output argument's new contents
//   describe(T)              judge: the argument in a failure message ("4 floats", "3 x 5")
//   holder                   runner: storage for the argument, receive(reader&), get() -> T,
//                            send_back(writer&)

template <class T, class = void>
struct arg;

template <class T>
struct arg<T, std::enable_if_t<std::is_integral_v<T>>> {
  static void send(writer& w, T v) { w.u64(static_cast<std::uint64_t>(v)); }
  static void receive_back(reader&, T) {}
  static std::string describe(T v) {
    if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
    else return std::to_string(v);
  }
  struct holder {
    T v{};
    void receive(reader& r) { v = static_cast<T>(r.u64()); }
    T get() { return v; }
    void send_back(writer&) {}
  };
};

template <>
struct arg<float> {
  static void send(writer& w, float v) { w.f32(v); }
  static void receive_back(reader&, float) {}
  static std::string describe(float v) { return std::to_string(v); }
  struct holder {
    float v = 0;
    void receive(reader& r) { v = r.f32(); }
    float get() { return v; }
    void send_back(writer&) {}
  };
};

template <>
struct arg<std::span<const float>> {
  static void send(writer& w, std::span<const float> s) { w.u64(s.size()); w.floats(s); }
  static void receive_back(reader&, std::span<const float>) {}
  static std::string describe(std::span<const float> s) { return std::to_string(s.size()) + " floats"; }
  struct holder {
    std::vector<float> v;
    void receive(reader& r) { v = r.floats(r.count()); }
    std::span<const float> get() { return v; }
    void send_back(writer&) {}
  };
};

template <>
struct arg<std::span<float>> {
  static void send(writer& w, std::span<float> s) { w.u64(s.size()); w.floats(s); }
  static void receive_back(reader& r, std::span<float> s) { r.floats(s); }
  static std::string describe(std::span<float> s) { return std::to_string(s.size()) + " floats"; }
  struct holder {
    std::vector<float> v;
    void receive(reader& r) { v = r.floats(r.count()); }
    std::span<float> get() { return v; }
    void send_back(writer& w) { w.floats(v); }
  };
};

inline std::string shape(std::size_t rows, std::size_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

template <>
struct arg<const_matrix_view> {
  static void send(writer& w, const_matrix_view m) {
    w.u64(m.rows);
    w.u64(m.cols);
    if (m.size() != 0) w.floats({m.data, m.size()});
  }
  static void receive_back(reader&, const_matrix_view) {}
  static std::string describe(const_matrix_view m) { return shape(m.rows, m.cols); }
  struct holder {
    std::vector<float> v;
    std::size_t rows = 0, cols = 0;
    void receive(reader& r) {
      rows = static_cast<std::size_t>(r.count());
      cols = static_cast<std::size_t>(r.count());
      if (cols != 0 && rows > max_floats / cols) throw protocol_error("a matrix of " + shape(rows, cols));
      v = r.floats(rows * cols);
    }
    const_matrix_view get() { return {v.data(), rows, cols}; }
    void send_back(writer&) {}
  };
};

template <>
struct arg<matrix_view> {
  static void send(writer& w, matrix_view m) { arg<const_matrix_view>::send(w, m); }
  static void receive_back(reader& r, matrix_view m) {
    if (m.size() != 0) r.floats(std::span<float>(m.data, m.size()));
  }
  static std::string describe(matrix_view m) { return shape(m.rows, m.cols); }
  struct holder {
    arg<const_matrix_view>::holder h;
    void receive(reader& r) { h.receive(r); }
    matrix_view get() { return {h.v.data(), h.rows, h.cols}; }
    void send_back(writer& w) { w.floats(h.v); }
  };
};

template <>
struct arg<const online_softmax&> {
  static void send(writer& w, const online_softmax& s) { w.f32(s.max); w.f32(s.sum); }
  static void receive_back(reader&, const online_softmax&) {}
  static std::string describe(const online_softmax& s) {
    return "{max " + std::to_string(s.max) + ", sum " + std::to_string(s.sum) + "}";
  }
  struct holder {
    online_softmax v;
    void receive(reader& r) { v.max = r.f32(); v.sum = r.f32(); }
    const online_softmax& get() { return v; }
    void send_back(writer&) {}
  };
};

template <>
struct arg<online_softmax&> {
  static void send(writer& w, online_softmax& s) { arg<const online_softmax&>::send(w, s); }
  static void receive_back(reader& r, online_softmax& s) { s.max = r.f32(); s.sum = r.f32(); }
  static std::string describe(online_softmax& s) { return arg<const online_softmax&>::describe(s); }
  struct holder {
    online_softmax v;
    void receive(reader& r) { v.max = r.f32(); v.sum = r.f32(); }
    online_softmax& get() { return v; }
    void send_back(writer& w) { w.f32(v.max); w.f32(v.sum); }
  };
};

// ---------------------------------------------------------------------------- results
// result<R>: send(writer&, const R&) in the runner, receive(reader&) in the judge.

template <class R>
struct result;

template <>
struct result<float> {
  static void send(writer& w, float v) { w.f32(v); }
  static float receive(reader& r) { return r.f32(); }
};
template <>
struct result<double> {
  static void send(writer& w, double v) { w.f64(v); }
  static double receive(reader& r) { return r.f64(); }
};
template <>
struct result<online_softmax> {
  static void send(writer& w, const online_softmax& v) { w.f32(v.max); w.f32(v.sum); }
  static online_softmax receive(reader& r) {
    online_softmax s;
    s.max = r.f32();
    s.sum = r.f32();
    return s;
  }
};
template <>
struct result<std::vector<float>> {
  static void send(writer& w, const std::vector<float>& v) { w.u64(v.size()); w.floats(v); }
  static std::vector<float> receive(reader& r) { return r.floats(r.count()); }
};
template <>
struct result<matrix> {
  static void send(writer& w, const matrix& m) {
    w.u64(m.rows());
    w.u64(m.cols());
    w.floats(m.elements());
  }
  static matrix receive(reader& r) {
    const std::uint64_t rows = r.count(), cols = r.count();
    if (cols != 0 && rows > max_floats / cols) {
      throw protocol_error("a matrix of " + shape(rows, cols) + " floats");
    }
    matrix m(static_cast<std::size_t>(rows), static_cast<std::size_t>(cols));
    r.floats(m.elements());
    return m;
  }
};

}  // namespace attn::remote
