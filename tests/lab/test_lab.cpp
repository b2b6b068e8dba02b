// The training lab (tools/lab/): the whole model's gradient against finite differences (in
// double, through an independent double-precision table of the attention functions), and what
// training shows: at a low rate every variant learns, at the lab's high rate the unscaled
// model's attention entropy collapses and its loss stays near chance while QK-layernorm's
// does not. Model seeds are fixed (not Catch's --rng-seed): the claims are about these runs,
// which are bit-for-bit reproducible with the reference.
#include "support/catch.hpp"
#include "support/tolerances.hpp"

#include <attn/contract.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "../../tools/lab/lab.hpp"

namespace lab = attn::lab;
namespace tol = attn::test::tol;

namespace {

// Double-precision oracles of the attention functions, plain loops from their definitions.
void weights_d(const double* Q, const double* K, double* A, std::size_t n, std::size_t d, bool causal) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t last = causal ? i + 1 : n;
    double mx = -INFINITY;
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t t = 0; t < d; ++t) s += Q[i * d + t] * K[j * d + t];
      A[i * n + j] = j < last ? s / std::sqrt(static_cast<double>(d)) : -INFINITY;
      mx = std::max(mx, A[i * n + j]);
    }
    double z = 0;
    for (std::size_t j = 0; j < n; ++j) z += (A[i * n + j] = j < last ? std::exp(A[i * n + j] - mx) : 0.0);
    for (std::size_t j = 0; j < n; ++j) A[i * n + j] /= z;
  }
}
void output_d(const double* A, const double* V, double* O, std::size_t n, std::size_t dv) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t t = 0; t < dv; ++t) {
      double s = 0;
      for (std::size_t j = 0; j < n; ++j) s += A[i * n + j] * V[j * dv + t];
      O[i * dv + t] = s;
    }
}
void backward_d(const double* Q, const double* K, const double* V, const double* dO, bool causal, double* dQ,
                double* dK, double* dV, std::size_t n, std::size_t d) {
  std::vector<double> A(n * n), dS(n * n);
  weights_d(Q, K, A.data(), n, d, causal);
  const double r = 1.0 / std::sqrt(static_cast<double>(d));
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> dA(n);
    double c = 0;
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t t = 0; t < d; ++t) dA[j] += dO[i * d + t] * V[j * d + t];
      c += A[i * n + j] * dA[j];
    }
    for (std::size_t j = 0; j < n; ++j) dS[i * n + j] = A[i * n + j] * (dA[j] - c);
  }
  for (std::size_t x = 0; x < n * d; ++x) dQ[x] = dK[x] = dV[x] = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t t = 0; t < d; ++t) {
        dV[j * d + t] += A[i * n + j] * dO[i * d + t];
        dQ[i * d + t] += dS[i * n + j] * K[j * d + t] * r;
        dK[j * d + t] += dS[i * n + j] * Q[i * d + t] * r;
      }
}
void layer_norm_d(const double* X, const double* g, double* Y, std::size_t n, std::size_t d) {
  for (std::size_t i = 0; i < n; ++i) {
    double mu = 0, var = 0;
    for (std::size_t t = 0; t < d; ++t) mu += X[i * d + t] / static_cast<double>(d);
    for (std::size_t t = 0; t < d; ++t) var += (X[i * d + t] - mu) * (X[i * d + t] - mu) / static_cast<double>(d);
    const double r = 1.0 / std::sqrt(var + static_cast<double>(attn::layer_norm_epsilon));
    for (std::size_t t = 0; t < d; ++t) Y[i * d + t] = g[t] * (X[i * d + t] - mu) * r;
  }
}
void layer_norm_backward_d(const double* X, const double* g, const double* dY, double* dX, double* dg, std::size_t n,
                           std::size_t d) {
  for (std::size_t t = 0; t < d; ++t) dg[t] = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double mu = 0, var = 0;
    for (std::size_t t = 0; t < d; ++t) mu += X[i * d + t] / static_cast<double>(d);
    for (std::size_t t = 0; t < d; ++t) var += (X[i * d + t] - mu) * (X[i * d + t] - mu) / static_cast<double>(d);
    const double r = 1.0 / std::sqrt(var + static_cast<double>(attn::layer_norm_epsilon));
    double gbar = 0, gxbar = 0;
    for (std::size_t t = 0; t < d; ++t) {
      const double xh = (X[i * d + t] - mu) * r, gt = g[t] * dY[i * d + t];
      gbar += gt / static_cast<double>(d);
      gxbar += gt * xh / static_cast<double>(d);
      dg[t] += dY[i * d + t] * xh;
    }
    for (std::size_t t = 0; t < d; ++t)
      dX[i * d + t] = r * (g[t] * dY[i * d + t] - gbar - (X[i * d + t] - mu) * r * gxbar);
  }
}
double entropy_d(const double* a, std::size_t n) {
  double h = 0;
  for (std::size_t j = 0; j < n; ++j)
    if (a[j] > 0) h -= a[j] * std::log(a[j]);
  return h;
}
const lab::ops<double> kDouble = {"double oracle", weights_d, output_d, backward_d, layer_norm_d, layer_norm_backward_d,
                                  entropy_d};

// The final value of a run: the mean over its last tenth of steps (what attn_lab reports).
double tail_mean(const std::vector<lab::step_stats>& s, double lab::step_stats::*field) {
  const std::size_t k = std::max<std::size_t>(1, s.size() / 10);
  double m = 0;
  for (std::size_t i = s.size() - k; i < s.size(); ++i) m += s[i].*field;
  return m / static_cast<double>(k);
}

std::vector<lab::step_stats> run(lab::config c) {
  return lab::train(c, lab::reference_ops(), [](std::size_t, const lab::step_stats&) {});
}

