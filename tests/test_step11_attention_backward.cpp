// Step 11 (extension): the attention backward pass, dV = A^T dO, dS = softmax_backward(A, dO V^T),
// dQ = dS K / sqrt(d), dK = dS^T Q / sqrt(d). Checked against the exact oracle (long double
// sums from the double weights: oracle::attention_backward in support/oracle.hpp), against
// central differences of a forward pass in double written here, and on the mask and the
// special values. Tolerances from
// tolerances.hpp (tol::attention_backward, tol::central_difference_of).
#include <attn/attn.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "support/attention.hpp"
#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

namespace {

namespace tol = attn::test::tol;
using attn::test::inputs;
using attn::test::shape;
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

/// The exact gradients (oracle::attention_backward) and the weights they come from, rounded to
/// float for the bounds.
struct exact_gradients {
  std::vector<double> dQ, dK, dV;
  attn::matrix A;
};

exact_gradients oracle_backward(attn::const_matrix_view Q, attn::const_matrix_view K, attn::const_matrix_view V,
                                attn::const_matrix_view dO, bool causal) {
  attn::test::oracle::gradients g = attn::test::oracle::attention_backward(Q, K, V, dO, causal);
  exact_gradients e{std::move(g.dQ), std::move(g.dK), std::move(g.dV), attn::matrix(Q.rows, K.rows)};
  for (std::size_t k = 0; k < g.A.size(); ++k) e.A.view().data[k] = static_cast<float>(g.A[k]);
  return e;
}

/// The three outputs, full of NaN and fenced, so that an element left unwritten or a write
/// outside a view shows.
struct outputs {
  attn::test::guarded_matrix dQ, dK, dV;
  outputs(std::size_t nq, std::size_t nk, std::size_t d, std::size_t dv)
      : dQ(nq, d, qnan), dK(nk, d, qnan), dV(nk, dv, qnan) {}
  bool intact() const { return dQ.intact() && dK.intact() && dV.intact(); }
};

/// attn::attention_backward into fresh outputs.
outputs backward(attn::const_matrix_view Q, attn::const_matrix_view K, attn::const_matrix_view V,
                 attn::const_matrix_view dO, bool causal) {
  outputs out(Q.rows, K.rows, Q.cols, V.cols);
  attn::attention_backward(Q, K, V, dO, causal, out.dQ.view(), out.dK.view(), out.dV.view());
  return out;
}

/// The three gradients against the oracle, each element within tol::attention_backward (one
/// implementation against the exact values), and nothing written outside them.
void check_against_oracle(const std::string& what, const attn::matrix& Q, const attn::matrix& K, const attn::matrix& V,
                          const attn::matrix& dO, bool causal) {
  const exact_gradients e = oracle_backward(Q, K, V, dO, causal);
  const tol::attention_gradients b = tol::attention_backward(Q, K, V, dO, e.A, causal, 1);
  const outputs got = backward(Q, K, V, dO, causal);
  const auto in = [&] { return inputs().add("Q", Q).add("K", K).add("V", V).add("dO", dO); };
  ATTN_CHECK_ALL_CLOSE(what + ": dQ", e.dQ, got.dQ.view(), b.dQ, in());
  ATTN_CHECK_ALL_CLOSE(what + ": dK", e.dK, got.dK.view(), b.dK, in());
  ATTN_CHECK_ALL_CLOSE(what + ": dV", e.dV, got.dV.view(), b.dV, in());
  INFO(what << ": nothing outside dQ, dK and dV may be written");
  CHECK(got.intact());
}

std::string name(bool causal, const attn::matrix& Q, const attn::matrix& K, const attn::matrix& V) {
  return std::string(causal ? "causal " : "") + "attention_backward, Q " + shape(Q.rows(), Q.cols()) + ", K " +
         shape(K.rows(), K.cols()) + ", V " + shape(V.rows(), V.cols());
}

/// One attention problem in double, so that an input entry can move by less than a float step.
struct wide_problem {
  std::size_t nq, nk, d, dv;
  std::vector<double> Q, K, V, dO;
  wide_problem(const attn::matrix& Qf, const attn::matrix& Kf, const attn::matrix& Vf, const attn::matrix& dOf)
      : nq(Qf.rows()), nk(Kf.rows()), d(Qf.cols()), dv(Vf.cols()),
        Q(Qf.view().data, Qf.view().data + nq * d), K(Kf.view().data, Kf.view().data + nk * d),
        V(Vf.view().data, Vf.view().data + nk * dv), dO(dOf.view().data, dOf.view().data + nq * dv) {}
};

/// L = <dO, attention(Q, K, V)>, the forward pass in double (scores, the max-shifted softmax
/// over the visible keys, O = A V), and the bound of its rounding, tol::attention_loss summed
/// over the queries.
double loss(const wide_problem& p, bool causal, double* error = nullptr) {
  double L = 0.0;
  if (error) *error = 0.0;
  std::vector<double> s(p.nk), G(p.nk);
  for (std::size_t i = 0; i < p.nq; ++i) {
    const std::size_t n = causal ? std::min(p.nk, i + 1) : p.nk;
    double m = -INFINITY, sigma = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      double dot = 0.0, abs = 0.0;
      for (std::size_t t = 0; t < p.d; ++t) {
        dot += p.Q[i * p.d + t] * p.K[j * p.d + t];
        abs += std::fabs(p.Q[i * p.d + t] * p.K[j * p.d + t]);
      }
      s[j] = dot / std::sqrt(static_cast<double>(p.d));
      sigma = std::max(sigma, abs / std::sqrt(static_cast<double>(p.d)));
      m = std::max(m, s[j]);
    }
    double sum = 0.0;
    for (std::size_t j = 0; j < n; ++j) sum += std::exp(s[j] - m);
    double weighted = 0.0;
    for (std::size_t c = 0; c < p.dv; ++c) {
      double o = 0.0;
      for (std::size_t j = 0; j < n; ++j) o += std::exp(s[j] - m) / sum * p.V[j * p.dv + c];
      L += p.dO[i * p.dv + c] * o;
    }
    if (error) {
      for (std::size_t j = 0; j < n; ++j) {
        double g = 0.0;
        for (std::size_t c = 0; c < p.dv; ++c) g += std::fabs(p.dO[i * p.dv + c] * p.V[j * p.dv + c]);
        weighted += std::exp(s[j] - m) / sum * g;
      }
      *error += tol::attention_loss(sigma, weighted, p.nk, p.d, p.dv, p.nq);
    }
  }
  return L;
}

