// attn_sandbox: runs a student's code, or the compiler on a student's file, in a sandbox
// made of what a Linux distribution ships: bubblewrap (namespaces and mounts), a seccomp
// filter built with libseccomp, and resource limits (setrlimit). The graders use it
// (tools/grade.py): the judge starts the runner through it, and the grading build compiles
// the step files through it.
//
//   attn_sandbox --run [--cpu-seconds N] [--memory-mib M] -- RUNNER
//       RUNNER (a program that only computes) sees: itself, the system's libraries
//       (/usr/lib, read-only), an empty private /tmp of 16 MiB, its own /proc and a minimal
//       /dev; the rest of its file system is read-only. No network, no other process, no course tree, home folder or submission.
//       Limits: memory (address space, default 2048 MiB), CPU seconds, 64 open files, file
//       size 8 MiB (a write past it fails), 512 processes of the user nobody, no core dumps (--memory-mib 0: no memory limit, for
//       AddressSanitizer, which reserves terabytes of address space); the seccomp filter refuses new processes
//       (threads are allowed), sockets, ptrace and the other calls listed below.
//   attn_sandbox --compile -- COMPILER ARGS...
//       The compiler sees the toolchain (/usr, read-only), the files and include folders
//       its arguments name (read-only) and the folders of its outputs (-o, -MF: writable).
//       No network; limits: 120 CPU seconds, 4096 MiB, 256 MiB per file.
//   attn_sandbox --check
//       Exits 0 when the sandbox can be set up here, else says why and exits 1.
//
// bubblewrap is the one found at configure time, or $ATTN_BWRAP.
//
// Run as root (CI, Gradescope), it first becomes the unprivileged user nobody (65534):
// the paths it binds are opened as root beforehand and handed to bubblewrap as descriptors,
// so the sandbox works wherever the course lives. The limits hold for nobody; root would
// ignore some.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef ATTN_BWRAP
#define ATTN_BWRAP "bwrap"
#endif

namespace {

constexpr uid_t nobody = 65534;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "attn_sandbox: %s\n", what.c_str());
  std::exit(125);
}

std::string error_text(const std::string& what) { return what + ": " + std::strerror(errno); }

void limit(int resource, rlim_t value) {
  rlimit now{};
  ::getrlimit(resource, &now);
  // Never raise a limit the caller set lower (the judge's output limit, say).
  const rlim_t v = now.rlim_max != RLIM_INFINITY && now.rlim_max < value ? now.rlim_max : value;
  const rlimit r{v, v};
  if (::setrlimit(resource, &r) != 0) die(error_text("setrlimit"));
}

/// The seccomp filter, exported as a BPF program into an anonymous file for bubblewrap.
int seccomp_program(bool allow_processes) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) die("seccomp_init failed");
  const auto deny = [&](const char* name, int err = EPERM) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return;  // not a system call on this architecture
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 0) != 0) die(std::string("seccomp rule for ") + name);
  };
  for (const char* name : {"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
                           "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2",
                           "pivot_root", "chroot", "unshare", "setns", "keyctl", "add_key",
                           "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
                           "io_uring_enter", "io_uring_register", "kexec_load", "init_module",
                           "finit_module", "delete_module", "swapon", "swapoff", "reboot",
                           "setsid", "ioperm", "iopl", "quotactl", "acct",
                           "settimeofday", "clock_settime", "sethostname", "setdomainname"}) {
    deny(name);
  }
  if (!allow_processes) {
    deny("fork");
    deny("vfork");
    deny("clone3", ENOSYS);  // glibc then falls back to clone, filtered below
    // clone: threads only (CLONE_THREAD set); a new process is refused.
    const int nr = seccomp_syscall_resolve_name("clone");
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)) != 0) {
      die("seccomp rule for clone");
    }
  }
  const int fd = ::memfd_create("attn-seccomp", 0);
  if (fd < 0) die(error_text("memfd_create"));
  if (seccomp_export_bpf(ctx, fd) != 0) die("seccomp_export_bpf failed");
  seccomp_release(ctx);
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

/// A descriptor for `path`, opened now (as the caller, root included) for bubblewrap.
int open_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) die(error_text("cannot open " + path));
  ::fcntl(fd, F_SETFD, 0);  // bubblewrap inherits it
  return fd;
}

/// bubblewrap: the one found at configure time, or $ATTN_BWRAP (a copy elsewhere).
std::string bwrap_program() {
  const char* v = std::getenv("ATTN_BWRAP");
  return v && *v ? v : ATTN_BWRAP;
}

