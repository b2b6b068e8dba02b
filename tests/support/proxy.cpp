// The proxy flavour of the contract: what the tests of the exercises link instead of the
// student's code. Each attn:: function here forwards its call to the runner, a separate
// process that holds the student's step objects (runner.cpp), and hands back what the
// student's function did: its outputs and result, or the same kind of exception with the
// same message. The tests call attn::dot and cannot tell; the student's code never runs in
// the process that judges it and writes the report.
//
// A runner that crashes, exits, hangs past the step's time budget or answers what the
// protocol does not allow fails the call that was running (a runner_failure naming the call
// and the output it printed) and is replaced by a fresh one at the next call: a crash costs
// one test case, not the step.
//
// Settings (environment, for the graders; the defaults are this test program's own runner
// and its step's timeout, compiled in by tests/CMakeLists.txt):
//   ATTN_RUNNER       the runner program
//   ATTN_SANDBOX      a launcher that runs the runner in a sandbox (tools/sandbox.cpp); unset:
//                     none (the student's own loop)
//   ATTN_TIME_BUDGET  seconds of wall time all calls together may take
//   ATTN_SANDBOX_MEMORY_MIB  the sandbox's memory limit (0: none, for AddressSanitizer)
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/diagnosis_log.hpp"
#include "support/remote.hpp"

extern const char* const attn_test_runner_path;  // generated per test program
extern const double attn_test_time_budget;

namespace {

using namespace attn::remote;
using clock_type = std::chrono::steady_clock;

/// A call that did not end in the student's function returning or throwing.
class runner_failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The most a runner may print to stdout and stderr together (a larger write kills it).
constexpr rlim_t output_limit = 8u << 20;
/// How much of that a failure message quotes.
constexpr std::size_t output_quoted = 1500;

const clock_type::time_point program_start = clock_type::now();

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string signal_name(int sig) {
  const char* d = ::strsignal(sig);
  std::string name;
  switch (sig) {
    case SIGSEGV: name = "SIGSEGV"; break;
    case SIGABRT: name = "SIGABRT"; break;
    case SIGFPE: name = "SIGFPE"; break;
    case SIGBUS: name = "SIGBUS"; break;
    case SIGILL: name = "SIGILL"; break;
    case SIGKILL: name = "SIGKILL"; break;
    case SIGXCPU: name = "SIGXCPU"; break;
    case SIGXFSZ: name = "SIGXFSZ"; break;
    case SIGSYS: name = "SIGSYS"; break;
    default: name = "signal " + std::to_string(sig);
  }
  return d ? name + " (" + d + ")" : name;
}

class session {
 public:
  static session& get() {
    static session s;
    return s;
  }

  ~session() { stop(); }

  /// One request, one answer; `read_answer` decodes it with a reader bound to this call.
  template <class Decode>
  auto exchange(const writer& request, const std::string& call, Decode&& read_answer) {
    if (budget_spent_) {
      throw runner_failure("not run: the step's time budget of " + seconds(budget_) +
                           " was spent in an earlier call that did not return, so " + call +
                           " was not called");
    }
    if (pid_ < 0) start(call);
    call_ = call;
    output_mark_ = output_size();
    try {
      write_all(request);
      deadline_reader in(*this);
      return read_answer(static_cast<reader&>(in));
    } catch (const protocol_error& e) {
      fail("answered what the protocol does not allow (" + std::string(e.what()) + ")");
    }
  }

  [[noreturn]] void fail(const std::string& what) {
    int status = 0;
    std::string how = what;
    if (what.empty()) {  // the pipe closed: the runner ended; say how
      status = reap(std::chrono::milliseconds(2000));
      // In the sandbox, bubblewrap passes on a runner killed by signal s as exit code 128 + s.
      int sig = 0;
      if (status != -1 && WIFSIGNALED(status)) sig = WTERMSIG(status);
      if (status != -1 && WIFEXITED(status) && !sandbox_.empty() && WEXITSTATUS(status) > 128) {
        sig = WEXITSTATUS(status) - 128;
      }
      if (status == -1) how = "closed its answer pipe";
      else if (sig != 0) how = "crashed: " + signal_name(sig);
      else how = "ended the runner with exit code " + std::to_string(WEXITSTATUS(status)) +
                 " (a student's function must return, not exit)";
      if (sig == SIGXFSZ) how += ": it printed more than " + std::to_string(output_limit >> 20) + " MiB";
    }
    std::string out = output_since(output_mark_);
    stop();
    std::string msg = "the student's code " + how + " during " + call_;
    if (!out.empty()) msg += "\nits output:\n" + out;
    msg += "\n(the tests go on with a fresh runner)";
    throw runner_failure(msg);
  }

