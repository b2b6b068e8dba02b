// The judge's diagnosis: which catalogued mistake (course/mistakes/) reproduces what the
// student's code did. Linked into the judges of the exercises only (with proxy.cpp, which
// records every call it forwards here); support/diagnosis.hpp says when it runs.
//
// The rules, for one failing check:
//   1. Its `actual` must be one of the outputs (or a contiguous part of one) of the last
//      calls forwarded to the student's code; otherwise nothing is said.
//   2. The right function (the reference) is run on the call's own inputs: when its output
//      is within the check's bounds of the student's, the call was right (the failure comes
//      from elsewhere, e.g. inputs spoiled by an earlier wrong call) and nothing is said.
//      Otherwise each mistake of that function is run on the same inputs. It names itself
//      when every element of its output is within the check's bound of the student's, and
//      it is itself wrong: some element is outside the bound of `expected`. The bound grows
//      with the mistaken output's size (max |mistake| / max |expected|, at least 1), because
//      rounding errors grow with the values computed.
//   3. A refusal check (bad input that must throw std::invalid_argument naming the function
//      and the sizes) names a mistake that ends the same call the same way when the right
//      function does not: returns, or throws a message that falls short the same way (does
//      not name the function, or lacks sizes, by support/diagnosis.hpp's gaps_in).
//   4. A mistake whose output is clearly not the student's at a value check of its function
//      (not even within 16 times the bounds, or 1e-3 of its largest value) is ruled out for
//      the rest of the run: it is named at no later check and not in the summary. So is a
//      mistake that returns from a call that the student's code refused although the right
//      function returns (the student refused good input: not what that mistake does). A
//      mistake that explains some failures of a function but not others is a coincidence,
//      not a diagnosis (dividing by sqrt(n_k) looks like no scaling at all when n_k = 1); so
//      a function with two mistakes at once gets no name: never a guess.
//   5. A growth check (right values computed in the wrong order of time, e.g. O(n^2) for
//      O(n)) names the mistakes of the function that grow past the check's limit when timed
//      the same way, provided the right function does not. A mistake whose values are right
//      and only its cost is wrong (mistakes::info::only_cost) is run at growth checks only:
//      rules 2-4 and 6 skip it, since it cannot explain a wrong value and nothing it returns
//      rules it out (and on the tests' longest rows its O(n^2) would cost the most of all).
//   6. A call that wrote outside its views (the runner's guards, support/remote.hpp) names
//      the mistakes of the function that, run on the same inputs in guarded storage, write
//      into the same bands: the same argument, on the same side (before, after, inside an
//      input). The right function never does.
// The summary after the run picks the fewest mistakes that explain every diagnosed check
// (greedily, the one explaining most first); among equals, the one that defines no wrong
// function whose checks never failed; still equal: "one of" them.
#include "support/close.hpp"
#include "support/diagnosis_log.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "../course/mistakes/mistake.hpp"
#include "support/compare.hpp"
#include "support/diagnosis.hpp"

