// Steps 7-12 of the reference against the double oracle, on every instruction set: the
// attention output (every d_v through the SIMD tails), attention and streaming attention
// (every block size), the online normaliser, the ALiBi slopes and bias, and the softmax
// backward pass (every length, unaligned), the attention backward pass (tile edges, poisoned
// masked keys, NaN), layer normalisation and its backward pass (every d, unaligned, rows of
// poor condition). Tolerances are tolerances.hpp's with
// implementations = 1: the oracle's own error is far inside kSecondOrder.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "support/catch.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

#include "helpers.hpp"

namespace {

namespace ref = attn::ref;
namespace oracle = attn::test::oracle;
namespace tol = attn::test::tol;
using namespace attn::test::reference;

/// sum_j A_ij V_jc in long double, row-major n_q x d_v; `causal`: over j <= i only (a masked
/// key contributes nothing, whatever its value row holds: the contract's rule).
std::vector<double> oracle_output(std::span<const double> A, std::span<const float> V, std::size_t nq, std::size_t nk,
                                  std::size_t dv, bool causal = false) {
  std::vector<double> O(nq * dv);
  for (std::size_t i = 0; i < nq; ++i) {
    const std::size_t visible = causal ? std::min(nk, i + 1) : nk;
    for (std::size_t c = 0; c < dv; ++c) {
      long double s = 0.0L;
      for (std::size_t j = 0; j < visible; ++j) s += static_cast<long double>(A[i * nk + j]) * V[j * dv + c];
      O[i * dv + c] = static_cast<double>(s);
    }
  }
  return O;
}

}  // namespace

TEST_CASE("reference attention_output agrees with the oracle for every d_v, on every instruction set", "[reference]") {
  auto rng = attn::test::rng(1101);
  for (const std::size_t dv : {0u, 1u, 3u, 4u, 7u, 8u, 9u, 15u, 16u, 17u, 31u, 33u, 64u, 100u}) {
    for (const std::size_t nk : {0u, 1u, 5u, 19u}) {
      const std::size_t nq = 3;
      std::vector<float> A = normal_row(rng, nq * nk, 2.0f), V = normal_row(rng, nk * dv, 3.0f);
      const std::vector<double> A_d(A.begin(), A.end());
      const std::vector<double> expected = oracle_output(A_d, V, nq, nk, dv);
      for (const std::string& isa : supported_isas()) {
        ref::scoped_isa pin(isa);
        for (const std::size_t offset : kOffsets) {
          placed out(std::vector<float>(nq * dv, -1.0f), offset);
          ref::attention_output({A.data(), nq, nk}, {V.data(), nk, dv}, {out.span().data(), nq, dv});
          comparison cmp("attention_output, " + where(isa, dv, offset) + ", n_k = " + std::to_string(nk));
          for (std::size_t i = 0; i < nq; ++i) {
            for (std::size_t c = 0; c < dv; ++c) {
              double sum_abs = 0.0;
              for (std::size_t j = 0; j < nk; ++j) sum_abs += std::fabs(static_cast<double>(A[i * nk + j]) * V[j * dv + c]);
              cmp.element(i * dv + c, out.span()[i * dv + c], expected[i * dv + c], tol::dot(nk, sum_abs, 1));
            }
          }
          if (!out.fences_intact()) cmp.fail("wrote outside O");
          ATTN_CHECK_AGREES(cmp);
        }
      }
    }
  }
}

