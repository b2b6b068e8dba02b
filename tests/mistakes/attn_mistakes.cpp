// attn_mistakes: the catalogue of typical mistakes (course/mistakes/), written out for
// whatever is not C++: the self-check (check_mistakes.py), the graders (mistakes.json, to
// name and count mistakes in class reports) and the docs (each step's "Common mistakes").
//
//   attn_mistakes --list [STEP]      one "<step>.<id>" per line
//   attn_mistakes --json             the whole catalogue as JSON
//   attn_mistakes --markdown STEP    STEP's entries as a Doxygen-markdown list
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../course/mistakes/mistake.hpp"
#include "support/remote.hpp"

namespace {

namespace cat = attn::mistakes;

std::string functions_of(const cat::entry& e, std::string_view sep, bool json) {
  std::string s;
  for (std::size_t f = 0; f < cat::function_count; ++f) {
    if (!e.functions[f]) continue;
    const std::string name = attn::remote::function_names[f];
    s += (s.empty() ? "" : std::string(sep)) + (json ? cat::json_quoted(name) : "`" + name + "`");
  }
  return s;
}

/// Text safe in a Doxygen page: no HTML, no Doxygen commands, no link requests (:: is
/// written with Doxygen's escape, \::, so that std::numeric_limits<float>::min() stays text).
std::string doc_text(std::string_view s) {
  std::string out;
  bool quoted = false;  // Doxygen reads no commands between double quotes
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') quoted = !quoted;
    if (!quoted && c == ':' && i + 1 < s.size() && s[i + 1] == ':') {
      out += "\\::";
      ++i;
      continue;
    }
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '\\': out += "\\\\"; break;
      case '@': out += "\\@"; break;
      case '*': out += "\\*"; break;
      case '#': out += "\\#"; break;
      case '%': out += "\\%"; break;
      default: out += c;
    }
  }
  return out;
}

int usage() {
  std::fputs("usage: attn_mistakes --list [STEP] | --json | --markdown STEP\n"
             "Writes out the catalogue of typical mistakes (course/mistakes/).\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  const int step = argc > 2 ? std::atoi(argv[2]) : 0;
  if (mode == "--list" && argc <= 3) {
    for (const auto& e : cat::catalogue()) {
      if (step == 0 || e.about.step == step) std::printf("%d.%s\n", e.about.step, std::string(e.about.id).c_str());
    }
    return 0;
  }
  if (mode == "--json" && argc == 2) {
    std::string out = "{\"mistakes\": [";
    bool first = true;
    for (const auto& e : cat::catalogue()) {
      out += std::string(first ? "\n  " : ",\n  ") + "{" + cat::json_members(e.about) +
             ", \"functions\": [" + functions_of(e, ", ", true) + "]}";
      first = false;
    }
    std::fputs((out + "\n]}\n").c_str(), stdout);
    return 0;
  }
  if (mode == "--markdown" && argc == 3 && step > 0) {
    for (const auto& e : cat::catalogue()) {
      if (e.about.step != step) continue;
      std::printf("- <b>%s.</b> %s. (%s; `./attn hint %d %d`)\n", doc_text(e.about.name).c_str(),
                  doc_text(e.about.why).c_str(), functions_of(e, ", ", false).c_str(), e.about.step,
                  e.about.hint);
    }
    return 0;
  }
  return usage();
}
