// The catalogue's registry: the entries of the step files (ATTN_MISTAKE) in one list.
#include <algorithm>
#include <string>

#include "mistake.hpp"

namespace attn::mistakes {
namespace {

std::vector<entry>& registered() {
  static std::vector<entry> all;
  return all;
}

}  // namespace

void detail::add(const entry& e) { registered().push_back(e); }

const std::vector<entry>& catalogue() {
  // Registration runs while the program starts, one step file after another in link order;
  // the list is read afterwards, so it is put in step order once, on first use.
  static const std::vector<entry> sorted = [] {
    std::vector<entry> all = registered();
    std::stable_sort(all.begin(), all.end(),
                     [](const entry& a, const entry& b) { return a.about.step < b.about.step; });
    return all;
  }();
  return sorted;
}

const entry* find(std::string_view key) {
  for (const entry& e : catalogue()) {
    if (key == std::to_string(e.about.step) + "." + std::string(e.about.id)) return &e;
  }
  return nullptr;
}

std::string json_quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  return out + "\"";
}

std::string json_members(const info& m) {
  return "\"step\": " + std::to_string(m.step) + ", \"id\": " + json_quoted(m.id) +
         ", \"name\": " + json_quoted(m.name) + ", \"why\": " + json_quoted(m.why) +
         ", \"hint\": " + std::to_string(m.hint);
}

}  // namespace attn::mistakes