TEST_CASE("reference attention and streaming attention agree with the oracle for every block size", "[reference]") {
  auto rng = attn::test::rng(1102);
  for (const std::size_t n : {1u, 2u, 5u, 9u, 17u, 33u}) {
    const std::size_t d = 1 + n % 7, dv = 1 + (2 * n) % 19;
    const std::vector<float> Q = normal_row(rng, n * d), K = normal_row(rng, n * d), V = normal_row(rng, n * dv);
    for (const bool causal : {false, true}) {
      const std::vector<double> A = oracle::attention_weights(Q, K, n, n, d, causal);
      const std::vector<double> expected = oracle_output(A, V, n, n, dv, causal);
      std::vector<double> bounds;
      const std::vector<double> S = oracle::scores(Q, K, n, n, d);
      for (std::size_t i = 0; i < n; ++i) {
        std::vector<float> beta(n), a(n);
        for (std::size_t j = 0; j < n; ++j) {
          beta[j] = causal && j > i ? -kInf : static_cast<float>(S[i * n + j]);
          a[j] = static_cast<float>(A[i * n + j]);
        }
        const double score_error =
            tol::visible_score_error({Q.data() + i * d, d}, {K.data(), n, d}, tol::visible_keys(i, n, causal), 1);
        const auto wb = tol::streaming_attention_row(beta, a, score_error, 1);
        for (std::size_t c = 0; c < dv; ++c) {
          std::vector<float> column(n);
          for (std::size_t j = 0; j < n; ++j) column[j] = V[j * dv + c];
          bounds.push_back(tol::attention_output(wb, a, column, 1));
        }
      }
      for (const std::string& isa : supported_isas()) {
        ref::scoped_isa pin(isa);
        for (std::size_t block = 0; block <= n + 1; ++block) {  // block 0: the two-pass attention()
          std::vector<float> O(n * dv, -1.0f);
          if (block == 0) {
            ref::attention({Q.data(), n, d}, {K.data(), n, d}, {V.data(), n, dv}, {O.data(), n, dv}, causal);
          } else {
            ref::streaming_attention({Q.data(), n, d}, {K.data(), n, d}, {V.data(), n, dv}, {O.data(), n, dv}, causal,
                                     block);
          }
          comparison cmp((block == 0 ? std::string("attention") : "streaming_attention, block " + std::to_string(block)) +
                         (causal ? ", causal, " : ", ") + where(isa, n, 0));
          for (std::size_t k = 0; k < O.size(); ++k) cmp.element(k, O[k], expected[k], bounds[k]);
          ATTN_CHECK_AGREES(cmp);
        }
      }
    }
  }
}

TEST_CASE("reference online normaliser agrees with the oracle's max and sum, pushed or merged", "[reference]") {
  auto rng = attn::test::rng(1103);
  for (const std::size_t n : {1u, 2u, 7u, 64u, 257u}) {
    const std::vector<float> x = normal_row(rng, n, 10.0f);
    const double m = *std::max_element(x.begin(), x.end());
    long double l = 0.0L;
    for (const float v : x) l += std::exp(static_cast<long double>(v) - m);
    attn::online_softmax pushed, left, right;
    for (std::size_t j = 0; j < n; ++j) ref::push(j < n / 2 ? left : right, x[j]);
    for (const float v : x) ref::push(pushed, v);
    for (const attn::online_softmax& s : {pushed, ref::merge(left, right), ref::merge(right, left)}) {
      comparison cmp("online_softmax, n = " + std::to_string(n));
      cmp.element(0, s.max, m, 0.0);
      cmp.element(1, s.sum, static_cast<double>(l), tol::online_sum(x, static_cast<double>(l), 1));
      const std::vector<double> a = oracle::softmax(std::span<const float>(x));
      const std::vector<float> af(a.begin(), a.end());
      const auto wb = tol::online_softmax_row(x, af, 1);
      for (std::size_t j = 0; j < n; ++j) cmp.element(2 + j, ref::weight(s, x[j]), a[j], wb[j]);
      ATTN_CHECK_AGREES(cmp);
    }
  }
  const attn::online_softmax empty = ref::merge({}, {});
  CHECK(empty.max == -kInf);
  CHECK(empty.sum == 0.0f);
}

TEST_CASE("reference ALiBi slopes and bias agree with the exact values", "[reference]") {
  for (std::size_t heads = 0; heads <= 64; ++heads) {
    const std::vector<float> slopes = ref::alibi_slopes(heads);
    REQUIRE(slopes.size() == heads);
    comparison cmp("alibi_slopes(" + std::to_string(heads) + ")");
    for (std::size_t h = 1; h <= heads; ++h) {
      cmp.element(h - 1, slopes[h - 1], std::exp2(-8.0 * static_cast<double>(h) / static_cast<double>(heads)),
                  tol::alibi_slope(h, heads, 1));
    }
    ATTN_CHECK_AGREES(cmp);
  }
  auto rng = attn::test::rng(1104);
  const std::vector<float> S0 = normal_row(rng, 40 * 70, 5.0f);
  std::vector<float> S = S0;
  ref::add_alibi_bias({S.data(), 40, 70}, 0.125f);
  comparison cmp("add_alibi_bias, 40 x 70");
  for (std::size_t i = 0; i < 40; ++i) {
    for (std::size_t j = 0; j < 70; ++j) {
      const double s = S0[i * 70 + j];
      cmp.element(i * 70 + j, S[i * 70 + j], s + 0.125 * (static_cast<double>(j) - static_cast<double>(i)),
                  tol::alibi_bias(s, 0.125, i, j, 1));
    }
  }
  ATTN_CHECK_AGREES(cmp);
}

