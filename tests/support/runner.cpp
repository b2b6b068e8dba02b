// The runner: the one program that holds a student's code. It is linked from the student's
// step objects (steps 1..ATTN_RUNNER_STEP), attn::contract and this file, and nothing else:
// no reference, no tests, no report writer. A step file that calls attn::ref therefore does
// not link. The judge (the test program, proxy.cpp) starts it with two pipes, requests on
// fd 3 and answers on fd 4, and when grading inside a sandbox (tools/sandbox.cpp).
//
// It answers one request at a time (tests/support/remote.hpp): call the student's function
// with the arguments received, report how it ended, send back every output argument, what
// the call wrote outside its views (remote.hpp's guards) and the result. Whatever the
// student's code prints goes to the runner's stdout and stderr, which the judge keeps apart
// from the answers.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

#include <chrono>

#include <cxxabi.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "support/remote.hpp"
#if defined(ATTN_RUNNER_MISTAKES)
#include "../course/mistakes/mistake.hpp"
#endif

#ifndef ATTN_RUNNER_STEP
#error "ATTN_RUNNER_STEP (the last step whose student objects this runner links) must be defined"
#endif

namespace {

using namespace attn::remote;

/// Reads requests through a buffer: one read() per pipe-full, not one per field.
struct fd_reader final : reader {
  int fd;
  std::vector<unsigned char> buffer = std::vector<unsigned char>(1 << 16);
  std::size_t begin = 0, end = 0;
  adaptive_spin spin;
  explicit fd_reader(int f) : fd(f) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }
  void raw(void* p, std::size_t n) override {
    auto* b = static_cast<unsigned char*>(p);
    while (n > 0) {
      if (begin == end) {
        ssize_t got;
        const auto spin_end = std::chrono::steady_clock::now() + std::chrono::microseconds(spin.next());
        bool slept = false;
        for (;;) {
          got = ::read(fd, buffer.data(), buffer.size());
          if (got >= 0 || (errno != EAGAIN && errno != EINTR)) break;
          if (!slept && std::chrono::steady_clock::now() < spin_end) continue;
          slept = true;
          pollfd p{fd, POLLIN, 0};
          ::poll(&p, 1, -1);
        }
        if (slept) spin.missed(); else spin.caught();
        if (got <= 0) std::_Exit(0);  // the judge closed the pipe: nothing more to do
        begin = 0;
        end = static_cast<std::size_t>(got);
      }
      const std::size_t take = std::min(n, end - begin);
      std::memcpy(b, buffer.data() + begin, take);
      begin += take;
      b += take;
      n -= take;
    }
  }
};

void send(const writer& w) {
  const unsigned char* b = w.bytes.data();
  std::size_t n = w.bytes.size();
  while (n > 0) {
    const ssize_t put = ::write(answer_fd, b, n);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) std::_Exit(0);
    b += put;
    n -= static_cast<std::size_t>(put);
  }
}

std::string type_name(const std::type_info& t) {
  int status = 0;
  char* name = abi::__cxa_demangle(t.name(), nullptr, nullptr, &status);
  std::string s = status == 0 && name ? name : t.name();
  std::free(name);
  return s;
}