/// max - min of `x`.
double range(const std::vector<double>& x) {
  return x.empty() ? 0.0 : *std::max_element(x.begin(), x.end()) - *std::min_element(x.begin(), x.end());
}

}  // namespace

TEST_CASE("the stub's worked example: Q = [0], K = [1, -1], V = [1, 3], dO = [1] gives dQ = -1, dK = 0, "
          "dV = [0.5, 0.5]",
          "[step11][card]") {
  // Scores 0 and 0: A = [1/2, 1/2], dA = dO V^T = [1, 3], <dA, A> = 2, dS = [-1/2, 1/2];
  // dQ = dS K = -1, dK = dS^T Q = 0 (the query is 0), dV = A^T dO = [1/2, 1/2]. All exact.
  const attn::matrix Q{{0.0f}}, K{{1.0f}, {-1.0f}}, V{{1.0f}, {3.0f}}, dO{{1.0f}};
  const outputs got = backward(Q, K, V, dO, false);
  const exact_gradients e = oracle_backward(Q, K, V, dO, false);
  const tol::attention_gradients b = tol::attention_backward(Q, K, V, dO, e.A, false, 1);
  const auto in = inputs().add("Q", Q).add("K", K).add("V", V).add("dO", dO);
  ATTN_CHECK_ALL_CLOSE("dQ of the worked example (the number the stub quotes)", std::vector<double>{-1.0}, got.dQ.view(), b.dQ, in);
  ATTN_CHECK_ALL_CLOSE("dK of the worked example", (std::initializer_list<double>{0.0, 0.0}), got.dK.view(), b.dK, in);
  ATTN_CHECK_ALL_CLOSE("dV of the worked example (the numbers the stub quotes)",
                       (std::initializer_list<double>{0.5, 0.5}), got.dV.view(), b.dV, in);
  // The same keys and values under the causal mask: the query sees key 0 only, so A = [1]:
  // nothing to trade weight with, dS = 0, and all of dO goes to v_0.
  const outputs causal = backward(Q, K, V, dO, true);
  ATTN_CHECK_ALL_CLOSE("dQ of the worked example, causal (one visible key: no gradient)", std::vector<double>{0.0}, causal.dQ.view(), 0.0,
                       in);
  ATTN_CHECK_ALL_CLOSE("dV of the worked example, causal", (std::initializer_list<double>{1.0, 0.0}), causal.dV.view(),
                       0.0, in);
}