TEST_CASE("reference softmax_backward agrees with the oracle for every length and offset, on every instruction set",
          "[reference]") {
  auto rng = attn::test::rng(1105);
  for (const std::size_t n : all_lengths()) {
    const std::vector<double> a_d = oracle::softmax(std::span<const float>(normal_row(rng, n, 3.0f)));
    const std::vector<float> a(a_d.begin(), a_d.end()), g = normal_row(rng, n, 2.0f);
    long double c = 0.0L;
    double sum_abs = 0.0;
    for (std::size_t l = 0; l < n; ++l) {
      c += static_cast<long double>(a[l]) * g[l];
      sum_abs += std::fabs(static_cast<double>(a[l]) * g[l]);
    }
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      for (const std::size_t offset : kOffsets) {
        placed out(std::vector<float>(n, -1.0f), offset);
        ref::softmax_backward(a, g, out.span());
        comparison cmp("softmax_backward, " + where(isa, n, offset));
        for (std::size_t j = 0; j < n; ++j) {
          const double expected = static_cast<double>(static_cast<long double>(a[j]) * (g[j] - c));
          cmp.element(j, out.span()[j], expected, tol::softmax_backward(a[j], g[j], sum_abs, n, 1));
        }
        if (!out.fences_intact()) cmp.fail("wrote outside grad_s");
        ATTN_CHECK_AGREES(cmp);
      }
    }
  }
}

TEST_CASE("reference attention and streaming attention read no row of a masked key, and a visible NaN value gives NaN, "
          "on every instruction set",
          "[reference]") {
  // The contract's rule (docs: Masked keys and special values): under the causal mask query i
  // depends on keys and values 0..i only, so poisoning row k of V or K leaves the outputs of
  // queries i < k bit for bit as they were; a NaN value row that a query sees makes its
  // output NaN, with or without the mask, even where the weight is 0.
  auto rng = attn::test::rng(1106);
  const std::size_t n = 9, d = 5, dv = 7, k = 4;
  const std::vector<float> Q = normal_row(rng, n * d), K = normal_row(rng, n * d), V = normal_row(rng, n * dv);
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    for (std::size_t block = 0; block <= n + 1; ++block) {  // block 0: the two-pass attention()
      const auto run = [&](const std::vector<float>& Kx, const std::vector<float>& Vx, bool causal) {
        std::vector<float> O(n * dv, -1.0f);
        if (block == 0) {
          ref::attention({Q.data(), n, d}, {Kx.data(), n, d}, {Vx.data(), n, dv}, {O.data(), n, dv}, causal);
        } else {
          ref::streaming_attention({Q.data(), n, d}, {Kx.data(), n, d}, {Vx.data(), n, dv}, {O.data(), n, dv}, causal,
                                   block);
        }
        return O;
      };
      const std::string what = (block == 0 ? std::string("attention") : "streaming_attention, block " +
                                                                           std::to_string(block)) + ", isa " + isa;
      const std::vector<float> clean = run(K, V, true);
      for (const float poison : {std::numeric_limits<float>::quiet_NaN(), kInf}) {
        for (const bool in_v : {true, false}) {
          std::vector<float> Kp = K, Vp = V;
          if (in_v) std::fill(Vp.begin() + k * dv, Vp.begin() + (k + 1) * dv, poison);
          else std::fill(Kp.begin() + k * d, Kp.begin() + (k + 1) * d, poison);
          const std::vector<float> O = run(Kp, Vp, true);
          for (std::size_t e = 0; e < k * dv; ++e) {
            INFO(what << ": causal, row " << k << " of " << (in_v ? "V" : "K") << " = " << poison << ", element " << e);
            CHECK(std::memcmp(&O[e], &clean[e], sizeof(float)) == 0);
          }
          if (std::isnan(poison)) {
            for (std::size_t e = k * dv; e < n * dv; ++e) {
              INFO(what << ": causal, row " << k << " of " << (in_v ? "V" : "K") << " = nan, element " << e);
              CHECK(std::isnan(O[e]));
            }
          }
        }
      }
      std::vector<float> Vnan = V;
      std::fill(Vnan.begin() + k * dv, Vnan.begin() + (k + 1) * dv, std::numeric_limits<float>::quiet_NaN());
      const std::vector<float> O = run(K, Vnan, false);
      for (std::size_t e = 0; e < n * dv; ++e) {
        INFO(what << ": not causal, row " << k << " of V = nan, element " << e);
        CHECK(std::isnan(O[e]));
      }
    }
  }
}

