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
//
// Guards: in the runner every array argument (inputs and outputs alike) lives between two
// bands of canaries (guarded_floats below), and an input's contents are kept as received.
// Right after the call the runner looks at them and reports every band a write disturbed
// and every input element that changed (guard_hit), before it sends anything else; the
// judge fails the call with where the write landed. Writes outside a view would otherwise
// land in the runner's own memory, where the test's padded outputs never see them.
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

#if defined(__SANITIZE_ADDRESS__)
#define ATTN_REMOTE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATTN_REMOTE_ASAN 1
#endif
#endif
#if defined(ATTN_REMOTE_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#include <attn/contract.hpp>
#include <attn/contract_functions.hpp>

namespace attn::remote {

/// Sent by the runner when it starts, before any request: "ATTN", then the version.
inline constexpr std::uint32_t hello_magic = 0x4e545441u;
inline constexpr std::uint32_t protocol_version = 2;
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

// ---------------------------------------------------------------------------- guards

/// Where a write outside the contract landed: in the band before a view, in the band after
/// it, or inside an input (an element of a const view or span that changed).
enum class guard_zone : std::uint8_t { before = 0, after = 1, inside = 2 };

/// One disturbed band (or changed input), as the runner reports it. Offsets count from the
/// view: for `after`, 0 is the first float past its end; for `before`, 0 is the float just
/// before its first one; for `inside`, the element's index in the view.
struct guard_hit {
  std::uint32_t arg = 0;   ///< the argument's position in the parameter list, from 0
  guard_zone zone = guard_zone::after;
  std::uint64_t first = 0;  ///< the offset nearest the view that changed
  std::uint64_t last = 0;   ///< the farthest
  std::uint64_t count = 0;  ///< how many floats changed from first to last
  float value = 0;          ///< what the float at `first` holds now
  bool edge = false;        ///< the band's outermost float changed: the write may go farther
};

/// Floats in each band around an argument whose rows hold `row` floats (0 for a span): more
/// than one row, so that a loop that runs one row too far stays inside the band; a multiple
/// of 16, so that the view starts as aligned as a vector's data.
inline std::size_t guard_floats(std::size_t row) { return (64 + row + 15) / 16 * 16; }

/// The canary at position k of a band: a signalling NaN (no arithmetic produces one) whose
/// payload varies with k, so that copying a neighbour's canary is seen too.
inline std::uint32_t canary_bits(std::size_t k) {
  return 0x7fa00000u | (static_cast<std::uint32_t>(k * 0x9e3779b1u) & 0x1fffffu);
}

/// Set by the runner: under AddressSanitizer the bands are also poisoned, so that a write
/// into one stops at once with the sanitizer's report (file and line of the write). The
/// judge's diagnosis, which runs catalogued mistakes on guarded copies, leaves it off.
inline bool poison_guards = false;

/// `n` floats with a band of canaries on each side; for an input, a copy of the contents.
class guarded_floats {
 public:
  guarded_floats() = default;
  guarded_floats(const guarded_floats&) = delete;
  guarded_floats& operator=(const guarded_floats&) = delete;
  ~guarded_floats() { poison(false); }

  /// Reads `count` floats from `r` into the middle; `row`: the floats of one row.
  void receive(reader& r, std::size_t count, std::size_t row, bool input) {
    poison(false);
    n_ = count;
    guard_ = guard_floats(row);
    store_.resize(guard_ + n_ + guard_);
    r.floats(std::span<float>(store_.data() + guard_, n_));
    for (std::size_t k = 0; k < guard_; ++k) {
      put(guard_ - 1 - k, canary_bits(k));   // before: k floats before the view
      put(guard_ + n_ + k, canary_bits(k));  // after
    }
    if (input) original_.assign(store_.begin() + static_cast<std::ptrdiff_t>(guard_),
                                store_.begin() + static_cast<std::ptrdiff_t>(guard_ + n_));
    input_ = input;
    poison(true);
  }
  float* data() { return store_.data() + guard_; }
  std::size_t size() const { return n_; }
  std::span<const float> view() const { return {store_.data() + guard_, n_}; }

  /// Appends what changed outside the view (and, for an input, inside it) to `hits`.
  void check(std::uint32_t arg, std::vector<guard_hit>& hits) {
    if (store_.empty()) return;
    poison(false);
    scan(arg, guard_zone::before, hits, [&](std::size_t k) { return bits(guard_ - 1 - k) != canary_bits(k); },
         guard_, [&](std::size_t k) { return store_[guard_ - 1 - k]; });
    scan(arg, guard_zone::after, hits, [&](std::size_t k) { return bits(guard_ + n_ + k) != canary_bits(k); },
         guard_, [&](std::size_t k) { return store_[guard_ + n_ + k]; });
    if (input_) {
      scan(arg, guard_zone::inside, hits,
           [&](std::size_t k) { return std::memcmp(&store_[guard_ + k], &original_[k], sizeof(float)) != 0; }, n_,
           [&](std::size_t k) { return store_[guard_ + k]; });
    }
    poison(true);
  }

 private:
  std::uint32_t bits(std::size_t at) const {
    std::uint32_t b;
    std::memcpy(&b, &store_[at], sizeof b);
    return b;
  }
  void put(std::size_t at, std::uint32_t b) { std::memcpy(&store_[at], &b, sizeof b); }