TEST_CASE("the card's three tokens: zero scores under the causal mask pass dO to the values seen so far",
          "[step11][card]") {
  // The card of step 7: Q = 0 makes every score 0, so query i spreads weight 1/(i + 1) over keys
  // 0..i, and dV_j = sum_{i >= j} dO_i / (i + 1): with dO = [1, 1, 1], dV = [1 + 1/2 + 1/3,
  // 1/2 + 1/3, 1/3]. dK = dS^T Q = 0 since Q = 0.
  const attn::matrix Q(3, 4, 0.0f);
  const attn::matrix K{{1, 2, 3, 4}, {-1, 0, 1, 0}, {5, 5, 5, 5}};
  const attn::matrix V{{1.0f}, {2.0f}, {3.0f}}, dO{{1.0f}, {1.0f}, {1.0f}};
  const outputs got = backward(Q, K, V, dO, true);
  const exact_gradients e = oracle_backward(Q, K, V, dO, true);
  const tol::attention_gradients b = tol::attention_backward(Q, K, V, dO, e.A, true, 1);
  ATTN_CHECK_ALL_CLOSE("dV for the card's causal zero scores",
                       (std::initializer_list<double>{1.0 + 1.0 / 2 + 1.0 / 3, 1.0 / 2 + 1.0 / 3, 1.0 / 3}),
                       got.dV.view(), b.dV, inputs().add("K", K).add("V", V));
  ATTN_CHECK_ALL_CLOSE("dK for Q = 0", std::vector<double>(12, 0.0), got.dK.view(), b.dK, inputs().add("K", K));
  check_against_oracle("causal attention_backward, the card's Q = 0", Q, K, V, dO, true);
}

TEST_CASE("the gradients match the exact oracle, causal or not, for n_q != n_k and d_v != d", "[step11][property]") {
  auto gen = attn::test::rng(1101);
  const std::size_t shapes[][4] = {{1, 1, 1, 1}, {2, 3, 4, 5},  {3, 2, 5, 1},  {5, 5, 8, 3},   {4, 9, 16, 7},
                                   {9, 4, 3, 16}, {17, 17, 32, 9}, {8, 33, 17, 33}, {33, 8, 64, 2}, {31, 31, 5, 64}};
  for (const bool causal : {false, true}) {
    for (const auto& [nq, nk, d, dv] : shapes) {
      const attn::matrix Q = attn::test::gaussian_matrix(gen, nq, d), K = attn::test::gaussian_matrix(gen, nk, d);
      const attn::matrix V = attn::test::uniform_matrix(gen, nk, dv, -3.0f, 3.0f);
      const attn::matrix dO = attn::test::uniform_matrix(gen, nq, dv, -2.0f, 2.0f);
      check_against_oracle(name(causal, Q, K, V), Q, K, V, dO, causal);
    }
  }
}

TEST_CASE("the gradients match the exact oracle at the sizes of a training run (n = 16..128, d = 16..64)",
          "[step11][property]") {
  auto gen = attn::test::rng(1102);
  for (const bool causal : {true, false}) {
    for (const std::size_t n : {16u, 47u, 128u}) {
      for (const std::size_t d : {16u, 64u}) {
        const attn::matrix Q = attn::test::gaussian_matrix(gen, n, d), K = attn::test::gaussian_matrix(gen, n, d);
        const attn::matrix V = attn::test::gaussian_matrix(gen, n, d), dO = attn::test::gaussian_matrix(gen, n, d);
        check_against_oracle(name(causal, Q, K, V), Q, K, V, dO, causal);
      }
    }
  }
}