namespace attn::test::diagnosis {
namespace {

using remote::function;
using remote::outcome;
namespace cat = attn::mistakes;

constexpr std::size_t kKeptCalls = 32;
constexpr std::size_t kKeptBytes = std::size_t{64} << 20;

struct memory_reader final : remote::reader {
  const std::vector<unsigned char>& bytes;
  std::size_t at = 0;
  explicit memory_reader(const std::vector<unsigned char>& b) : bytes(b) {}
  void raw(void* p, std::size_t n) override {
    if (n == 0) return;  // an empty vector's data() may be null: no memcpy from or to it
    if (n > bytes.size() - at) throw remote::protocol_error("a recorded call is shorter than its arguments");
    std::memcpy(p, bytes.data() + at, n);
    at += n;
  }
};

struct local_result {
  outcome how = outcome::returned;
  std::string message;
  outputs values;
  std::vector<remote::guard_hit> guards;  ///< what it wrote outside its views (remote.hpp)
};

template <class R, class... A>
local_result run_local(R (*f)(A...), const std::vector<unsigned char>& args) {
  local_result r;
  try {
    memory_reader in(args);
    std::tuple<typename remote::arg<A>::holder...> held;
    std::apply([&](auto&... h) { (h.receive(in), ...); }, held);
    try {
      if constexpr (std::is_void_v<R>) {
        std::apply([&](auto&... h) { f(h.get()...); }, held);
        std::apply([&](auto&... h) { (snapshot<A>(r.values, h.get()), ...); }, held);
      } else {
        R value = std::apply([&](auto&... h) { return f(h.get()...); }, held);
        std::apply([&](auto&... h) { (snapshot<A>(r.values, h.get()), ...); }, held);
        snapshot_result(r.values, value);
      }
    } catch (const std::invalid_argument& e) {
      r.how = outcome::invalid_argument;
      r.message = e.what();
    }
    std::uint32_t position = 0;  // the holders are guarded: a mistake's stray writes land in a band
    std::apply([&](auto&... h) { (h.check(position++, r.guards), ...); }, held);
  } catch (const std::exception& e) {
    r.how = outcome::other_exception;
    r.message = e.what();
  }
  return r;
}

/// What the right function (the reference) does with the call's inputs.
local_result run_correct(const call_record& c) {
  switch (c.fn) {
#define ATTN_DIAGNOSIS_CORRECT(name, step) \
  case function::name: return run_local(&::attn::ref::name, c.args);
    ATTN_CONTRACT_FUNCTIONS(ATTN_DIAGNOSIS_CORRECT)
#undef ATTN_DIAGNOSIS_CORRECT
    default: return {outcome::other_exception, "unknown function", {}, {}};
  }
}

local_result run_entry(const cat::entry& e, const call_record& c) {
  const auto fn = e.functions[static_cast<std::size_t>(c.fn)];
  switch (c.fn) {
#define ATTN_DIAGNOSIS_CASE(name, step) \
  case function::name: return run_local(reinterpret_cast<decltype(&::attn::name)>(fn), c.args);
    ATTN_CONTRACT_FUNCTIONS(ATTN_DIAGNOSIS_CASE)
#undef ATTN_DIAGNOSIS_CASE
    default: return {outcome::other_exception, "unknown function", {}, {}};
  }
}

/// Same value, bit for bit (NaN matching NaN).
bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

using attn::test::close;  // support/close.hpp's rule: NaN for NaN, infinities exactly

struct finding {
  std::set<std::size_t> entries;     ///< catalogue indices that reproduce this failure
};

class state {
 public:
  static state& get() {
    static state s;
    return s;
  }