/// Receives the arguments of F, calls it, and answers.
template <class R, class... A>
void serve(R (*F)(A...), reader& in) {
  std::tuple<typename arg<A>::holder...> held;
  std::apply([&](auto&... h) { (h.receive(in), ...); }, held);
  outcome how = outcome::returned;
  std::string message;
  [[maybe_unused]] std::conditional_t<std::is_void_v<R>, int, std::optional<R>> value{};
  try {
    if constexpr (std::is_void_v<R>) {
      std::apply([F](auto&... h) { F(h.get()...); }, held);
    } else {
      value.emplace(std::apply([F](auto&... h) { return F(h.get()...); }, held));
    }
  } catch (const attn::not_implemented& e) {
    how = outcome::not_implemented;
    message = e.what();
  } catch (const std::invalid_argument& e) {
    how = outcome::invalid_argument;
    message = e.what();
  } catch (const std::exception& e) {
    how = outcome::other_exception;
    message = type_name(typeid(e)) + ": " + e.what();
  } catch (...) {
    how = outcome::unknown_exception;
    message = "an exception that is not a std::exception";
  }
  // The guards, at once: what the call wrote outside its views (or into its inputs) is
  // reported with this answer, whatever happens to the runner afterwards.
  std::vector<guard_hit> hits;
  std::uint32_t position = 0;
  std::apply([&](auto&... h) { (h.check(position++, hits), ...); }, held);
  writer out;
  out.u8(static_cast<std::uint8_t>(how));
  if (how != outcome::returned) out.text(message);
  std::apply([&](auto&... h) { (h.send_back(out), ...); }, held);
  send_guards(out, hits);
  if constexpr (!std::is_void_v<R>) {
    if (how == outcome::returned) result<R>::send(out, *value);
  }
  send(out);
}

using handler = void (*)(reader&);

#if defined(ATTN_RUNNER_MISTAKES)
// The mistakes runner (the catalogue's self-check, tests/mistakes/): the answer key's steps,
// except the functions that the mistake named by ATTN_MISTAKE ("<step>.<id>") gets wrong.
const attn::mistakes::entry* active_mistake = nullptr;
#endif

// The functions of steps 1..ATTN_RUNNER_STEP. A later step's functions are named only as a
// template argument of a discarded branch, never referenced, so they need not be linked.
template <int Step, std::size_t Id, auto F>
constexpr handler handler_for() {
  if constexpr (Step <= ATTN_RUNNER_STEP) {
    return +[](reader& in) {
#if defined(ATTN_RUNNER_MISTAKES)
      if (const auto wrong = active_mistake->functions[Id]) {
        return serve(reinterpret_cast<decltype(F)>(wrong), in);
      }
#endif
      serve(F, in);
    };
  } else {
    return nullptr;
  }
}

#define ATTN_RUNNER_HANDLER(name, step) \
  handler_for<(step), static_cast<std::size_t>(function::name), &attn::name>(),
constexpr handler handlers[] = {ATTN_CONTRACT_FUNCTIONS(ATTN_RUNNER_HANDLER)};
#undef ATTN_RUNNER_HANDLER

}  // namespace

int main(int argc, char**) {
  if (argc != 1 || ::isatty(request_fd) || ::write(answer_fd, "", 0) != 0) {
    std::fprintf(stderr,
                 "attn runner: this program holds the student's code for the tests; the test "
                 "programs start it (run ./attn step N, or the test program itself)\n");
    return 2;
  }
#if defined(ATTN_RUNNER_MISTAKES)
  const char* key = std::getenv("ATTN_MISTAKE");
  active_mistake = key ? attn::mistakes::find(key) : nullptr;
  if (active_mistake == nullptr) {
    std::fprintf(stderr, "attn mistakes runner: ATTN_MISTAKE is '%s'; expected <step>.<id> of an entry in course/mistakes/\n",
                 key ? key : "");
    return 2;
  }
#endif
#if !defined(ATTN_RUNNER_MISTAKES)
  // Under AddressSanitizer a write into a guard band stops the student's code with the
  // sanitizer's report. Not in the mistakes runner: its catalogued out-of-bounds writers
  // write into the bands on purpose, for the guards to report.
  poison_guards = true;
#endif
  writer hello;
  hello.u32(hello_magic);
  hello.u32(protocol_version);
  send(hello);
  fd_reader in(request_fd);
  for (;;) {
    const std::uint32_t id = in.u32();
    if (id >= static_cast<std::uint32_t>(function::count) || handlers[id] == nullptr) {
      std::fprintf(stderr, "attn runner: asked for function %u, which this runner does not hold\n", id);
      return 3;  // the judge never asks for this: it is not talking to a runner of this step
    }
    handlers[id](in);
  }
}
