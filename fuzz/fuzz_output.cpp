// Fuzz target: the attention output, steps 7 and 9: attn::ref::attention_output, attention
// and streaming_attention (any block size) on every instruction set, with any shapes.
//
// For queries, keys and values whose products cannot overflow, every output is checked
// against the exact O = softmax(Q K^T / sqrt(d) + Mask) V (the double oracle's weights, the
// product in long double) within the bound of tests/support/tolerances.hpp that the
// reference's own tests use: tol::streaming_attention_row for the weights (the scores'
// error taken over the keys the query sees) and tol::attention_output for the weighted sum.
// attention_output(A, V) alone is checked against the exact product A V within tol::dot.
//
// Masked keys: under the causal mask, query i depends on the keys and values 0..i only. So
// the problem is solved again with `extra` more keys and values full of fuzzed bit patterns
// (NaN, infinities, anything) appended, and with as many more queries: the first rows of
// that output must still be within the bound of the exact output of the problem without
// them. A kernel that reads a masked key's row, or lets it into the row's softmax, fails.
//
// Input: [n_q: size] [n_k: size] [d: size] [d_v: size] [flags: causal, block] [extra]
//        [floats: Q, K, V, then the extra rows]
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
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
  std::size_t nq, nk, d, dv;
  bool causal;
  std::vector<float> Q, K, V;
};

/// The exact output and its bound, or nothing to check (`checked` false) when an input is
/// not finite or too large for the bound to be finite.
struct expected_output {
  bool checked = false;
  std::vector<double> A, O, bound;
};

bool moderate(const std::vector<float>& x) {
  // |x| <= 2^12: no product or sum can overflow, and the scores' rounding errors (at most
  // about gamma_{d+3} 2^24 d / sqrt(d)) stay small enough for exp(2 E) in the weights' bound
  // to be finite.
  return std::all_of(x.begin(), x.end(), [](float v) { return std::fabs(v) <= 0x1p12f; });
}

expected_output exact(const problem& p) {
  expected_output e;
  if (!moderate(p.Q) || !moderate(p.K) || !moderate(p.V)) return e;
  e.checked = true;
  e.A = oracle::attention_weights(p.Q, p.K, p.nq, p.nk, p.d, p.causal);
  const std::vector<double> S = oracle::scores(p.Q, p.K, p.nq, p.nk, p.d);
  e.O.assign(p.nq * p.dv, 0.0);
  e.bound.assign(p.nq * p.dv, 0.0);
  for (std::size_t i = 0; i < p.nq; ++i) {
    std::vector<float> beta(p.nk), a(p.nk);
    for (std::size_t j = 0; j < p.nk; ++j) {
      beta[j] = p.causal && j > i ? -inf : static_cast<float>(S[i * p.nk + j]);
      a[j] = static_cast<float>(e.A[i * p.nk + j]);
    }
    // A masked key's score never reaches the weights (tol::visible_score_error).
    const double score_error = tol::visible_score_error({p.Q.data() + i * p.d, p.d}, {p.K.data(), p.nk, p.d},
                                                        tol::visible_keys(i, p.nk, p.causal), 1);
    const std::vector<double> wb = tol::streaming_attention_row(beta, a, score_error, 1);
    for (std::size_t c = 0; c < p.dv; ++c) {
      std::vector<float> column(p.nk);
      long double o = 0.0L;
      for (std::size_t j = 0; j < p.nk; ++j) {
        column[j] = p.V[j * p.dv + c];
        if (!(p.causal && j > i)) o += static_cast<long double>(e.A[i * p.nk + j]) * p.V[j * p.dv + c];
      }
      e.O[i * p.dv + c] = static_cast<double>(o);
      e.bound[i * p.dv + c] = tol::attention_output(wb, a, column, 1);
    }
  }
  // Where the analysis gives no finite bound (scores so large that their rounding alone may
  // move the weights arbitrarily), there is nothing to check.
  e.checked = std::all_of(e.bound.begin(), e.bound.end(), [](double b) { return std::isfinite(b); });
  return e;
}

/// Runs attention (block 0) or streaming_attention (block >= 1) on `p` into a fenced O.
std::vector<float> run(const problem& p, std::size_t block, const std::string& where) {
  const std::size_t size = p.nq * p.dv;
  placed O(size, -7.0f, 3, fences::allocation);
  const attn::const_matrix_view Q{p.Q.data(), p.nq, p.d}, K{p.K.data(), p.nk, p.d}, V{p.V.data(), p.nk, p.dv};
  if (block == 0) {
    attn::ref::attention(Q, K, V, {O.data(), p.nq, p.dv}, p.causal);
  } else {
    attn::ref::streaming_attention(Q, K, V, {O.data(), p.nq, p.dv}, p.causal, block);
  }
  ATTN_FUZZ_REQUIRE(O.fences_intact(), where + ": wrote before O");
  return {O.data(), O.data() + size};
}