TEST_CASE("reference attention_backward agrees with the oracle across the micro-kernel's tile edges, on every "
          "instruction set",
          "[reference]") {
  // Step 11: shapes around the tiles (6 or 12 rows, 16, 32 or 64 columns), causal or not,
  // n_q != n_k and d_v != d; outputs unaligned and fenced. Then the same with a masked key's
  // rows poisoned (the path for inputs that are not all finite), which must give the same.
  auto rng = attn::test::rng(1107);
  const std::size_t shapes[][4] = {{1, 1, 1, 1},   {5, 7, 3, 2},    {6, 16, 16, 16}, {13, 33, 17, 9},
                                   {12, 12, 64, 64}, {31, 65, 8, 33}, {70, 40, 64, 5}, {128, 128, 32, 64}};
  for (const bool causal : {false, true}) {
    for (const auto& [nq, nk, d, dv] : shapes) {
      const std::vector<float> Q = normal_row(rng, nq * d), K = normal_row(rng, nk * d), V = normal_row(rng, nk * dv, 2.0f),
                               dO = normal_row(rng, nq * dv);
      const attn::const_matrix_view q{Q.data(), nq, d}, k{K.data(), nk, d}, v{V.data(), nk, dv}, o{dO.data(), nq, dv};
      const oracle::gradients e = oracle::attention_backward(q, k, v, o, causal);
      const std::vector<float> a(e.A.begin(), e.A.end());
      const tol::attention_gradients b = tol::attention_backward(q, k, v, o, {a.data(), nq, nk}, causal, 1);
      // Poisoned: a key no query sees (n_k > n_q under the mask) gets NaN in K and inf in V.
      std::vector<float> Kp = K, Vp = V;
      const bool poisonable = causal && nk > nq;
      if (poisonable) {
        std::fill(Kp.begin() + static_cast<std::ptrdiff_t>(nq * d), Kp.end(), kNaN);
        std::fill(Vp.begin() + static_cast<std::ptrdiff_t>(nq * dv), Vp.end(), kInf);
      }
      for (const std::string& isa : supported_isas()) {
        ref::scoped_isa pin(isa);
        for (const bool poisoned : {false, true}) {
          if (poisoned && !poisonable) continue;
          placed dQ(std::vector<float>(nq * d, -1.0f), 1), dK(std::vector<float>(nk * d, -1.0f), 3),
              dV(std::vector<float>(nk * dv, -1.0f), 2);
          ref::attention_backward(q, {(poisoned ? Kp : K).data(), nk, d}, {(poisoned ? Vp : V).data(), nk, dv}, o, causal,
                                  {dQ.span().data(), nq, d}, {dK.span().data(), nk, d}, {dV.span().data(), nk, dv});
          const std::string what = std::string("attention_backward") + (causal ? ", causal" : "") +
                                   (poisoned ? ", unseen keys poisoned" : "") + ", isa " + isa + ", Q " +
                                   std::to_string(nq) + " x " + std::to_string(d) + ", K " + std::to_string(nk) +
                                   " x " + std::to_string(d) + ", d_v " + std::to_string(dv);
          for (const auto& [name, got, exact, bound] :
               {std::tuple{"dQ", &dQ, &e.dQ, &b.dQ}, std::tuple{"dK", &dK, &e.dK, &b.dK}, std::tuple{"dV", &dV, &e.dV, &b.dV}}) {
            comparison cmp(what + ": " + name);
            for (std::size_t x = 0; x < exact->size(); ++x) cmp.element(x, got->span()[x], (*exact)[x], (*bound)[x]);
            if (!got->fences_intact()) cmp.fail(std::string("wrote outside ") + name);
            ATTN_CHECK_AGREES(cmp);
          }
        }
      }
    }
  }
}