  /// Ends the runner after a call that wrote outside its views (its memory may be spoiled
  /// past the guards); the next call starts a fresh one.
  void discard() { stop(); }

  [[noreturn]] void time_out() {
    budget_spent_ = true;
    std::string out = output_since(output_mark_);
    stop();
    std::string msg = "the student's code did not return within the step's time budget of " +
                      seconds(budget_) + " during " + call_ + " (an endless loop?)";
    if (!out.empty()) msg += "\nits output:\n" + out;
    throw runner_failure(msg);
  }

 private:
  struct deadline_reader final : reader {
    session& s;
    explicit deadline_reader(session& owner) : s(owner) {}
    void raw(void* p, std::size_t n) override { s.read_all(static_cast<unsigned char*>(p), n); }
  };

  session()
      : runner_(env_or("ATTN_RUNNER", attn_test_runner_path)),
        sandbox_(env_or("ATTN_SANDBOX", "")),
        budget_(std::strtod(env_or("ATTN_TIME_BUDGET", std::to_string(attn_test_time_budget)).c_str(),
                            nullptr)) {
    std::signal(SIGPIPE, SIG_IGN);  // a runner that died shows up as EPIPE, not a dead judge
    if (!(budget_ > 0)) budget_ = attn_test_time_budget;
  }

  static std::string seconds(double s) {
    std::string t = std::to_string(s);
    t.erase(t.find_last_not_of('0') + 1);
    if (!t.empty() && t.back() == '.') t.pop_back();
    return t + " s";
  }

  int remaining_ms() const {
    const auto end = program_start + std::chrono::duration<double>(budget_);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock_type::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
  }

  void start(const std::string& call) {
    call_ = call;
    if (output_ < 0) {
      output_ = ::memfd_create("attn-runner-output", MFD_CLOEXEC);
      if (output_ < 0) throw runner_failure("cannot start the runner: memfd_create: " + std::string(std::strerror(errno)));
    }
    int req[2], ans[2];
    if (::pipe2(req, O_CLOEXEC) != 0 || ::pipe2(ans, O_CLOEXEC) != 0) {
      throw runner_failure("cannot start the runner: pipe: " + std::string(std::strerror(errno)));
    }
    std::vector<std::string> argv_s;
    if (!sandbox_.empty()) {
      argv_s = {sandbox_, "--run", "--cpu-seconds", std::to_string(static_cast<long>(budget_) + 5)};
      if (const char* mib = std::getenv("ATTN_SANDBOX_MEMORY_MIB")) argv_s.insert(argv_s.end(), {"--memory-mib", mib});
      argv_s.insert(argv_s.end(), {"--", runner_});
    } else {
      argv_s = {runner_};
    }
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw runner_failure("cannot start the runner: fork: " + std::string(std::strerror(errno)));
    if (pid == 0) {
      // The child: its own process group (so the judge can kill everything it starts), death
      // with the judge, pipes on fds 3 and 4, output into the judge's memory file.
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null >= 0 ? null : req[0], 0);
      ::dup2(output_, 1);
      ::dup2(output_, 2);
      ::dup2(req[0], request_fd);
      ::dup2(ans[1], answer_fd);
      for (int fd = answer_fd + 1; fd < 1024; ++fd) ::close(fd);
      const rlimit fsize{output_limit, output_limit};
      ::setrlimit(RLIMIT_FSIZE, &fsize);
      const rlimit core{0, 0};
      ::setrlimit(RLIMIT_CORE, &core);
      ::execv(argv[0], argv.data());
      const char msg[] = "attn: cannot execute the runner\n";
      [[maybe_unused]] const ssize_t ignored = ::write(2, msg, sizeof msg - 1);
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    ::close(req[0]);
    ::close(ans[1]);
    pid_ = pid;
    to_ = req[1];
    from_ = ans[0];
    in_begin_ = in_end_ = 0;
    ::fcntl(to_, F_SETFL, O_NONBLOCK);
    ::fcntl(from_, F_SETFL, O_NONBLOCK);
    output_mark_ = output_size();
    try {
      deadline_reader in(*this);
      const std::uint32_t magic = in.u32(), version = in.u32();
      if (magic != hello_magic || version != protocol_version) {
        fail("sent a greeting that is not the runner's (something else wrote to its answer pipe)");
      }
    } catch (const protocol_error& e) {
      fail("sent a greeting that is not the runner's (" + std::string(e.what()) + ")");
    } catch (const runner_failure& e) {
      // The runner did not get as far as main (a static initializer crashed or exited, or
      // the runner cannot be executed): say so, naming the call that needed it.
      std::string what = e.what();
      const std::string prefix = "the student's code ";
      if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
      throw runner_failure("the runner did not start (" + what + ")\nrunner: " + runner_ +
                           (sandbox_.empty() ? "" : "\nsandbox: " + sandbox_));
    }
  }