TEST_CASE("the gradients match central differences of L = <dO, attention(Q, K, V)> in double", "[step11][property]") {
  // Each entry x of Q, K and V moves by +-h in a double forward pass. The float gradient is
  // within tol::attention_backward of the exact one, and the difference quotient within
  // tol::central_difference_of of it, with the derivatives bounded from the ranges of
  // g_ij = <dO_i, v_j> and of the rates at which x moves the scores (tol::softmax_mean_*).
  auto gen = attn::test::rng(1103);
  const double h = 0x1p-16;
  const std::size_t shapes[][4] = {{3, 4, 2, 3}, {4, 3, 3, 2}, {5, 5, 4, 1}};
  for (const bool causal : {false, true}) {
    for (const auto& size : shapes) {
      const std::size_t nq = size[0], nk = size[1], d = size[2], dv = size[3];  // named: the lambdas capture them
      const attn::matrix Q = attn::test::gaussian_matrix(gen, nq, d), K = attn::test::gaussian_matrix(gen, nk, d);
      const attn::matrix V = attn::test::uniform_matrix(gen, nk, dv, -2.0f, 2.0f);
      const attn::matrix dO = attn::test::uniform_matrix(gen, nq, dv, -1.0f, 1.0f);
      const exact_gradients e = oracle_backward(Q, K, V, dO, causal);
      const tol::attention_gradients b = tol::attention_backward(Q, K, V, dO, e.A, causal, 1);
      const outputs got = backward(Q, K, V, dO, causal);
      const wide_problem p(Q, K, V, dO);
      double loss_error = 0.0;
      loss(p, causal, &loss_error);
      const auto visible = [&](std::size_t i) { return causal ? std::min(nk, i + 1) : nk; };
      std::vector<double> range_g(nq);
      for (std::size_t i = 0; i < nq; ++i) {
        std::vector<double> g;
        for (std::size_t j = 0; j < visible(i); ++j) {
          double s = 0.0;
          for (std::size_t c = 0; c < dv; ++c) s += static_cast<double>(dO(i, c)) * V(j, c);
          g.push_back(s);
        }
        range_g[i] = range(g);
      }
      const double root = std::sqrt(static_cast<double>(d));
      // (L(x + h) - L(x - h)) / 2h for the entry `at` of one of p's matrices.
      const auto quotient = [&](std::vector<double> wide_problem::*which, std::size_t at) {
        wide_problem up = p, down = p;
        (up.*which)[at] += h;
        (down.*which)[at] -= h;
        return (loss(up, causal) - loss(down, causal)) / (2 * h);
      };
      std::vector<double> fdQ, fdK, fdV, bQ, bK, bV;
      for (std::size_t i = 0; i < nq; ++i) {
        for (std::size_t t = 0; t < d; ++t) {  // q_it moves query i's scores at the rates k_jt / sqrt(d)
          std::vector<double> w;
          for (std::size_t j = 0; j < visible(i); ++j) w.push_back(K(j, t) / root);
          fdQ.push_back(quotient(&wide_problem::Q, i * d + t));
          bQ.push_back(b.dQ[i * d + t] + tol::central_difference_of(h, tol::softmax_mean_third_derivative(range_g[i], range(w)),
                                                                     tol::softmax_mean_first_derivative(range_g[i], range(w)),
                                                                     Q(i, t), loss_error));
        }
      }
      for (std::size_t j = 0; j < nk; ++j) {
        for (std::size_t t = 0; t < d; ++t) {  // k_jt moves score j of every query that sees it, at q_it / sqrt(d)
          double third = 0.0, first = 0.0;
          for (std::size_t i = 0; i < nq; ++i) {
            if (j >= visible(i) || visible(i) < 2) continue;  // one visible key: its weight is 1 whatever the score
            const double w = std::fabs(static_cast<double>(Q(i, t))) / root;
            third += tol::softmax_mean_third_derivative(range_g[i], w);
            first += tol::softmax_mean_first_derivative(range_g[i], w);
          }
          fdK.push_back(quotient(&wide_problem::K, j * d + t));
          bK.push_back(b.dK[j * d + t] + tol::central_difference_of(h, third, first, K(j, t), loss_error));
        }
        for (std::size_t c = 0; c < dv; ++c) {  // L is linear in V: no truncation, |dL/dV_jc| <= sum_i |dO_ic|
          double first = 0.0;
          for (std::size_t i = 0; i < nq; ++i) first += std::fabs(static_cast<double>(dO(i, c)));
          fdV.push_back(quotient(&wide_problem::V, j * dv + c));
          bV.push_back(b.dV[j * dv + c] + tol::central_difference_of(h, 0.0, first, V(j, c), loss_error));
        }
      }
      const std::string what = name(causal, Q, K, V) + " vs central differences";
      const auto in = inputs().add("Q", Q).add("K", K).add("V", V).add("dO", dO);
      ATTN_CHECK_ALL_CLOSE(what + ": dQ", fdQ, got.dQ.view(), bQ, in);
      ATTN_CHECK_ALL_CLOSE(what + ": dK", fdK, got.dK.view(), bK, in);
      ATTN_CHECK_ALL_CLOSE(what + ": dV", fdV, got.dV.view(), bV, in);
    }
  }
}