struct bwrap_command {
  std::vector<std::string> args{bwrap_program()};
  void add(std::initializer_list<std::string> a) { args.insert(args.end(), a); }
};

bool is_root() { return ::geteuid() == 0; }

void drop_root() {
  if (!is_root()) return;
  if (::setgroups(0, nullptr) != 0 || ::setgid(nobody) != 0 || ::setuid(nobody) != 0) {
    die(error_text("cannot become the user nobody"));
  }
}

/// Drops root, then limits the processes of the user. RLIMIT_NPROC counts every process
/// and thread of the (real) user on the machine: as nobody that is the sandboxes alone, so
/// several at once get room; run by an ordinary user it would count the whole session (the
/// build, the other tests), so it is left alone there. The seccomp filter keeps the runner
/// from starting any process either way.
void process_limit() {
  const bool was_root = is_root();
  drop_root();
  if (was_root) limit(RLIMIT_NPROC, 512);
}

/// The common part: new namespaces of every kind, no way back to the caller's.
void base(bwrap_command& b) {
  b.add({"--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
         "--clearenv", "--setenv", "PATH", "/usr/bin", "--setenv", "HOME", "/tmp", "--hostname",
         "sandbox", "--proc", "/proc", "--dev", "/dev", "--size", std::to_string(16 << 20), "--tmpfs",
         "/tmp"});
  // The sanitizers' settings, when grading under them (tools/grade.py --sanitize).
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
    if (const char* v = std::getenv(name)) b.add({"--setenv", name, v});
  }
}

void system_libraries(bwrap_command& b) {
  for (const char* dir : {"/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32"}) {
    if (std::filesystem::is_directory(dir)) b.add({"--ro-bind", dir, dir});
  }
  for (const char* top : {"/lib", "/lib64", "/lib32", "/libx32"}) {
    std::error_code ec;
    if (std::filesystem::is_symlink(top, ec)) {
      b.add({"--symlink", std::filesystem::read_symlink(top, ec).string(), top});
    } else if (std::filesystem::is_directory(top, ec)) {
      b.add({"--ro-bind", top, top});
    }
  }
}