  void stop() {
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
    to_ = from_ = -1;
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      reap(std::chrono::milliseconds(5000));
    }
    pid_ = -1;
  }

  /// waitpid with a limit; the exit status, or -1.
  int reap(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return -1;
    const auto end = clock_type::now() + limit;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return status;
      }
      if (r < 0 || clock_type::now() > end) return -1;
      ::usleep(1000);
    }
  }

  void wait_for(int fd, short events) {
    for (;;) {
      pollfd p{fd, events, 0};
      const int ms = remaining_ms();
      if (ms == 0) time_out();
      const int r = ::poll(&p, 1, ms);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) time_out();
      return;
    }
  }

  void write_all(const writer& w) {
    const unsigned char* b = w.bytes.data();
    std::size_t n = w.bytes.size();
    while (n > 0) {
      const ssize_t put = ::write(to_, b, n);
      if (put > 0) {
        b += put;
        n -= static_cast<std::size_t>(put);
      } else if (put < 0 && (errno == EAGAIN || errno == EINTR)) {
        wait_for(to_, POLLOUT);
      } else {
        fail("");
      }
    }
  }

  /// Reads the answer through a buffer: one read() per pipe-full, not one per field.
  void read_all(unsigned char* b, std::size_t n) {
    const auto spin_end = clock_type::now() + std::chrono::microseconds(spin_.next());
    bool slept = false;
    while (n > 0) {
      if (in_begin_ == in_end_) {
        const ssize_t got = ::read(from_, in_.data(), in_.size());
        if (got > 0) {
          in_begin_ = 0;
          in_end_ = static_cast<std::size_t>(got);
        } else if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
          if (!slept && clock_type::now() < spin_end) continue;
          slept = true;
          wait_for(from_, POLLIN);
          continue;
        } else {
          fail("");
        }
      }
      const std::size_t take = std::min(n, in_end_ - in_begin_);
      std::memcpy(b, in_.data() + in_begin_, take);
      in_begin_ += take;
      b += take;
      n -= take;
    }
    if (slept) spin_.missed(); else spin_.caught();
  }

  off_t output_size() const {
    struct stat st {};
    return output_ >= 0 && ::fstat(output_, &st) == 0 ? st.st_size : 0;
  }

  std::string output_since(off_t mark) const {
    const off_t end = output_size();
    if (end <= mark) return "";
    const std::size_t n = static_cast<std::size_t>(std::min<off_t>(end - mark, output_quoted));
    std::string s(n, '\0');
    const ssize_t got = ::pread(output_, s.data(), n, mark);
    s.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
    if (static_cast<off_t>(n) < end - mark) {
      s += "\n... (" + std::to_string(end - mark - static_cast<off_t>(n)) + " more bytes cut)";
    }
    return s;
  }

  std::string runner_, sandbox_;
  double budget_;
  bool budget_spent_ = false;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1, output_ = -1;
  off_t output_mark_ = 0;
  std::string call_;
  std::vector<unsigned char> in_ = std::vector<unsigned char>(1 << 16);
  std::size_t in_begin_ = 0, in_end_ = 0;
  adaptive_spin spin_;
};