void compare(const std::string& where, const expected_output& e, const std::vector<float>& O, std::size_t rows,
             std::size_t dv) {
  for (std::size_t k = 0; k < rows * dv; ++k) {
    ATTN_FUZZ_REQUIRE(close(e.O[k], O[k], e.bound[k]),
                      where + ": O(" + std::to_string(k / dv) + ", " + std::to_string(k % dv) + ") is " + show(O[k]) +
                          ", expected " + show(e.O[k]) + ", bound " + show(e.bound[k]));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  problem p;
  p.nq = in.size_in(0, 80);
  p.nk = in.size_in(0, 80);
  p.d = in.size_in(1, 40);
  p.dv = in.size_in(1, 40);
  const std::uint8_t flags = in.byte();
  p.causal = (flags & 1u) != 0;
  if (p.causal) p.nk = p.nq;  // the course's causal mask is square here: query i sees keys 0..i
  const std::size_t block = (flags >> 1) % (p.nk + 2);  // 0: the two-pass attention()
  const std::size_t extra = in.byte() % 9;
  p.Q = in.values(p.nq * p.d);
  p.K = in.values(p.nk * p.d);
  p.V = in.values(p.nk * p.dv);
  const expected_output e = exact(p);

  // With masked garbage: `extra` more queries, keys and values, causal only.
  problem big = p;
  if (p.causal && extra > 0) {
    big.nq += extra;
    big.nk += extra;
    const std::vector<float> q = in.values(extra * p.d), k = in.values(extra * p.d), v = in.values(extra * p.dv);
    big.Q.insert(big.Q.end(), q.begin(), q.end());
    big.K.insert(big.K.end(), k.begin(), k.end());
    big.V.insert(big.V.end(), v.begin(), v.end());
  }

  on_every_isa([&](const std::string& isa) {
    const std::string shape = std::to_string(p.nq) + " x " + std::to_string(p.nk) + ", d = " + std::to_string(p.d) +
                              ", d_v = " + std::to_string(p.dv) + (p.causal ? ", causal" : "");
    const std::string how = block == 0 ? "attention" : "streaming_attention, block " + std::to_string(block);
    const std::string where = "isa " + isa + ", " + how + " of " + shape;
    const std::vector<float> O = run(p, block, where);
    if (e.checked) compare(where, e, O, p.nq, p.dv);
    if (big.nq > p.nq) {
      const std::vector<float> O_big = run(big, block, where + " with " + std::to_string(extra) + " masked keys");
      if (e.checked) {
        compare(where + ", the first " + std::to_string(p.nq) + " queries with " + std::to_string(extra) +
                    " more keys they cannot see (fuzzed values)",
                e, O_big, p.nq, p.dv);
      }
    }
    // attention_output alone: the oracle's weights rounded to float, times V.
    if (e.checked) {
      std::vector<float> A(e.A.begin(), e.A.end());
      placed O2(p.nq * p.dv, -7.0f, 1, fences::allocation);
      attn::ref::attention_output({A.data(), p.nq, p.nk}, {p.V.data(), p.nk, p.dv}, {O2.data(), p.nq, p.dv});
      ATTN_FUZZ_REQUIRE(O2.fences_intact(), "isa " + isa + ": attention_output wrote before O");
      for (std::size_t i = 0; i < p.nq; ++i) {
        for (std::size_t c = 0; c < p.dv; ++c) {
          long double o = 0.0L;
          double sum_abs = 0.0;
          for (std::size_t j = 0; j < p.nk; ++j) {
            o += static_cast<long double>(A[i * p.nk + j]) * p.V[j * p.dv + c];
            sum_abs += std::fabs(static_cast<double>(A[i * p.nk + j]) * p.V[j * p.dv + c]);
          }
          const double bound = tol::dot(p.nk, sum_abs, 1);
          const float got = O2.data()[i * p.dv + c];
          ATTN_FUZZ_REQUIRE(close(static_cast<double>(o), got, bound),
                            "isa " + isa + ": attention_output of " + shape + ": O(" + std::to_string(i) + ", " +
                                std::to_string(c) + ") is " + show(got) + ", expected " +
                                show(static_cast<double>(o)) + ", bound " + show(bound));
        }
      }
    }
  });
  return 0;
}
