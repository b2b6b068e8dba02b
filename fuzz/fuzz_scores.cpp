// Fuzz target: the matrix types and steps 2-3 of the reference: views made from spans,
// attn::matrix, attn::ref::scores, causal_mask and apply_causal_mask, on every
// instruction set, with any shapes (mismatched, d = 0, storage too small, sizes whose
// product overflows) and any float bit patterns.
//
//   - a view made from a span, and a matrix, refuse exactly what the policy refuses
//     (storage smaller than rows x cols, or rows x cols overflowing), naming themselves;
//   - scores refuses exactly the bad shapes (Q.cols != K.cols, d = 0, S not n_q x n_k)
//     and otherwise writes S(i, j) = q_i . k_j / sqrt(d) within tol::scaled_score of the
//     oracle (NaN and infinities as check_dot_like explains);
//   - apply_causal_mask writes -inf at every j > i and leaves every other entry bit for
//     bit, for any shape; causal_mask(n) is the oracle's mask exactly (+0 and -inf).
//
// Input: [offset] [n_q] [n_k] [d: 2 bytes] [mode] [mode's bytes] [floats of Q, then K]
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

namespace {

using namespace attn::fuzz;
namespace oracle = attn::test::oracle;
namespace tol = attn::test::tol;

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();

bool area_overflows(std::size_t rows, std::size_t cols) { return cols != 0 && rows > kMax / cols; }

/// Views from spans and owning matrices of arbitrary (often absurd) shapes.
void check_construction(input& in) {
  const std::size_t rows = static_cast<std::size_t>(in.bytes(8)) >> (in.byte() % 64);
  const std::size_t cols = static_cast<std::size_t>(in.bytes(8)) >> (in.byte() % 64);
  std::vector<float> storage(in.byte() % 64);
  const bool too_small = area_overflows(rows, cols) || rows * cols > storage.size();
  const std::string shape = std::to_string(rows) + " x " + std::to_string(cols) + " over " +
                            std::to_string(storage.size()) + " floats";
  ATTN_FUZZ_REQUIRE(refuses([&] { attn::matrix_view(std::span<float>(storage), rows, cols); }, "matrix_view") == too_small,
          "matrix_view from a span: " + shape);
  ATTN_FUZZ_REQUIRE(refuses([&] { attn::const_matrix_view(std::span<const float>(storage), rows, cols); },
                  "const_matrix_view") == too_small,
          "const_matrix_view from a span: " + shape);
  if (area_overflows(rows, cols)) {
    ATTN_FUZZ_REQUIRE(refuses([&] { attn::matrix(rows, cols); }, "matrix"), "matrix accepted " + shape);
  } else if (rows * cols <= 4096) {
    const attn::matrix m(rows, cols, 1.5f);
    ATTN_FUZZ_REQUIRE(m.rows() == rows && m.cols() == cols && m.elements().size() == rows * cols, "matrix shape " + shape);
    for (const float v : m.elements()) ATTN_FUZZ_REQUIRE(v == 1.5f, "matrix fill " + shape);
  }
}

void check_mask(const std::string& where, std::span<const float> before, std::size_t rows, std::size_t cols,
                std::size_t offset) {
  placed S(before, offset, fences::allocation);
  attn::ref::apply_causal_mask({S.data(), rows, cols});
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      const float after = S.data()[i * cols + j];
      const bool ok = j > i ? after == -inf
                            : std::bit_cast<std::uint32_t>(after) == std::bit_cast<std::uint32_t>(before[i * cols + j]);
      ATTN_FUZZ_REQUIRE(ok, where + ": apply_causal_mask on " + std::to_string(rows) + " x " + std::to_string(cols) +
                      " left (" + std::to_string(i) + ", " + std::to_string(j) + ") = " + show(after));
    }
  }
  ATTN_FUZZ_REQUIRE(S.fences_intact(), where + ": apply_causal_mask wrote before S");
}