TEST_CASE("the outputs are written, not added to: a second call on the same outputs gives the same gradients",
          "[step11][property]") {
  // dK and dV sum a term from every query: an implementation must clear them first. The
  // outputs of backward() start as NaN; here they start as the previous call's result.
  auto gen = attn::test::rng(1104);
  const attn::matrix Q = attn::test::gaussian_matrix(gen, 6, 4), K = attn::test::gaussian_matrix(gen, 7, 4);
  const attn::matrix V = attn::test::gaussian_matrix(gen, 7, 3), dO = attn::test::gaussian_matrix(gen, 6, 3);
  const exact_gradients e = oracle_backward(Q, K, V, dO, true);
  const tol::attention_gradients b = tol::attention_backward(Q, K, V, dO, e.A, true, 1);
  attn::matrix dQ(6, 4, 1.0f), dK(7, 4, -2.0f), dV(7, 3, 3.0f);
  for (int call = 1; call <= 2; ++call) {
    attn::attention_backward(Q, K, V, dO, true, dQ, dK, dV);
    const std::string what = "causal attention_backward, call " + std::to_string(call) + " on the same outputs";
    ATTN_CHECK_ALL_CLOSE(what + ": dQ", e.dQ, dQ, b.dQ, inputs().add("Q", Q).add("K", K));
    ATTN_CHECK_ALL_CLOSE(what + ": dK", e.dK, dK, b.dK, inputs().add("Q", Q).add("K", K));
    ATTN_CHECK_ALL_CLOSE(what + ": dV", e.dV, dV, b.dV, inputs().add("V", V).add("dO", dO));
  }
}

TEST_CASE("under the causal mask keys no query sees get zero gradients, and NaN or inf in their rows changes nothing",
          "[step11][special]") {
  // n_q = 3 queries and n_k = 6 keys, top-left aligned: queries 0..2 see keys 0..2 only. Keys
  // 3..5 are masked for every query, so their rows of K and V must not be read: poisoned with
  // NaN or inf, the gradients equal those of the first three keys alone, and dK, dV are
  // exactly 0 for the masked keys (their weights and dS are 0).
  auto gen = attn::test::rng(1105);
  const std::size_t nq = 3, nk = 6, d = 4, dv = 5;
  const attn::matrix Q = attn::test::gaussian_matrix(gen, nq, d), K = attn::test::gaussian_matrix(gen, nk, d);
  const attn::matrix V = attn::test::uniform_matrix(gen, nk, dv, -2.0f, 2.0f), dO = attn::test::gaussian_matrix(gen, nq, dv);
  const attn::matrix K3 = attn::test::first_rows(K, nq), V3 = attn::test::first_rows(V, nq);
  const exact_gradients e = oracle_backward(Q, K3, V3, dO, true);
  const tol::attention_gradients b = tol::attention_backward(Q, K3, V3, dO, e.A, true, 1);
  std::vector<double> dK(e.dK), dV(e.dV), bK(b.dK), bV(b.dV);
  dK.resize(nk * d, 0.0);
  dV.resize(nk * dv, 0.0);
  bK.resize(nk * d, 0.0);
  bV.resize(nk * dv, 0.0);
  for (const char* poison : attn::test::masked_row_poisons) {
    attn::matrix Kp = K, Vp = V;
    for (std::size_t k = nq; k < nk; ++k) attn::test::poison_row(Kp, Vp, k, poison);
    const outputs got = backward(Q, Kp, Vp, dO, true);
    const std::string what = "causal attention_backward, Q 3 x 4, K 6 x 4, keys 3..5 (seen by no query) with " +
                             std::string(poison);
    const auto in = inputs().add("Q", Q).add("K", Kp).add("V", Vp).add("dO", dO);
    ATTN_CHECK_ALL_CLOSE(what + ": dQ", e.dQ, got.dQ.view(), b.dQ, in);
    ATTN_CHECK_ALL_CLOSE(what + ": dK (0 for keys 3..5)", dK, got.dK.view(), bK, in);
    ATTN_CHECK_ALL_CLOSE(what + ": dV (0 for keys 3..5)", dV, got.dV.view(), bV, in);
  }
}