[[noreturn]] void exec(const bwrap_command& b) {
  std::vector<char*> argv;
  for (const auto& a : b.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // An empty environment for bubblewrap itself: its process 1 in the sandbox keeps the
  // environment it was started with, and the runner can read /proc/1/environ.
  char path[] = "PATH=/usr/bin:/bin";
  char* env[] = {path, nullptr};
  ::execvpe(argv[0], argv.data(), env);
  die(error_text("cannot run bubblewrap (" + b.args[0] + ")"));
}

int run_mode(long cpu_seconds, long memory_mib, const std::string& program) {
  const int program_fd = ::open(program.c_str(), O_RDONLY | O_CLOEXEC);
  if (program_fd < 0) die(error_text("cannot open " + program));
  ::fcntl(program_fd, F_SETFD, 0);
  const int filter = seccomp_program(false);
  if (memory_mib > 0) limit(RLIMIT_AS, static_cast<rlim_t>(memory_mib) << 20);  // 0: none (ASan)
  limit(RLIMIT_CPU, static_cast<rlim_t>(cpu_seconds));
  limit(RLIMIT_NOFILE, 64);
  limit(RLIMIT_FSIZE, 8u << 20);
  limit(RLIMIT_CORE, 0);
  process_limit();
  // Past the file-size limit a write fails (EFBIG) instead of killing the runner: a student
  // whose code writes too much loses that write, not the step.
  std::signal(SIGXFSZ, SIG_IGN);
  bwrap_command b;
  base(b);
  system_libraries(b);
  b.add({"--perms", "0555", "--ro-bind-data", std::to_string(program_fd), "/runner", "--remount-ro", "/",
         "--seccomp", std::to_string(filter), "--chdir", "/tmp", "--", "/runner"});
  exec(b);
}

int compile_mode(const std::vector<std::string>& command) {
  if (command.empty()) die("--compile needs a compiler command after --");
  bwrap_command b;
  base(b);
  b.add({"--ro-bind", "/usr", "/usr"});
  system_libraries(b);
  // Outputs: the folders of -o and -MF (-MD writes next to -o); inputs: the source after -c
  // and the include folders (-I, -isystem, -iquote, joined or separate).
  std::vector<std::string> writable, readable;
  const auto absolute = [](const std::string& p) { return std::filesystem::absolute(p).string(); };
  for (std::size_t i = 1; i < command.size(); ++i) {
    const std::string& a = command[i];
    const bool has_next = i + 1 < command.size();
    if ((a == "-o" || a == "-MF") && has_next) {
      writable.push_back(std::filesystem::absolute(command[++i]).parent_path().string());
    } else if ((a == "-c" || a == "-I" || a == "-isystem" || a == "-iquote") && has_next) {
      readable.push_back(absolute(command[++i]));
    } else if (a.size() > 2 && a.rfind("-I", 0) == 0) {
      readable.push_back(absolute(a.substr(2)));
    } else if (a == "-MT" || a == "-MQ" || a == "-x" || a == "-include") {
      ++i;  // a make target or a language: names no input of ours (-include is refused below)
    }
  }
  std::erase_if(readable, [](const std::string& p) {
    return p.rfind("/usr/", 0) == 0 || !std::filesystem::exists(p);  // /usr is bound already
  });
  for (auto* list : {&writable, &readable}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  for (const auto& dir : writable) {
    std::filesystem::create_directories(dir);
    const int fd = open_path(dir);
    if (is_root() && ::chown(dir.c_str(), nobody, nobody) != 0) die(error_text("chown " + dir));
    b.add({"--bind-fd", std::to_string(fd), dir});
  }
  for (const auto& path : readable) {
    b.add({"--ro-bind-fd", std::to_string(open_path(path)), path});
  }
  const int filter = seccomp_program(true);
  limit(RLIMIT_AS, rlim_t{4096} << 20);
  limit(RLIMIT_CPU, 120);
  limit(RLIMIT_FSIZE, rlim_t{256} << 20);
  limit(RLIMIT_NOFILE, 256);
  limit(RLIMIT_CORE, 0);
  process_limit();
  // The build tool's working folder (relative -o and -MF paths), empty but for the binds.
  const std::string cwd = std::filesystem::current_path().string();
  b.add({"--dir", cwd, "--seccomp", std::to_string(filter), "--chdir", cwd, "--"});
  // The compiler by its real path: /usr/bin/c++ is a link through /etc/alternatives, and
  // /etc is not in the sandbox.
  std::error_code ec;
  const auto real = std::filesystem::canonical(command[0], ec);
  b.args.push_back(ec ? command[0] : real.string());
  b.args.insert(b.args.end(), command.begin() + 1, command.end());
  exec(b);
}

int check_mode() {
  const std::string bwrap = bwrap_program();
  if (bwrap.find('/') != std::string::npos && ::access(bwrap.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "attn_sandbox: bubblewrap is not at %s (install it: sudo apt-get install "
                 "bubblewrap; or set ATTN_BWRAP to where it is)\n", bwrap.c_str());
    return 1;
  }
  // The real thing, the run sandbox with its filter and limits, on a program that exits 0.
  const std::string program = std::filesystem::exists("/usr/bin/true") ? "/usr/bin/true" : "/bin/true";
  const pid_t pid = ::fork();
  if (pid < 0) die(error_text("fork"));
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    const int filter = seccomp_program(false);
    drop_root();
    bwrap_command b;
    base(b);
    system_libraries(b);
    b.add({"--ro-bind", program, "/runner", "--remount-ro", "/", "--seccomp", std::to_string(filter),
           "--", "/runner"});
    exec(b);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    std::printf("attn_sandbox: the sandbox works here (%s, seccomp, limits%s)\n", bwrap_program().c_str(),
                is_root() ? ", as the user nobody" : "");
    return 0;
  }
  std::fprintf(stderr,
               "attn_sandbox: bubblewrap (%s) could not set up the sandbox here (exit status %d). "
               "It needs unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1, "
               "and in a container a seccomp profile that allows them.\n",
               bwrap_program().c_str(), WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 1;
}

void usage() {
  std::fprintf(stderr,
               "usage: attn_sandbox --run [--cpu-seconds N] [--memory-mib M] -- RUNNER\n"
               "       attn_sandbox --compile -- COMPILER ARGS...\n"
               "       attn_sandbox --check\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) usage();
  if (args[0] == "--check") return check_mode();
  long cpu = 60, memory = 2048;
  std::size_t i = 1;
  for (; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--cpu-seconds" && i + 1 < args.size()) cpu = std::atol(args[++i].c_str());
    else if (args[i] == "--memory-mib" && i + 1 < args.size()) memory = std::atol(args[++i].c_str());
    else usage();
  }
  if (i >= args.size()) usage();
  std::vector<std::string> command(args.begin() + static_cast<long>(i) + 1, args.end());
  if (args[0] == "--run") {
    if (command.size() != 1 || cpu <= 0 || memory < 0) usage();
    return run_mode(cpu, memory, command[0]);
  }
  if (args[0] == "--compile") return compile_mode(command);
  usage();
}
