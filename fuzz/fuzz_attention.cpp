// Fuzz target: attn::ref::attention_weights (step 5), the whole pipeline, on every
// instruction set, causal or not, with any shapes and any float bit patterns.
//
//   - bad shapes (Q.cols != K.cols, d = 0, A not n_q x n_k) are refused, naming the function;
//   - A is exactly what the documented composition gives: scores, then the mask, then
//     softmax_rows (fuzz_softmax checks that softmax against the oracle for any row);
//   - against the oracle, row by row: NaN in the oracle's row needs NaN in A's. Where no
//     score of the row can overflow in float (see may_overflow), A's row is the oracle's:
//     the special rows exactly (all -inf: zeros; +inf: shared), masked and -inf
//     positions exactly 0, the rest within tol::attention_row. Where a score may
//     overflow, float and double legitimately differ, and the row must still be all NaN
//     or weights in [0, 1] with the masked ones 0.
//
// Input: [offset] [n_q] [n_k] [d] [causal] [mode] [mode's byte] [floats of Q, then K]
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
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

struct problem {
  std::vector<float> Q, K;
  std::size_t n_q, n_k, d;
  bool causal;
};

void check_row(const std::string& where, const problem& p, std::size_t i, const std::vector<double>& expected,
               const std::vector<double>& S, std::span<const float> a) {
  const std::size_t n_k = p.n_k, d = p.d;
  const auto masked = [&](std::size_t j) { return p.causal && j > i; };
  const std::span<const float> q(p.Q.data() + i * d, d);
  bool safe = true, nan_row = false;
  for (std::size_t j = 0; j < n_k; ++j) {
    nan_row = nan_row || std::isnan(expected[i * n_k + j]);
    if (masked(j)) continue;
    safe = safe && !may_overflow(d, products(q, std::span<const float>(p.K.data() + j * d, d)).finite_abs_sum);
  }
  // Keys with a non-finite score (an infinite or NaN factor) do not count, nor masked ones.
  const double score_error =
      tol::visible_score_error(q, {p.K.data(), n_k, d}, tol::visible_keys(i, n_k, p.causal), 1);
  const std::string row = where + ", row " + std::to_string(i);
  const bool actual_nan = std::any_of(a.begin(), a.end(), [](float v) { return std::isnan(v); });
  if (nan_row) ATTN_FUZZ_REQUIRE(actual_nan, row + ": the oracle's row is NaN but A's is not");
  for (std::size_t j = 0; j < n_k; ++j) {
    const auto at = [&] {
      return row + ", column " + std::to_string(j) + ": A = " + show(a[j]) + ", oracle " + show(expected[i * n_k + j]);
    };
    if (actual_nan) {
      ATTN_FUZZ_REQUIRE(std::isnan(a[j]), at() + " (a NaN row must be NaN throughout)");
    } else {
      ATTN_FUZZ_REQUIRE(a[j] >= 0.0f && a[j] <= 1.0f, at() + " (a weight outside [0, 1])");
      if (masked(j)) ATTN_FUZZ_REQUIRE(a[j] == 0.0f, at() + " (masked: weight exactly 0)");
    }
  }
  if (!safe || nan_row) return;
  // No score of this row can overflow: its kinds (finite, +-inf) are the oracle's.
  std::vector<float> beta(n_k), weights(n_k);
  double m = -oracle::inf;
  for (std::size_t j = 0; j < n_k; ++j) {
    const double s = masked(j) ? -oracle::inf : S[i * n_k + j];
    beta[j] = static_cast<float>(s);
    weights[j] = static_cast<float>(expected[i * n_k + j]);
    m = std::max(m, s);
  }
  // Scores uncertain by E change the weights by up to a factor exp(2E) (tol::attention_row);
  // when that factor is infinite the analysis bounds nothing (0 * inf), so only the exact
  // parts of the policy below and the range check above apply.
  const bool bounded = std::isfinite(std::expm1(2.0 * score_error));
  const std::vector<double> bound =
      tol::attention_row(beta, weights, score_error, 1, std::span<const double>(expected.data() + i * n_k, n_k));
  for (std::size_t j = 0; j < n_k; ++j) {
    const double e = expected[i * n_k + j];
    const auto at = [&] {
      return row + ", column " + std::to_string(j) + " (score " + show(beta[j]) + "): A = " + show(a[j]) +
             ", oracle " + show(e);
    };
    if (m == -oracle::inf) {
      ATTN_FUZZ_REQUIRE(a[j] == 0.0f, at() + " (nothing to attend to: all-zero weights)");
    } else if (m == oracle::inf) {
      ATTN_FUZZ_REQUIRE(a[j] == weights[j], at() + " (+inf scores share the weight equally)");
    } else if (beta[j] == -inf) {
      ATTN_FUZZ_REQUIRE(a[j] == 0.0f, at() + " (-inf or masked: weight exactly 0)");
    } else if (bounded) {
      ATTN_FUZZ_REQUIRE(close(e, a[j], bound[j]), at() + ", bound " + show(bound[j]));
    }
  }
}