TEST_CASE("under the causal mask a poisoned key leaves the dQ of earlier queries as if it were not there",
          "[step11][special]") {
  // Square, n = 6: key k is masked for queries 0..k-1, whose dQ must equal those of attention
  // over the first k keys. (dK and dV sum over every query, and the later ones see key k.)
  auto gen = attn::test::rng(1106);
  const std::size_t n = 6, d = 3, dv = 2;
  const attn::matrix Q = attn::test::gaussian_matrix(gen, n, d), K = attn::test::gaussian_matrix(gen, n, d);
  const attn::matrix V = attn::test::gaussian_matrix(gen, n, dv), dO = attn::test::gaussian_matrix(gen, n, dv);
  for (const std::size_t k : {std::size_t{2}, std::size_t{n - 1}}) {
    const attn::matrix Qk = attn::test::first_rows(Q, k), dOk = attn::test::first_rows(dO, k);
    const attn::matrix Kk = attn::test::first_rows(K, k), Vk = attn::test::first_rows(V, k);
    const exact_gradients e = oracle_backward(Qk, Kk, Vk, dOk, true);
    const tol::attention_gradients b = tol::attention_backward(Qk, Kk, Vk, dOk, e.A, true, 1);
    for (const char* poison : attn::test::masked_row_poisons) {
      attn::matrix Kp = K, Vp = V;
      attn::test::poison_row(Kp, Vp, k, poison);
      const outputs got = backward(Q, Kp, Vp, dO, true);
      const std::string what = "causal attention_backward, n = 6, row " + std::to_string(k) + " of " + poison +
                               ": dQ of queries 0.." + std::to_string(k - 1) + " (they cannot see key " +
                               std::to_string(k) + ")";
      ATTN_CHECK_ALL_CLOSE(what, e.dQ, attn::const_matrix_view(got.dQ.view().data, k, d), b.dQ,
                           inputs().add("Q", Q).add("K", Kp).add("V", Vp).add("dO", dO));
      if (poison[2] == 'N') {  // query k sees it: NaN in, NaN out
        ATTN_CHECK_ALL_CLOSE(what + "; query " + std::to_string(k) + " sees it, so its dQ is NaN",
                             std::vector<double>(d, qnan), attn::const_matrix_view(got.dQ.view().data + k * d, 1, d),
                             0.0, inputs().add("K", Kp).add("V", Vp));
      }
    }
  }
}

