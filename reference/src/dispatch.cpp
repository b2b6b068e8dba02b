// Chooses the kernel table at run time: the widest instruction set compiled in that the
// CPU supports, unless a scoped_isa pins another one on this thread.
#include <string>
#include <string_view>
#include <vector>

#include <xsimd/xsimd.hpp>

#include <attn/errors.hpp>
#include <attn/reference.hpp>

#include "kernel_table.hpp"

namespace attn::ref {
namespace detail {
namespace {

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
// xsimd 8.1 reads the CPUID feature bits only; the compiler's runtime also checks that
// the operating system saves the wide registers (XGETBV), so ask both.
#define ATTN_OS_SUPPORTS(feature) __builtin_cpu_supports(feature)
#else
#define ATTN_OS_SUPPORTS(feature) true
#endif

struct compiled_isa {
  const kernel_table* table;
  bool supported;
};

/// Every table compiled in, narrowest first.
std::vector<compiled_isa> detect() {
  [[maybe_unused]] const auto cpu = xsimd::available_architectures();
  std::vector<compiled_isa> found{{&scalar_table, true}};
#if defined(ATTN_HAVE_SSE2)
  found.push_back({&sse2_table, cpu.sse2 != 0});
#endif
#if defined(ATTN_HAVE_AVX2)
  found.push_back({&avx2_table, cpu.fma3_avx2 != 0 && ATTN_OS_SUPPORTS("avx2") &&
                                    ATTN_OS_SUPPORTS("fma")});
#endif
#if defined(ATTN_HAVE_AVX512F)
  // Compiled with -mavx512f -mavx512cd -mavx512dq -mfma (see reference/CMakeLists.txt).
  found.push_back({&avx512f_table, cpu.avx512f != 0 && cpu.avx512cd != 0 && cpu.avx512dq != 0 &&
                                       cpu.fma3_avx2 != 0 && ATTN_OS_SUPPORTS("avx512f") &&
                                       ATTN_OS_SUPPORTS("avx512cd") && ATTN_OS_SUPPORTS("avx512dq") &&
                                       ATTN_OS_SUPPORTS("fma")});
#endif
#if defined(ATTN_HAVE_NEON64)
  found.push_back({&neon64_table, cpu.neon64 != 0});
#endif
  return found;
}

const std::vector<compiled_isa>& compiled() {
  static const std::vector<compiled_isa> tables = detect();
  return tables;
}

const kernel_table* best_supported() {
  static const kernel_table* const best = [] {
    const kernel_table* widest = &scalar_table;
    for (const compiled_isa& c : compiled()) {
      if (c.supported) widest = c.table;
    }
    return widest;
  }();
  return best;
}

/// Set by scoped_isa; null means "the best supported".
thread_local const kernel_table* pinned = nullptr;

std::string names(bool supported_only) {
  std::string list;
  for (const compiled_isa& c : compiled()) {
    if (supported_only && !c.supported) continue;
    list += (list.empty() ? "" : ", ") + std::string(c.table->name);
  }
  return list;
}

}  // namespace

const kernel_table& active_kernels() { return pinned != nullptr ? *pinned : *best_supported(); }

}  // namespace detail

const std::vector<isa>& instruction_sets() {
  static const std::vector<isa> sets = [] {
    std::vector<isa> out;
    for (const detail::compiled_isa& c : detail::compiled()) {
      out.push_back({c.table->name, c.table->lanes, c.supported});
    }
    return out;
  }();
  return sets;
}

std::string_view active_isa() { return detail::active_kernels().name; }

scoped_isa::scoped_isa(std::string_view name) : previous_(detail::pinned) {
  for (const detail::compiled_isa& c : detail::compiled()) {
    if (name != c.table->name) continue;
    if (!c.supported) {
      invalid_input("attn::ref::scoped_isa",
                    "instruction set '" + std::string(name) +
                        "' is compiled in but this CPU cannot run it; expected one of: " +
                        detail::names(true));
    }
    detail::pinned = c.table;
    return;
  }
  invalid_input("attn::ref::scoped_isa", "unknown instruction set '" + std::string(name) +
                                             "'; expected one of: " + detail::names(false));
}

scoped_isa::~scoped_isa() { detail::pinned = static_cast<const detail::kernel_table*>(previous_); }

}  // namespace attn::ref