void check(const problem& p, std::size_t offset) {
  const std::size_t n_q = p.n_q, n_k = p.n_k, d = p.d;
  const attn::const_matrix_view Q(p.Q.data(), n_q, d), K(p.K.data(), n_k, d);
  const std::vector<double> expected = oracle::attention_weights(p.Q, p.K, n_q, n_k, d, p.causal);
  const std::vector<double> S = oracle::scores(p.Q, p.K, n_q, n_k, d);
  on_every_isa([&](const std::string& isa) {
    const std::string where = "isa " + isa + ", Q " + std::to_string(n_q) + " x " + std::to_string(d) + ", K " +
                              std::to_string(n_k) + " x " + std::to_string(d) + (p.causal ? ", causal" : "");
    placed A(n_q * n_k, qnan, offset, fences::allocation);
    attn::ref::attention_weights(Q, K, {A.data(), n_q, n_k}, p.causal);
    ATTN_FUZZ_REQUIRE(A.fences_intact(), where + ": attention_weights wrote before A");
    placed B(n_q * n_k, qnan, offset, fences::allocation);
    const attn::matrix_view Bv(B.data(), n_q, n_k);
    attn::ref::scores(Q, K, Bv);
    if (p.causal) attn::ref::apply_causal_mask(Bv);
    attn::ref::softmax_rows(Bv);
    for (std::size_t e = 0; e < n_q * n_k; ++e) {
      ATTN_FUZZ_REQUIRE(same(A.data()[e], B.data()[e]), where + ": attention_weights differs from scores + mask + "
                                                      "softmax_rows at element " + std::to_string(e));
    }
    for (std::size_t i = 0; i < n_q; ++i) {
      check_row(where, p, i, expected, S, std::span<const float>(A.data() + i * n_k, n_k));
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const std::size_t offset = in.byte() % 4;
  problem p;
  p.n_q = in.byte() % 13;
  p.n_k = in.byte() % 13;
  p.d = in.byte() % 65;
  p.causal = in.flag();
  std::size_t d_k = p.d, a_rows = p.n_q, a_cols = p.n_k;
  switch (in.byte() % 16) {
    case 0: d_k = in.byte() % 65; break;
    case 1: a_rows = in.byte() % 13; break;
    case 2: a_cols = in.byte() % 13; break;
    default: break;
  }
  p.Q = in.values(p.n_q * p.d);
  p.K = in.values(p.n_k * d_k);
  if (d_k != p.d || p.d == 0 || a_rows != p.n_q || a_cols != p.n_k) {
    std::vector<float> A(a_rows * a_cols, qnan);
    on_every_isa([&](const std::string& isa) {
      ATTN_FUZZ_REQUIRE(refuses([&] {
                attn::ref::attention_weights({p.Q.data(), p.n_q, p.d}, {p.K.data(), p.n_k, d_k},
                                             {A.data(), a_rows, a_cols}, p.causal);
              }, "attn::ref::attention_weights"),
              "isa " + isa + ": attention_weights accepted Q " + std::to_string(p.n_q) + " x " + std::to_string(p.d) +
                  ", K " + std::to_string(p.n_k) + " x " + std::to_string(d_k) + ", A " + std::to_string(a_rows) +
                  " x " + std::to_string(a_cols));
    });
    return 0;
  }
  check(p, offset);
  return 0;
}