void check_causal_mask(std::size_t n) {
  const attn::matrix mask = attn::ref::causal_mask(n);
  ATTN_FUZZ_REQUIRE(mask.rows() == n && mask.cols() == n, "causal_mask(" + std::to_string(n) + ") has the wrong shape");
  const std::vector<double> expected = oracle::causal_mask(n);
  for (std::size_t k = 0; k < n * n; ++k) {
    const float v = mask.elements()[k];
    ATTN_FUZZ_REQUIRE(static_cast<double>(v) == expected[k] && !(v == 0.0f && std::signbit(v)),
            "causal_mask(" + std::to_string(n) + ") element " + std::to_string(k) + " is " + show(v));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const std::size_t offset = in.byte() % 4;
  const std::size_t n_q = in.byte() % 9, n_k = in.byte() % 9;
  const std::size_t d = in.size_in(0, 260);
  std::size_t d_k = d, s_rows = n_q, s_cols = n_k, q_storage = n_q * d, s_storage = n_q * n_k;
  switch (in.byte() % 16) {
    case 0: d_k = in.size_in(0, 260); break;
    case 1: s_rows = in.byte() % 9; break;
    case 2: s_cols = in.byte() % 9; break;
    case 3: q_storage -= std::min<std::size_t>(q_storage, in.byte() % 4); break;
    case 4: s_storage -= std::min<std::size_t>(s_storage, in.byte() % 4); break;
    case 5: check_construction(in); return 0;
    case 6: check_causal_mask(in.size_in(0, 300)); return 0;
    default: break;
  }
  const std::vector<float> Q = in.values(n_q * d), K = in.values(n_k * d_k);

  // Views from spans check their storage when made.
  const std::span<const float> q_span(Q.data(), q_storage);
  const bool q_short = q_storage < n_q * d;
  ATTN_FUZZ_REQUIRE(refuses([&] { attn::const_matrix_view(q_span, n_q, d); }, "const_matrix_view") == q_short,
          "const_matrix_view over " + std::to_string(q_storage) + " floats as " + std::to_string(n_q) + " x " +
              std::to_string(d));
  std::vector<float> s_buffer(s_storage, qnan);
  const bool s_short = s_storage < s_rows * s_cols;
  ATTN_FUZZ_REQUIRE(refuses([&] { attn::matrix_view(std::span<float>(s_buffer), s_rows, s_cols); }, "matrix_view") == s_short,
          "matrix_view over " + std::to_string(s_storage) + " floats as " + std::to_string(s_rows) + " x " +
              std::to_string(s_cols));
  if (q_short || s_short) return 0;

  const attn::const_matrix_view Qv(q_span, n_q, d), Kv(std::span<const float>(K), n_k, d_k);
  const bool bad_shape = d != d_k || d == 0 || s_rows != n_q || s_cols != n_k;
  const std::vector<double> expected = bad_shape ? std::vector<double>{} : oracle::scores(Q, K, n_q, n_k, d);
  on_every_isa([&](const std::string& isa) {
    const std::string where = "isa " + isa + ", Q " + std::to_string(n_q) + " x " + std::to_string(d) + ", K " +
                              std::to_string(n_k) + " x " + std::to_string(d_k) + ", S " + std::to_string(s_rows) +
                              " x " + std::to_string(s_cols);
    placed S(s_rows * s_cols, qnan, offset, fences::allocation);
    const bool refused = refuses([&] { attn::ref::scores(Qv, Kv, {S.data(), s_rows, s_cols}); }, "attn::ref::scores");
    ATTN_FUZZ_REQUIRE(refused == bad_shape, where + (bad_shape ? ": scores accepted a bad shape" : ": scores refused"));
    ATTN_FUZZ_REQUIRE(S.fences_intact(), where + ": scores wrote before S");
    if (bad_shape) return;
    for (std::size_t i = 0; i < n_q; ++i) {
      for (std::size_t j = 0; j < n_k; ++j) {
        const std::span<const float> q = Qv.row(i), k = Kv.row(j);
        const product_scale scale = products(q, k);
        check_dot_like([&] { return where + ": S(" + std::to_string(i) + ", " + std::to_string(j) + ")"; },
                       expected[i * n_k + j],
                       S.data()[i * n_k + j], tol::scaled_score(d, scale.finite_abs_sum, 1), d, scale);
      }
    }
    // The mask on these scores, and on Q read as an n_q x d score matrix (any shape).
    check_mask(where, S.span(), n_q, n_k, offset);
    check_mask(where, Q, n_q, d, offset);
  });
  return 0;
}
