// Printing helpers shared by the docs' worked examples, so every page shows numbers the
// same way: 4 decimals, and inf, -inf and nan spelled out (printf's "-nan" says nothing
// useful about a NaN's sign bit to a reader).
#pragma once

#include <attn/attn.hpp>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>

namespace docs {

inline std::string num(double x, int decimals = 4) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, x);
  return text;
}

inline void print_row(const char* name, std::span<const float> row, int decimals = 4) {
  std::printf("%s = [", name);
  for (std::size_t j = 0; j < row.size(); ++j) std::printf("%s%s", j ? ", " : "", num(row[j], decimals).c_str());
  std::printf("]\n");
}

/// Like print_row, with `digits` significant digits: for weights spanning many magnitudes.
inline void print_row_sig(const char* name, std::span<const float> row, int digits = 4) {
  std::printf("%s = [", name);
  for (std::size_t j = 0; j < row.size(); ++j) std::printf("%s%.*g", j ? ", " : "", digits, row[j]);
  std::printf("]\n");
}

inline void print_matrix(const char* name, attn::const_matrix_view M, int decimals = 4) {
  std::printf("%s (%zu x %zu) =\n", name, M.rows, M.cols);
  for (std::size_t i = 0; i < M.rows; ++i) {
    std::printf("  [");
    for (std::size_t j = 0; j < M.cols; ++j) std::printf("%9s", num(M(i, j), decimals).c_str());
    std::printf(" ]\n");
  }
}

}  // namespace docs