TEST_CASE("a NaN in a value row a query sees gives NaN in dQ and dK, even behind a weight of 0; dV = A^T dO does not "
          "read V",
          "[step11][special]") {
  // dA_ij = <dO_i, v_j> is NaN for the NaN row, so <dA_i, A_i>, every dS_ij of that query, its
  // dQ row and its share of every dK row are NaN; dV = A^T dO involves no value at all. Key 1
  // scores e^-400 below key 0 for query 0 (weight 0 in float), which must not hide the NaN.
  const attn::matrix Q{{1.0f}, {-1.0f}};
  const attn::matrix K{{200.0f}, {-200.0f}, {1.0f}};
  const attn::matrix V{{1.0f, 2.0f}, {qnan, qnan}, {3.0f, 4.0f}}, dO{{0.5f, -1.0f}, {2.0f, 1.0f}};
  const outputs got = backward(Q, K, V, dO, false);
  const auto in = inputs().add("Q", Q).add("K", K).add("V", V).add("dO", dO);
  ATTN_CHECK_ALL_CLOSE("dQ with a NaN value row of weight e^-400 (0 in float)", std::vector<double>(2, qnan),
                       got.dQ.view(), 0.0, in);
  ATTN_CHECK_ALL_CLOSE("dK with a NaN value row of weight e^-400 (0 in float)", std::vector<double>(3, qnan),
                       got.dK.view(), 0.0, in);
  const attn::matrix V_finite{{1.0f, 2.0f}, {0.0f, 0.0f}, {3.0f, 4.0f}};
  const exact_gradients e = oracle_backward(Q, K, V_finite, dO, false);
  const tol::attention_gradients b = tol::attention_backward(Q, K, V_finite, dO, e.A, false, 1);
  ATTN_CHECK_ALL_CLOSE("dV = A^T dO with a NaN value row (V plays no part in it)", e.dV, got.dV.view(), b.dV, in);
  // A NaN in dO reaches that query's dQ and, through A^T dO and dS^T Q, every key it sees.
  const attn::matrix dO_nan{{0.5f, qnan}, {2.0f, 1.0f}};
  const outputs got2 = backward(Q, K, V_finite, dO_nan, true);
  ATTN_CHECK_CLOSE("causal dQ of query 0 with a NaN in its dO", qnan, got2.dQ.view()(0, 0), 0.0,
                   inputs().add("dO", dO_nan));
  ATTN_CHECK_CLOSE("causal dV of key 0, seen by query 0 whose dO holds NaN", qnan, got2.dV.view()(0, 1), 0.0,
                   inputs().add("dO", dO_nan));
}

TEST_CASE("a query whose scores are all -inf has zero weights: it passes no gradient and adds nothing to dK and dV",
          "[step11][special]") {
  // 3e37 x -20 overflows float: query 0's scores are -inf (finite inputs), so its weights are
  // 0 (the contract's rule), dS_0 = 0 and dQ_0 = 0 exactly; dK and dV are query 1's alone.
  // Expected: zeros for query 0, the oracle of query 1 alone for the rest (the double oracle
  // would not overflow, so it cannot be asked about query 0).
  const attn::matrix Q{{3e37f, 3e37f}, {0.5f, -1.0f}};
  const attn::matrix K{{-10.0f, -20.0f}, {-30.0f, -5.0f}};
  const attn::matrix V{{1.0f, -1.0f, 2.0f}, {0.5f, 3.0f, -2.0f}}, dO{{1.0f, 2.0f, -1.0f}, {-0.5f, 1.0f, 0.25f}};
  const outputs got = backward(Q, K, V, dO, false);
  const attn::matrix Q1{{0.5f, -1.0f}}, dO1{{-0.5f, 1.0f, 0.25f}};
  const exact_gradients e = oracle_backward(Q1, K, V, dO1, false);
  const tol::attention_gradients b = tol::attention_backward(Q1, K, V, dO1, e.A, false, 1);
  const auto in = inputs().add("Q", Q).add("K", K).add("V", V).add("dO", dO);
  ATTN_CHECK_ALL_CLOSE("dQ of the query whose scores are all -inf", std::vector<double>(2, 0.0),
                       attn::const_matrix_view(got.dQ.view().data, 1, 2), 0.0, in);
  ATTN_CHECK_ALL_CLOSE("dQ of the other query", e.dQ, attn::const_matrix_view(got.dQ.view().data + 2, 1, 2), b.dQ, in);
  ATTN_CHECK_ALL_CLOSE("dK: the other query's alone", e.dK, got.dK.view(), b.dK, in);
  ATTN_CHECK_ALL_CLOSE("dV: the other query's alone", e.dV, got.dV.view(), b.dV, in);
}