TEST_CASE("reference attention_backward: a NaN a query sees reaches its gradients, on every instruction set",
          "[reference]") {
  // Non-causal, a NaN in value row 2: dA of every query is NaN there, so every dS, dQ and dK is
  // NaN; dV = A^T dO does not read V and stays finite (the oracle's, with the row zeroed).
  auto rng = attn::test::rng(1108);
  const std::size_t n = 9, d = 5, dv = 7;
  const std::vector<float> Q = normal_row(rng, n * d), K = normal_row(rng, n * d), dO = normal_row(rng, n * dv);
  std::vector<float> V = normal_row(rng, n * dv);
  std::fill(V.begin() + 2 * dv, V.begin() + 3 * dv, 0.0f);
  const oracle::gradients e = oracle::attention_backward({Q.data(), n, d}, {K.data(), n, d}, {V.data(), n, dv},
                                                         {dO.data(), n, dv}, false);
  const std::vector<float> a(e.A.begin(), e.A.end());
  const tol::attention_gradients b = tol::attention_backward({Q.data(), n, d}, {K.data(), n, d}, {V.data(), n, dv},
                                                             {dO.data(), n, dv}, {a.data(), n, n}, false, 1);
  std::fill(V.begin() + 2 * dv, V.begin() + 3 * dv, kNaN);
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    std::vector<float> dQ(n * d), dK(n * d), dV(n * dv);
    ref::attention_backward({Q.data(), n, d}, {K.data(), n, d}, {V.data(), n, dv}, {dO.data(), n, dv}, false,
                            {dQ.data(), n, d}, {dK.data(), n, d}, {dV.data(), n, dv});
    comparison cmp("attention_backward with a NaN value row, isa " + isa);
    for (std::size_t x = 0; x < n * d; ++x) {
      cmp.element(x, dQ[x], oracle::nan, 0.0);
      cmp.element(n * d + x, dK[x], oracle::nan, 0.0);
    }
    for (std::size_t x = 0; x < n * dv; ++x) cmp.element(2 * n * d + x, dV[x], e.dV[x], b.dV[x]);
    ATTN_CHECK_AGREES(cmp);
  }
}

namespace {

/// Step 12's oracle for one row, in long double: xhat, r, and the condition kappa = max|x| r.
struct layer_norm_row {
  std::vector<double> xhat;
  double r = 0.0, kappa = 0.0, xhat_max = 0.0;
};

layer_norm_row layer_norm_oracle(std::span<const float> x) {
  layer_norm_row o;
  const long double d = static_cast<long double>(x.size());
  long double mu = 0.0L, var = 0.0L;
  for (float v : x) mu += v;
  mu /= d;
  for (float v : x) var += (v - mu) * (v - mu);
  var /= d;
  const long double r = 1.0L / std::sqrt(var + static_cast<long double>(attn::layer_norm_epsilon));
  double x_max = 0.0;
  for (float v : x) {
    o.xhat.push_back(static_cast<double>((v - mu) * r));
    o.xhat_max = std::max(o.xhat_max, std::fabs(o.xhat.back()));
    x_max = std::max(x_max, std::fabs(static_cast<double>(v)));
  }
  o.r = static_cast<double>(r);
  o.kappa = x_max * o.r;
  return o;
}

}  // namespace