/// What the judge knows of one argument, for a guard report about it.
struct arg_facts {
  bool array = false;   ///< a span or a matrix view: the runner guards it
  bool input = false;   ///< const: the function may only read it
  bool matrix = false;  ///< a matrix view (rows x cols) rather than a span
  std::size_t rows = 0, cols = 0, size = 0;
  const float* data = nullptr;
};

template <class A, class V>
arg_facts facts_of(const V& v) {
  if constexpr (std::is_same_v<A, attn::matrix_view> || std::is_same_v<A, attn::const_matrix_view>) {
    return {true, std::is_same_v<A, attn::const_matrix_view>, true, v.rows, v.cols, v.size(), v.data};
  } else if constexpr (std::is_same_v<A, std::span<float>> || std::is_same_v<A, std::span<const float>>) {
    return {true, std::is_same_v<A, std::span<const float>>, false, 1, v.size(), v.size(), v.data()};
  } else {
    return {};
  }
}

/// "Q, K, S" (the forwarding line's parameters) as {"Q", "K", "S"}.
std::vector<std::string> split_names(const char* names) {
  std::vector<std::string> out(1);
  for (const char* c = names; *c; ++c) {
    if (*c == ',') out.emplace_back();
    else if (*c != ' ') out.back() += *c;
  }
  return out;
}