  template <class Changed, class Value>
  static void scan(std::uint32_t arg, guard_zone zone, std::vector<guard_hit>& hits, Changed&& changed,
                   std::size_t n, Value&& value) {
    guard_hit h;
    for (std::size_t k = 0; k < n; ++k) {
      if (!changed(k)) continue;
      if (h.count == 0) {
        h.first = k;
        h.value = value(k);
      }
      h.last = k;
      ++h.count;
    }
    if (h.count == 0) return;
    h.arg = arg;
    h.zone = zone;
    h.edge = zone != guard_zone::inside && h.last + 1 == n;
    hits.push_back(h);
  }

  void poison([[maybe_unused]] bool on) {
#if defined(ATTN_REMOTE_ASAN)
    if (!poison_guards || store_.empty()) return;
    const std::size_t band = guard_ * sizeof(float);
    if (on) {
      ASAN_POISON_MEMORY_REGION(store_.data(), band);
      ASAN_POISON_MEMORY_REGION(store_.data() + guard_ + n_, band);
    } else {
      ASAN_UNPOISON_MEMORY_REGION(store_.data(), store_.size() * sizeof(float));
    }
#endif
  }

  std::vector<float> store_, original_;
  std::size_t n_ = 0, guard_ = 0;
  bool input_ = false;
};

/// The guard report, after the output arguments: the number of hits, then each.
inline void send_guards(writer& w, const std::vector<guard_hit>& hits) {
  w.u32(static_cast<std::uint32_t>(hits.size()));
  for (const guard_hit& h : hits) {
    w.u32(h.arg);
    w.u8(static_cast<std::uint8_t>(h.zone));
    w.u64(h.first);
    w.u64(h.last);
    w.u64(h.count);
    w.f32(h.value);
    w.u8(h.edge ? 1 : 0);
  }
}

/// Reads a guard report; refuses one that a runner of `args` arguments cannot send.
inline std::vector<guard_hit> receive_guards(reader& r, std::size_t args) {
  const std::uint32_t n = r.u32();
  if (n > 3 * args) throw protocol_error("a guard report of " + std::to_string(n) + " hits");
  std::vector<guard_hit> hits(n);
  for (guard_hit& h : hits) {
    h.arg = r.u32();
    const std::uint8_t zone = r.u8();
    h.first = r.u64();
    h.last = r.u64();
    h.count = r.u64();
    h.value = r.f32();
    h.edge = r.u8() != 0;
    if (h.arg >= args || zone > 2 || h.first > h.last || h.count == 0 || h.count > h.last - h.first + 1) {
      throw protocol_error("a guard report that makes no sense");
    }
    h.zone = static_cast<guard_zone>(zone);
  }
  return hits;
}

// ---------------------------------------------------------------------------- arguments
// arg<T> for each parameter type T of the contract:
//   send(writer&, T)         judge: the argument's value (and an output's old contents)
//   receive_back(reader&, T) judge: an output argument's new contents
//   describe(T)              judge: the argument in a failure message ("4 floats", "3 x 5")
//   holder                   runner: storage for the argument, receive(reader&), get() -> T,
//                            send_back(writer&), check(arg, hits) (guarded_floats::check)

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
    void check(std::uint32_t, std::vector<guard_hit>&) {}
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
    void check(std::uint32_t, std::vector<guard_hit>&) {}
  };
};

template <>
struct arg<std::span<const float>> {
  static void send(writer& w, std::span<const float> s) { w.u64(s.size()); w.floats(s); }
  static void receive_back(reader&, std::span<const float>) {}
  static std::string describe(std::span<const float> s) { return std::to_string(s.size()) + " floats"; }
  struct holder {
    guarded_floats g;
    void receive(reader& r) { g.receive(r, static_cast<std::size_t>(r.count()), 0, true); }
    std::span<const float> get() { return g.view(); }
    void send_back(writer&) {}
    void check(std::uint32_t arg, std::vector<guard_hit>& hits) { g.check(arg, hits); }
  };
};

template <>
struct arg<std::span<float>> {
  static void send(writer& w, std::span<float> s) { w.u64(s.size()); w.floats(s); }
  static void receive_back(reader& r, std::span<float> s) { r.floats(s); }
  static std::string describe(std::span<float> s) { return std::to_string(s.size()) + " floats"; }
  struct holder {
    guarded_floats g;
    void receive(reader& r) { g.receive(r, static_cast<std::size_t>(r.count()), 0, false); }
    std::span<float> get() { return {g.data(), g.size()}; }
    void send_back(writer& w) { w.floats(g.view()); }
    void check(std::uint32_t arg, std::vector<guard_hit>& hits) { g.check(arg, hits); }
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
    guarded_floats g;
    std::size_t rows = 0, cols = 0;
    void receive(reader& r, bool input = true) {
      rows = static_cast<std::size_t>(r.count());
      cols = static_cast<std::size_t>(r.count());
      if (cols != 0 && rows > max_floats / cols) throw protocol_error("a matrix of " + shape(rows, cols));
      if (cols > max_floats) throw protocol_error("a matrix of " + shape(rows, cols));
      g.receive(r, rows * cols, cols, input);
    }
    const_matrix_view get() { return {g.data(), rows, cols}; }
    void send_back(writer&) {}
    void check(std::uint32_t arg, std::vector<guard_hit>& hits) { g.check(arg, hits); }
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
    void receive(reader& r) { h.receive(r, false); }
    matrix_view get() { return {h.g.data(), h.rows, h.cols}; }
    void send_back(writer& w) { w.floats(h.g.view()); }
    void check(std::uint32_t arg, std::vector<guard_hit>& hits) { h.check(arg, hits); }
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
    void check(std::uint32_t, std::vector<guard_hit>&) {}
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
    void check(std::uint32_t, std::vector<guard_hit>&) {}
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