TEST_CASE("reference layer_norm and layer_norm_backward agree with the oracle for every d and offset, on every "
          "instruction set",
          "[reference]") {
  // Three rows of different condition: ordinary, offset by 50 against a spread of 1, and
  // near-constant (sigma^2 below eps). Bounds: tol::layer_norm, tol::layer_norm_dx and
  // tol::layer_norm_dgain with implementations = 1.
  auto rng = attn::test::rng(1107);
  const std::size_t n = 3;
  for (const std::size_t d : all_lengths()) {
    if (d == 0) continue;
    std::vector<float> X = normal_row(rng, n * d, 2.0f);
    for (std::size_t t = 0; t < d; ++t) {
      X[d + t] += 50.0f;
      X[2 * d + t] = 1.0f + 1e-3f * X[2 * d + t];
    }
    const std::vector<float> gain = normal_row(rng, d, 1.0f), dY = normal_row(rng, n * d, 1.0f);
    std::vector<double> y(n * d), y_bound(n * d), dx(n * d), dx_bound(n * d), dgain(d, 0.0), dy_delta(d, 0.0),
        dy_xhat(d, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const layer_norm_row o = layer_norm_oracle(std::span<const float>(X).subspan(i * d, d));
      long double g_mean = 0.0L, gx_mean = 0.0L;
      double g_max = 0.0;
      for (std::size_t t = 0; t < d; ++t) {
        const long double g = static_cast<long double>(gain[t]) * dY[i * d + t];
        g_mean += g;
        gx_mean += g * o.xhat[t];
        g_max = std::max(g_max, static_cast<double>(std::fabs(g)));
        y[i * d + t] = gain[t] * o.xhat[t];
        y_bound[i * d + t] = tol::layer_norm(gain[t], o.xhat[t], d, o.kappa, o.xhat_max, 1);
        dgain[t] += dY[i * d + t] * o.xhat[t];
        dy_delta[t] += std::fabs(dY[i * d + t]) * tol::layer_norm_xhat(d, o.kappa, o.xhat_max);
        dy_xhat[t] += std::fabs(dY[i * d + t] * o.xhat[t]);
      }
      g_mean /= static_cast<long double>(d);
      gx_mean /= static_cast<long double>(d);
      for (std::size_t t = 0; t < d; ++t) {
        const long double g = static_cast<long double>(gain[t]) * dY[i * d + t];
        dx[i * d + t] = static_cast<double>(o.r * (g - g_mean - o.xhat[t] * gx_mean));
        dx_bound[i * d + t] = tol::layer_norm_dx(o.xhat[t], o.r, g_max, d, o.kappa, o.xhat_max, 1);
      }
    }
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      for (const std::size_t offset : kOffsets) {
        placed Y(std::vector<float>(n * d, -1.0f), offset), dX(std::vector<float>(n * d, -1.0f), offset),
            dG(std::vector<float>(d, 7.0f), offset);
        ref::layer_norm({X.data(), n, d}, gain, {Y.span().data(), n, d});
        ref::layer_norm_backward({X.data(), n, d}, gain, {dY.data(), n, d}, {dX.span().data(), n, d}, dG.span());
        comparison cmp("layer_norm and layer_norm_backward, " + where(isa, d, offset));
        for (std::size_t k = 0; k < n * d; ++k) cmp.element(k, Y.span()[k], y[k], y_bound[k]);
        for (std::size_t k = 0; k < n * d; ++k) cmp.element(n * d + k, dX.span()[k], dx[k], dx_bound[k]);
        for (std::size_t t = 0; t < d; ++t) {
          cmp.element(2 * n * d + t, dG.span()[t], dgain[t], tol::layer_norm_dgain(dy_delta[t], dy_xhat[t], n, 1));
        }
        if (!Y.fences_intact() || !dX.fences_intact() || !dG.fences_intact()) cmp.fail("wrote outside Y, dX or dgain");
        ATTN_CHECK_AGREES(cmp);
      }
    }
  }
}

TEST_CASE("reference layer_norm: NaN stays in its row, a constant row gives 0, Y may be X, on every instruction set",
          "[reference]") {
  const std::size_t d = 19;
  std::vector<float> X(3 * d);
  for (std::size_t t = 0; t < d; ++t) {
    X[t] = static_cast<float>(t);
    X[d + t] = t == 7 ? kNaN : 1.0f;
    X[2 * d + t] = 2.5f;  // constant: xhat = 0 / sqrt(eps) = 0
  }
  const std::vector<float> gain(d, 1.5f);
  const layer_norm_row o = layer_norm_oracle(std::span<const float>(X).first(d));
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    std::vector<float> Y = X;
    ref::layer_norm({Y.data(), 3, d}, gain, {Y.data(), 3, d});  // in place
    comparison cmp("layer_norm in place with a NaN row and a constant row, " + isa);
    for (std::size_t t = 0; t < d; ++t) {
      cmp.element(t, Y[t], 1.5 * o.xhat[t], tol::layer_norm(1.5, o.xhat[t], d, o.kappa, o.xhat_max, 1));
      cmp.element(d + t, Y[d + t], std::numeric_limits<double>::quiet_NaN(), 0.0);
      cmp.element(2 * d + t, Y[2 * d + t], 0.0, 0.0);  // 19 x 2.5 and the mean 2.5 are exact
    }
    ATTN_CHECK_AGREES(cmp);
  }
}