// The lab's setup (tools/lab/lab.hpp defaults, docs/lab.md) with one variant.
lab::config variant(bool scaled, bool ln, double lr) {
  lab::config c;
  c.scaled = scaled;
  c.qk_layernorm = ln;
  c.lr = lr;
  return c;
}

}  // namespace

TEST_CASE("lab: the whole model's gradient matches central differences, every group and variant", "[lab]") {
  for (int v = 0; v < 4; ++v) {
    lab::config c;
    c.scaled = v % 2 == 1;
    c.qk_layernorm = v >= 2;
    c.d = 6, c.pairs = 6, c.queries = 3, c.keys = 8, c.values = 4, c.batch = 2, c.init_scale = 1.0;
    c.seed = 7 + static_cast<std::uint64_t>(v);
    lab::rng r{c.seed};
    lab::params<double> p = lab::init_params<double>(c, r);
    // Gains away from 1 so that their gradient is not special.
    for (auto& x : p.g[7]) x = 0.5 + r.uniform();
    for (auto& x : p.g[8]) x = 0.5 + r.uniform();
    const lab::batch_data b = lab::make_batch(c, r);
    lab::params<double> g;
    const double loss = lab::loss_and_grad(c, kDouble, p, b, &g).loss;
    const double ops = 10.0 * static_cast<double>(c.batch * c.n() * (c.n() + c.d) * c.d);
    for (std::size_t k = 0; k < lab::group_count; ++k) {
      if (!c.qk_layernorm && k >= 7) {
        CHECK(g.g[k] == std::vector<double>(g.g[k].size(), 0.0));  // unused gains: no gradient
        continue;
      }
      std::vector<double> dir(p.g[k].size());
      double norm = 0, analytic = 0;
      for (auto& x : dir) {
        x = r.normal();
        norm += x * x;
      }
      for (std::size_t i = 0; i < dir.size(); ++i) analytic += g.g[k][i] * (dir[i] /= std::sqrt(norm));
      auto loss_at = [&](double h) {
        lab::params<double> q = p;
        for (std::size_t i = 0; i < dir.size(); ++i) q.g[k][i] += h * dir[i];
        return lab::loss_and_grad<double>(c, kDouble, q, b, nullptr).loss;
      };
      const double h = 1e-3;
      const double d_h = (loss_at(h) - loss_at(-h)) / (2 * h);
      const double d_half = (loss_at(h / 2) - loss_at(-h / 2)) / h;
      INFO("variant " << (c.scaled ? "scaled" : "unscaled") << (c.qk_layernorm ? "+qk-layernorm" : "") << ", group "
                      << lab::group_names[k] << ": analytic directional derivative " << analytic
                      << ", central difference " << d_half << " (with h twice as large: " << d_h << ")");
      CHECK(std::fabs(analytic - d_half) <= tol::lab_central_difference(d_h, d_half, h, ops, loss + 1.0));
      // A gradient that is zero for the wrong reason (a group left out) would pass the
      // comparison only if the loss did not move either: it does.
      CHECK(std::fabs(d_half) > 1e-6);
    }
  }
}

TEST_CASE("lab: same seed, same run, bit for bit (reference)", "[lab]") {
  lab::config c = variant(false, false, 0.05);
  c.steps = 60;
  const auto a = run(c), b = run(c);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("step " << i);
    CHECK(a[i].loss == b[i].loss);
    CHECK(a[i].entropy == b[i].entropy);
    CHECK(a[i].grad_norm == b[i].grad_norm);
  }
}

TEST_CASE("lab: at a low rate every variant learns", "[lab]") {
  // lr 0.003: the first loss is near chance, ln 8 ~ 2.08; over seeds 1-20 every variant ends
  // below 0.023 (the unscaled one, at worst). We ask for a factor 10 (final < first / 10),
  // nine times short of the worst run.
  for (int v = 0; v < 3; ++v) {
    const auto s = run(variant(v != 0, v == 2, 0.003));
    INFO("variant " << v << " (0 unscaled, 1 scaled, 2 scaled+qk-layernorm): first loss " << s.front().loss
                    << ", final " << tail_mean(s, &lab::step_stats::loss));
    REQUIRE(s.size() == lab::config{}.steps);
    CHECK(tail_mean(s, &lab::step_stats::loss) < s.front().loss / 10);
  }
}

TEST_CASE("lab: at the high rate the unscaled model's entropy collapses and QK-layernorm's does not", "[lab]") {
  // lr 0.05 (docs/lab.md). Over seeds 1-20 (run by hand with attn_lab) the unscaled runs end
  // with entropy <= 0.019 nats and loss >= 1.69, the QK-layernorm runs with entropy >= 0.082
  // and loss <= 0.24 (0 in 18 of them). Claims with margin: the unscaled entropy is below a
  // quarter of QK-layernorm's (seen: 1/17 at worst, about 1/50 typically), and its loss ends
  // at least 1 nat higher (seen: 1.69 at worst). Two seeds keep the test short; the margins
  // are what let a reordered sum in a vectorised reference change the runs, not the verdict.
  for (std::uint64_t seed : {1, 2}) {
    lab::config u = variant(false, false, 0.05), n = variant(true, true, 0.05);
    u.seed = n.seed = seed;
    const auto su = run(u), sn = run(n);
    const double hu = tail_mean(su, &lab::step_stats::entropy), hn = tail_mean(sn, &lab::step_stats::entropy);
    const double lu = tail_mean(su, &lab::step_stats::loss), ln = tail_mean(sn, &lab::step_stats::loss);
    INFO("seed " << seed << ": unscaled entropy " << hu << ", loss " << lu << "; qk-layernorm entropy " << hn
                 << ", loss " << ln);
    CHECK(hu < hn / 4);
    CHECK(lu > ln + 1.0);
  }
}