std::string plural(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string float_text(float v) {
  if (v != v) return "NaN";
  if (v == std::numeric_limits<float>::infinity()) return "inf";
  if (v == -std::numeric_limits<float>::infinity()) return "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

/// "row 3, column 0" of index k in a view of `cols` columns.
std::string cell(const arg_facts& f, long long k) {
  if (!f.matrix || f.cols == 0) return "";
  const long long c = static_cast<long long>(f.cols);
  const long long row = k >= 0 ? k / c : -((-k + c - 1) / c);
  return "row " + std::to_string(row) + ", column " + std::to_string(k - row * c);
}

/// One guard hit, in words: "S: 1 float after the last row (index 12 of a 3 x 4 view: row 3,
/// column 0), set to 0".
std::string describe_hit(const guard_hit& h, const arg_facts& f, const std::string& name) {
  const std::string view = f.matrix ? "a " + shape(f.rows, f.cols) + " view" : "a span of " + plural(f.size, "float", "floats");
  const bool several = h.last > h.first;
  std::string s;
  if (h.zone == guard_zone::inside) {
    s = "wrote into " + name + ", an input it may only read: " + plural(h.count, "element", "elements") +
        " changed (the first: index " + std::to_string(h.first) + " of " + view;
    const std::string at = cell(f, static_cast<long long>(h.first));
    if (!at.empty()) s += ", " + at;
    if (h.first < f.size) s += ", from " + float_text(f.data[h.first]);
    return s + " to " + float_text(h.value) + ")";
  }
  const bool after = h.zone == guard_zone::after;
  const long long first = after ? static_cast<long long>(f.size + h.first) : -1 - static_cast<long long>(h.first);
  const long long last = after ? static_cast<long long>(f.size + h.last) : -1 - static_cast<long long>(h.last);
  s = "wrote outside " + name + (f.input ? " (an input)" : "") + ": " + plural(h.count, "float", "floats") + " " +
      (after ? (f.matrix ? "after the last row" : "after the last element") : (f.matrix ? "before the first row" : "before the first element")) +
      " (index " + std::to_string(first);
  if (several) s += (after ? " to " : " down to ") + std::to_string(last);
  s += " of " + view;
  const std::string at = cell(f, first);
  if (!at.empty()) s += "; index " + std::to_string(first) + " would be " + at;
  s += ")";
  s += several ? ", the first of them set to " + float_text(h.value) : ", set to " + float_text(h.value);
  if (h.edge) s += ", and perhaps farther: the runner watches " + std::to_string(guard_floats(f.matrix ? f.cols : 0)) +
                   " floats on each side";
  return s;
}

/// The failure for a call whose guards were disturbed: every hit, and what was expected.
std::string guard_message(function f, const std::vector<guard_hit>& hits, const std::vector<arg_facts>& facts,
                          const std::vector<std::string>& names) {
  std::string s = name_of(f);
  std::vector<std::string> expected;
  for (std::size_t k = 0; k < hits.size(); ++k) {
    const guard_hit& h = hits[k];
    const arg_facts& a = facts[h.arg];
    const std::string name = h.arg < names.size() ? names[h.arg] : "argument " + std::to_string(h.arg + 1);
    s += (k == 0 ? " " : "; and it ") + describe_hit(h, a, name);
    const std::string e = a.input ? "no write to " + name + " at all"
                                  : "every write inside the " + (a.matrix ? shape(a.rows, a.cols) + " view " : std::to_string(a.size) + " floats of ") + name;
    if (std::find(expected.begin(), expected.end(), e) == expected.end()) expected.push_back(e);
  }
  s += "; expected ";
  for (std::size_t k = 0; k < expected.size(); ++k) s += (k == 0 ? "" : (k + 1 == expected.size() ? " and " : ", ")) + expected[k];
  return s + " (memory outside a view belongs to something else: a write there corrupts it, or crashes)";
}

template <class... A>
std::string describe_call(function f, std::type_identity_t<A>... a) {
  std::string s = name_of(f);
  s += "(";
  bool first = true;
  ((s += (first ? "" : ", ") + arg<A>::describe(a), first = false), ...);
  return s + ")";
}

/// Forwards one call of F (a contract function, whose signature gives the coding). `names`:
/// its parameters' names, as the forwarding line spells them ("Q, K, S").
template <function Id, class R, class... A>
R call(const char* names, R (*)(A...), std::type_identity_t<A>... a) {
  writer request;
  request.u32(static_cast<std::uint32_t>(Id));
  (arg<A>::send(request, a), ...);
  auto& s = session::get();
  const std::string call = describe_call<A...>(Id, a...);
  return s.exchange(request, call, [&](reader& in) -> R {
    const auto how = static_cast<outcome>(in.u8());
    if (how > outcome::unknown_exception) {
      throw protocol_error("outcome " + std::to_string(static_cast<int>(how)));
    }
    std::string message;
    if (how != outcome::returned) message = in.text();
    (arg<A>::receive_back(in, a), ...);
    const std::vector<guard_hit> hits = receive_guards(in, sizeof...(A));
    const std::vector<arg_facts> facts{facts_of<A>(a)...};
    for (const guard_hit& h : hits) {
      const arg_facts& f = facts[h.arg];
      const std::uint64_t band = guard_floats(f.matrix ? f.cols : 0);
      if (!f.array || (h.zone == guard_zone::inside ? !f.input || h.last >= f.size : h.last >= band)) {
        throw protocol_error("a guard report about an argument that has no such guard");
      }
    }
    // Kept for the diagnosis (diagnosis.cpp): the inputs as sent, and what came back.
    const bool keep = attn::test::diagnosis::wanted(Id);
    attn::test::diagnosis::call_record rec;
    if (keep) {
      rec.fn = Id;
      rec.args.assign(request.bytes.begin() + sizeof(std::uint32_t), request.bytes.end());
      rec.how = how;
      rec.message = message;
      (attn::test::diagnosis::snapshot<A>(rec.values, a), ...);
    }
    // A write outside the views fails the call, whatever it returned or threw: the test case
    // ends here as after a crash, and the runner, whose memory may be spoiled, is replaced.
    const auto guarded = [&] {
      if (hits.empty()) return;
      std::string what = guard_message(Id, hits, facts, split_names(names));
      if (keep) {
        attn::test::diagnosis::record(std::move(rec));
        what += "\n" + attn::test::diagnosis::explain_guards(Id, hits);
        while (!what.empty() && what.back() == '\n') what.pop_back();
      }
      s.discard();
      throw runner_failure(what);
    };
    switch (how) {
      case outcome::returned:
        if constexpr (std::is_void_v<R>) {
          guarded();
          if (keep) attn::test::diagnosis::record(std::move(rec));
          return;
        } else {
          R value = result<R>::receive(in);
          if (keep) attn::test::diagnosis::snapshot_result(rec.values, value);
          guarded();
          if (keep) attn::test::diagnosis::record(std::move(rec));
          return value;
        }
      case outcome::invalid_argument:
        guarded();
        if (keep) attn::test::diagnosis::record(std::move(rec));
        throw std::invalid_argument(message);
      case outcome::not_implemented: guarded(); throw attn::not_implemented(message);
      case outcome::other_exception: guarded(); throw std::runtime_error(message);
      default: guarded(); throw std::runtime_error(message);
    }
  });
}

}  // namespace

// The contract, forwarded. Each line names the function and passes its parameters on.
namespace attn {

#define ATTN_FORWARD(name, ...) call<remote::function::name>(#__VA_ARGS__, &attn::name, __VA_ARGS__)

float dot(std::span<const float> q, std::span<const float> k) { return ATTN_FORWARD(dot, q, k); }
float scaled_score(std::span<const float> q, std::span<const float> k) {
  return ATTN_FORWARD(scaled_score, q, k);
}
void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) { ATTN_FORWARD(scores, Q, K, S); }
matrix causal_mask(std::size_t n) { return ATTN_FORWARD(causal_mask, n); }
void apply_causal_mask(matrix_view S) { ATTN_FORWARD(apply_causal_mask, S); }
void softmax(std::span<float> row) { ATTN_FORWARD(softmax, row); }
void softmax_rows(matrix_view S) { ATTN_FORWARD(softmax_rows, S); }
float log_sum_exp(std::span<const float> row) { return ATTN_FORWARD(log_sum_exp, row); }
void stable_softmax(std::span<float> row) { ATTN_FORWARD(stable_softmax, row); }
void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  ATTN_FORWARD(attention_weights, Q, K, A, causal);
}
double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
  return ATTN_FORWARD(dot_variance, d, samples, seed);
}
float entropy(std::span<const float> a) { return ATTN_FORWARD(entropy, a); }
void softmax_jacobian(std::span<const float> a, matrix_view J) { ATTN_FORWARD(softmax_jacobian, a, J); }
void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O) {
  ATTN_FORWARD(attention_output, A, V, O);
}
void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
               bool causal) {
  ATTN_FORWARD(attention, Q, K, V, O, causal);
}
std::vector<float> alibi_slopes(std::size_t heads) { return ATTN_FORWARD(alibi_slopes, heads); }
void add_alibi_bias(matrix_view S, float slope) { ATTN_FORWARD(add_alibi_bias, S, slope); }
void push(online_softmax& state, float x) { ATTN_FORWARD(push, state, x); }
online_softmax merge(const online_softmax& a, const online_softmax& b) { return ATTN_FORWARD(merge, a, b); }
float weight(const online_softmax& state, float x) { return ATTN_FORWARD(weight, state, x); }
void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                         matrix_view O, bool causal, std::size_t block_size) {
  ATTN_FORWARD(streaming_attention, Q, K, V, O, causal, block_size);
}
void softmax_backward(std::span<const float> a, std::span<const float> grad_a,
                      std::span<float> grad_s) {
  ATTN_FORWARD(softmax_backward, a, grad_a, grad_s);
}
void attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V, const_matrix_view dO,
                        bool causal, matrix_view dQ, matrix_view dK, matrix_view dV) {
  ATTN_FORWARD(attention_backward, Q, K, V, dO, causal, dQ, dK, dV);
}
void layer_norm(const_matrix_view X, std::span<const float> gain, matrix_view Y) {
  ATTN_FORWARD(layer_norm, X, gain, Y);
}
void layer_norm_backward(const_matrix_view X, std::span<const float> gain, const_matrix_view dY,
                         matrix_view dX, std::span<float> dgain) {
  ATTN_FORWARD(layer_norm_backward, X, gain, dY, dX, dgain);
}

#undef ATTN_FORWARD

}  // namespace attn