TEST_CASE("empty sizes: no keys, no queries or no value columns give zero gradients, and nothing else is written",
          "[step11][special]") {
  const attn::matrix Q{{1.0f, 2.0f}, {0.5f, -1.0f}}, dO(2, 3, 1.0f), K0(0, 2), V0(0, 3);
  for (const bool causal : {false, true}) {
    const std::string mask = causal ? "causal " : "";
    const outputs no_keys = backward(Q, K0, V0, dO, causal);  // dQ = dS K = 0: nothing to attend to
    ATTN_CHECK_ALL_CLOSE(mask + "attention_backward with n_k = 0: dQ", std::vector<double>(4, 0.0), no_keys.dQ.view(),
                         0.0, inputs().add("Q", Q));
    CHECK(no_keys.intact());
    const attn::matrix K{{1.0f, -1.0f}, {0.0f, 2.0f}, {3.0f, 1.0f}}, V(3, 3, 2.0f), Q0(0, 2), dO0(0, 3);
    const outputs no_queries = backward(Q0, K, V, dO0, causal);  // no query: no term in any sum
    ATTN_CHECK_ALL_CLOSE(mask + "attention_backward with n_q = 0: dK", std::vector<double>(6, 0.0),
                         no_queries.dK.view(), 0.0, inputs().add("K", K));
    ATTN_CHECK_ALL_CLOSE(mask + "attention_backward with n_q = 0: dV", std::vector<double>(9, 0.0),
                         no_queries.dV.view(), 0.0, inputs().add("V", V));
    CHECK(no_queries.intact());
    const attn::matrix Vthin(3, 0), dOthin(2, 0);  // d_v = 0: dA = 0, so dS = 0
    const outputs thin = backward(Q, K, Vthin, dOthin, causal);
    ATTN_CHECK_ALL_CLOSE(mask + "attention_backward with d_v = 0: dQ", std::vector<double>(4, 0.0), thin.dQ.view(), 0.0,
                         inputs().add("Q", Q).add("K", K));
    ATTN_CHECK_ALL_CLOSE(mask + "attention_backward with d_v = 0: dK", std::vector<double>(6, 0.0), thin.dK.view(), 0.0,
                         inputs().add("Q", Q).add("K", K));
    INFO(mask << "empty sizes: nothing outside the outputs may be written");
    CHECK(thin.intact());
  }
}

TEST_CASE("mismatched shapes are refused with a message naming the function and the sizes", "[step11][input]") {
  const attn::matrix Q(2, 4), K(3, 4), V(3, 5), dO(2, 5);
  attn::matrix dQ(2, 4), dK(3, 4), dV(3, 5);
  const attn::matrix V_short(2, 5), dO_wide(2, 6), dO_tall(3, 5), K_other_d(3, 6), Q0(2, 0), K0(3, 0);
  attn::matrix dQ_bad(2, 3), dK_bad(4, 4), dV_bad(3, 4);
  ATTN_REQUIRE_INVALID(attn::attention_backward(Q, K, V_short, dO, false, dQ, dK, dV), "attention_backward", 3, 2);
  ATTN_REQUIRE_INVALID(attn::attention_backward(Q, K, V, dO_wide, false, dQ, dK, dV), "attention_backward", 6, 5);
  ATTN_REQUIRE_INVALID(attn::attention_backward(Q, K, V, dO_tall, true, dQ, dK, dV), "attention_backward", 3, 2);
  ATTN_REQUIRE_INVALID(attn::attention_backward(Q, K, V, dO, false, dQ_bad, dK, dV), "attention_backward", 3, 4);
  ATTN_REQUIRE_INVALID(attn::attention_backward(Q, K, V, dO, true, dQ, dK_bad, dV), "attention_backward", 4, 3);
  ATTN_REQUIRE_INVALID(attn::attention_backward(Q, K, V, dO, false, dQ, dK, dV_bad), "attention_backward", 4, 5);
  // Q and K: the shape errors of the scores, which attention_weights (step 5) may refuse.
  attn::matrix dK6(3, 6);
  ATTN_REQUIRE_INVALID(attn::attention_backward(Q, K_other_d, V, dO, false, dQ, dK6, dV),
                       "attention_backward|attention_weights|scores", 4, 6);
  attn::matrix dQ0(2, 0), dK0(3, 0);
  ATTN_REQUIRE_INVALID(attn::attention_backward(Q0, K0, V, dO, false, dQ0, dK0, dV),
                       "attention_backward|attention_weights|scores", 0);
}