  void record(call_record&& c) {
    c.serial = ++serial_;
    if (c.how == outcome::invalid_argument && correct(c).how == outcome::returned) {
      // Rule 4: good input refused; the mistakes that take it are not the student's.
      const auto& all = cat::catalogue();
      for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].functions[static_cast<std::size_t>(c.fn)] && run(c, i).how == outcome::returned) ruled_out_.insert(i);
      }
    }
    bytes_ += c.args.size();
    for (const auto& o : c.values) bytes_ += o.size() * sizeof(double);
    calls_.push_back(std::move(c));
    while (calls_.size() > kKeptCalls || (calls_.size() > 1 && bytes_ > kKeptBytes)) drop_oldest();
  }

  bool wanted(function f) const { return by_function_[static_cast<std::size_t>(f)]; }

  std::string values(std::span<const double> e, std::span<const double> a, std::span<const double> b) {
    // Rule 1: which call's output is `actual`?
    for (auto c = calls_.rbegin(); c != calls_.rend(); ++c) {
      if (c->how != outcome::returned) continue;
      for (std::size_t slot = 0; slot < c->values.size(); ++slot) {
        const auto& out = c->values[slot];
        if (a.empty() || out.size() < a.size()) continue;
        for (std::size_t at = 0; at + a.size() <= out.size(); ++at) {
          if (!std::equal(a.begin(), a.end(), out.begin() + static_cast<std::ptrdiff_t>(at), same)) continue;
          // Rule 2: not when the right function gives this output too (the call was right:
          // what went wrong came before it, e.g. inputs spoiled by an earlier wrong call).
          if (agrees(correct(*c), slot, at, e, a, b)) return {};
          return explain(
              *c, [&](const local_result& m) { return agrees(m, slot, at, e, a, b) && wrong(m, slot, at, e, b); },
              [&](const local_result& m) { return m.how == outcome::returned && !agrees(m, slot, at, e, a, b, true); });
        }
      }
    }
    return {};
  }

  /// A call that wrote outside its views (the last one recorded): names the mistakes of its
  /// function that, on the same inputs, write into the same bands (same argument, same side).
  std::string guards(function f, const std::vector<remote::guard_hit>& hits) {
    if (calls_.empty() || calls_.back().fn != f || hits.empty()) return {};
    const auto same_bands = [&](const local_result& m) {
      return std::all_of(hits.begin(), hits.end(), [&](const remote::guard_hit& h) {
        return std::any_of(m.guards.begin(), m.guards.end(),
                           [&](const remote::guard_hit& g) { return g.arg == h.arg && g.zone == h.zone; });
      });
    };
    if (same_bands(correct(calls_.back()))) return {};
    return explain(calls_.back(), same_bands, [](const local_result&) { return false; });
  }

  std::string refusal(std::string_view function_names, std::span<const std::size_t> sizes, bool returned,
                      bool invalid, std::string_view message) {
    if (calls_.empty()) return {};
    const call_record& c = calls_.back();
    // A message falls short the same way: both lack the function's name, or both lack sizes
    // (gaps_in, the rule of the check itself).
    const message_gaps student = gaps_in(message, function_names, sizes);
    const auto same_end = [&](const local_result& m) {
      if (returned) return m.how == outcome::returned;
      if (!invalid || m.how != outcome::invalid_argument) return false;
      const message_gaps g = gaps_in(m.message, function_names, sizes);
      return !g.ok() && g.same_kind(student);
    };
    if (same_end(correct(c))) return {};
    return explain(c, same_end, [](const local_result&) { return false; });
  }

  /// A growth check (right values, but the time grows faster than it should with the input):
  /// names the mistakes of `function_name` that `probe` finds growing past `limit` when the
  /// right function does not (when it does, the machine is too noisy to tell: nothing said).
  std::string growth(std::string_view function_name, double limit, growth_probe probe) {
    std::size_t f = cat::function_count;
    cat::any_function right = nullptr;
#define ATTN_DIAGNOSIS_NAMED(name, step)                          \
  if (function_name == #name) {                                   \
    f = static_cast<std::size_t>(cat::fn::name);                  \
    right = reinterpret_cast<cat::any_function>(static_cast<decltype(&::attn::name)>(&::attn::ref::name)); \
  }
    ATTN_CONTRACT_FUNCTIONS(ATTN_DIAGNOSIS_NAMED)
#undef ATTN_DIAGNOSIS_NAMED
    if (f == cat::function_count || probe(right) > limit) return {};
    const auto& all = cat::catalogue();
    finding found;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].functions[f] && !ruled_out_.count(i) && probe(all[i].functions[f]) > limit) found.entries.insert(i);
    }
    if (found.entries.empty()) return {};
    failed_functions_.insert(static_cast<function>(f));
    findings_.push_back(found);
    return describe({found.entries.begin(), found.entries.end()}, "  ");
  }

  void finish() {
    const auto& all = cat::catalogue();
    std::vector<std::string> lines;
    std::string json = "{\"diagnoses\": [";
    std::vector<finding> left;
    for (finding f : findings_) {  // rule 4: what was ruled out after it matched goes too
      std::erase_if(f.entries, [&](std::size_t i) { return ruled_out_.count(i) > 0; });
      if (!f.entries.empty()) left.push_back(f);
    }
    const std::size_t diagnosed = left.size();
    bool first = true;
    while (!left.empty()) {
      std::map<std::size_t, std::size_t> cover;
      for (const auto& f : left) for (std::size_t i : f.entries) ++cover[i];
      std::size_t best = 0;
      for (const auto& [i, n] : cover) best = std::max(best, n);
      if (best == 0) break;
      std::vector<std::size_t> top;
      std::size_t fewest = SIZE_MAX;
      for (const auto& [i, n] : cover) {
        if (n != best) continue;
        const std::size_t u = unconfirmed(all[i]);
        if (u < fewest) { fewest = u; top.clear(); }
        if (u == fewest) top.push_back(i);
      }
      lines.push_back(describe(top, "  ") + "  (" + std::to_string(best) + " failed check" +
                      (best == 1 ? "" : "s") + ")\n");
      json += std::string(first ? "" : ", ") + "{\"checks\": " + std::to_string(best) + ", \"one_of\": [";
      for (std::size_t k = 0; k < top.size(); ++k) {
        const auto& m = all[top[k]].about;
        json += std::string(k ? ", " : "") + "{" + cat::json_members(m) + ", \"text\": " +
                cat::json_quoted(line(m)) + "}";
      }
      json += "]}";
      first = false;
      std::erase_if(left, [&](const finding& f) {
        return std::any_of(top.begin(), top.end(), [&](std::size_t i) { return f.entries.count(i) > 0; });
      });
    }
    json += "], \"diagnosed_checks\": " + std::to_string(diagnosed) + "}\n";
    if (!lines.empty()) {
      std::string text = "attn: what the failures look like (course/mistakes/):\n";
      for (const auto& l : lines) text += l;
      std::fputs(text.c_str(), stdout);
      std::fflush(stdout);
    }
    if (const char* path = std::getenv("ATTN_DIAGNOSIS_FILE"); path && *path) {
      std::ofstream(path) << json;
    }
  }

 private:
  state() {
    const auto& all = cat::catalogue();
    for (const auto& e : all) {
      for (std::size_t f = 0; f < cat::function_count; ++f) by_function_[f] = by_function_[f] || e.functions[f];
    }
  }

  void drop_oldest() {
    const call_record& c = calls_.front();
    bytes_ -= c.args.size();
    for (const auto& o : c.values) bytes_ -= o.size() * sizeof(double);
    std::erase_if(cache_, [&](const auto& kv) { return kv.first.first == c.serial; });
    calls_.pop_front();
  }

  /// Entry i's result for call c (i = kCorrect: the right function's), computed once.
  static constexpr std::size_t kCorrect = SIZE_MAX;
  const local_result& run(const call_record& c, std::size_t i) {
    const auto key = std::make_pair(c.serial, i);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      it = cache_.emplace(key, i == kCorrect ? run_correct(c) : run_entry(cat::catalogue()[i], c)).first;
    }
    return it->second;
  }

  const local_result& correct(const call_record& c) { return run(c, kCorrect); }

  /// The part of m's output slot that the check compared, or nullptr when m has none.
  static const double* part(const local_result& m, std::size_t slot, std::size_t at, std::size_t n) {
    if (m.how != outcome::returned || slot >= m.values.size() || m.values[slot].size() < at + n) return nullptr;
    return m.values[slot].data() + at;
  }

  /// Is the student's `a` within the check's bounds of m's output (the bounds grown with the
  /// size of m's values relative to `expected`)? `loosely`: within 16 times those bounds or
  /// 1e-3 of the largest value, whichever is more (what rules a mistake out, rule 4: the
  /// check's bounds are made for the right computation, and a mistake that combines other
  /// elements rounds differently).
  static bool agrees(const local_result& m, std::size_t slot, std::size_t at, std::span<const double> e,
                     std::span<const double> a, std::span<const double> b, bool loosely = false) {
    const double* mv = part(m, slot, at, a.size());
    if (mv == nullptr) return false;
    double max_m = 0, max_e = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (std::isfinite(mv[k])) max_m = std::max(max_m, std::fabs(mv[k]));
      if (std::isfinite(e[k])) max_e = std::max(max_e, std::fabs(e[k]));
    }
    const double grow = max_e > 0 ? std::max(1.0, max_m / max_e) : 1.0;
    for (std::size_t k = 0; k < a.size(); ++k) {
      double bound = (b.size() == 1 ? b[0] : b[k]) * grow;
      if (loosely) bound = std::max(16 * bound, 1e-3 * max_m);
      if (!close(mv[k], a[k], bound)) return false;
    }
    return true;
  }

  /// Does m's output fail the check itself (some element outside the bound of `expected`)?
  static bool wrong(const local_result& m, std::size_t slot, std::size_t at, std::span<const double> e,
                    std::span<const double> b) {
    const double* mv = part(m, slot, at, e.size());
    if (mv == nullptr) return false;
    for (std::size_t k = 0; k < e.size(); ++k) {
      if (!close(e[k], mv[k], b.size() == 1 ? b[0] : b[k])) return true;
    }
    return false;
  }

  /// `contradicted`: whether an entry's output rules it out for good (rule 4).
  template <class Match, class Contradicted>
  std::string explain(const call_record& c, Match&& matches, Contradicted&& contradicted) {
    const auto& all = cat::catalogue();
    finding f;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (!all[i].functions[static_cast<std::size_t>(c.fn)] || all[i].about.only_cost) continue;
      const local_result& m = run(c, i);
      if (matches(m)) {
        if (!ruled_out_.count(i)) f.entries.insert(i);
      } else if (contradicted(m)) {
        ruled_out_.insert(i);
      }
    }
    if (f.entries.empty()) return {};
    failed_functions_.insert(c.fn);
    findings_.push_back(f);
    return describe({f.entries.begin(), f.entries.end()}, "  ");
  }

  /// The wrong functions of `e` that no diagnosed failure involved.
  std::size_t unconfirmed(const cat::entry& e) const {
    std::size_t n = 0;
    for (std::size_t f = 0; f < cat::function_count; ++f) {
      if (e.functions[f] && !failed_functions_.count(static_cast<function>(f))) ++n;
    }
    return n;
  }

  static std::string line(const cat::info& m) {
    return std::string(m.name) + ". " + std::string(m.why) + " (./attn hint " + std::to_string(m.step) +
           " " + std::to_string(m.hint) + ")";
  }

  static std::string describe(const std::vector<std::size_t>& entries, const std::string& indent) {
    const auto& all = cat::catalogue();
    if (entries.size() == 1) return indent + "This looks like: " + line(all[entries[0]].about) + "\n";
    std::string s = indent + "This looks like one of:\n";
    for (std::size_t i : entries) s += indent + "  - " + line(all[i].about) + "\n";
    return s;
  }

  std::deque<call_record> calls_;
  std::size_t bytes_ = 0;
  std::uint64_t serial_ = 0;
  std::map<std::pair<std::uint64_t, std::size_t>, local_result> cache_;
  std::vector<finding> findings_;
  std::set<function> failed_functions_;
  std::set<std::size_t> ruled_out_;
  std::array<bool, cat::function_count> by_function_{};
};

std::string on_values_impl(std::span<const double> e, std::span<const double> a, std::span<const double> b) {
  return state::get().values(e, a, b);
}
std::string on_refusal_impl(std::string_view f, std::span<const std::size_t> sizes, bool returned, bool invalid,
                            std::string_view message) {
  return state::get().refusal(f, sizes, returned, invalid, message);
}
void on_finish_impl() { state::get().finish(); }
std::string on_growth_impl(std::string_view f, double limit, growth_probe probe) {
  return state::get().growth(f, limit, probe);
}

const bool installed = [] {
  on_values = on_values_impl;
  on_refusal = on_refusal_impl;
  on_finish = on_finish_impl;
  on_growth = on_growth_impl;
  return true;
}();

}  // namespace

bool wanted(remote::function f) { return state::get().wanted(f); }
void record(call_record&& c) { state::get().record(std::move(c)); }
std::string explain_guards(remote::function f, const std::vector<remote::guard_hit>& hits) {
  return state::get().guards(f, hits);
}

}  // namespace attn::test::diagnosis
