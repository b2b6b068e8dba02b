// The training lab: a one-head attention model trained with Adam on associative recall,
// written once for float (the course's functions, through an ops table) and double (the
// tests' finite-difference check, through a double table). See docs/lab.md.
//
// The projections and the read-out are plain loops (a few thousand multiply-adds per token);
// every attention computation (weights, output, backward, layer norm and its backward,
// entropy) goes through the table, so --impl decides whose code trains the model.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace attn::lab {

/// The attention functions the model calls, for one scalar type. Matrices are row-major.
template <class R>
struct ops {
  const char* name;
  void (*attention_weights)(const R* Q, const R* K, R* A, std::size_t n, std::size_t d, bool causal);
  void (*attention_output)(const R* A, const R* V, R* O, std::size_t n, std::size_t dv);
  void (*attention_backward)(const R* Q, const R* K, const R* V, const R* dO, bool causal, R* dQ,
                             R* dK, R* dV, std::size_t n, std::size_t d);
  void (*layer_norm)(const R* X, const R* gain, R* Y, std::size_t n, std::size_t d);
  void (*layer_norm_backward)(const R* X, const R* gain, const R* dY, R* dX, R* dgain, std::size_t n,
                              std::size_t d);
  R (*entropy)(const R* a, std::size_t n);
};

/// The float table of attn::ref (tools/lab/ops_reference.cpp).
const ops<float>& reference_ops();
/// The float table of the flavour this program was built with (solutions or exercises), or
/// nullptr (tools/lab/ops_flavour.cpp, built only when steps 11 and 12 exist).
const ops<float>* flavour_ops();

struct config {
  bool scaled = true;         // divide the scores by sqrt(d) (false: feed sqrt(d) Q)
  bool qk_layernorm = false;  // layer_norm on the rows of Q and K, learned gains
  double lr = 1e-2;
  std::size_t d = 16;
  std::size_t pairs = 24;     // (key, value) tokens
  std::size_t queries = 8;    // query tokens after them: n = pairs + queries
  std::size_t keys = 32;      // key vocabulary (>= pairs: keys in a sequence are distinct)
  std::size_t values = 8;     // value vocabulary: chance loss ln(values)
  std::size_t batch = 8;
  std::size_t steps = 600;
  double init_scale = 0.5;    // standard deviation of the embeddings
  std::uint64_t seed = 1;
  std::size_t n() const { return pairs + queries; }
};

inline void validate(const config& c) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("attn_lab: " + what); };
  if (c.d < 2) bad("--d must be at least 2, got " + std::to_string(c.d));
  if (c.pairs < 1) bad("--pairs must be at least 1");
  if (c.queries < 1 || c.queries > c.pairs) bad("--queries must be between 1 and --pairs (" + std::to_string(c.pairs) + "), got " + std::to_string(c.queries));
  if (c.keys < c.pairs) bad("--keys must be at least --pairs (keys in a sequence are distinct), got " + std::to_string(c.keys));
  if (c.values < 2) bad("--values must be at least 2");
  if (c.batch < 1) bad("--batch must be at least 1");
  if (!(c.lr > 0) || !std::isfinite(c.lr)) bad("--lr must be a positive number");
  if (!(c.init_scale > 0) || !std::isfinite(c.init_scale)) bad("--init-scale must be a positive number");
}

/// splitmix64: the same numbers on every platform (the standard distributions are not).
struct rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1p-53; }
  double normal() {  // Box-Muller
    const double a = uniform(), b = uniform();
    return std::sqrt(-2.0 * std::log(a)) * std::cos(6.283185307179586 * b);
  }
};

/// One batch of associative recall: token t of sequence b has key key[b][t] and value
/// val[b][t] (the value `values` means "no value": a query token); target[b][q] is the value
/// stored with query q's key.
struct batch_data {
  std::vector<std::vector<std::size_t>> key, val, target;
};

inline batch_data make_batch(const config& c, rng& r) {
  batch_data b;
  for (std::size_t s = 0; s < c.batch; ++s) {
    std::vector<std::size_t> perm(c.keys);
    for (std::size_t i = 0; i < c.keys; ++i) perm[i] = i;
    for (std::size_t i = 0; i < c.pairs; ++i) std::swap(perm[i], perm[i + r.below(c.keys - i)]);
    std::vector<std::size_t> key(c.n()), val(c.n()), target(c.queries), pick(c.pairs);
    for (std::size_t i = 0; i < c.pairs; ++i) {
      key[i] = perm[i];
      val[i] = r.below(c.values);
      pick[i] = i;
    }
    for (std::size_t q = 0; q < c.queries; ++q) {
      std::swap(pick[q], pick[q + r.below(c.pairs - q)]);
      key[c.pairs + q] = key[pick[q]];
      val[c.pairs + q] = c.values;
      target[q] = val[pick[q]];
    }
    b.key.push_back(key);
    b.val.push_back(val);
    b.target.push_back(target);
  }
  return b;
}

/// The parameter groups, in a fixed order (the CSV, the gradient check and Adam use it).
inline constexpr const char* group_names[] = {"E_key", "E_val", "W_Q", "W_K", "W_V", "W_out", "b_out", "gain_Q", "gain_K"};
inline constexpr std::size_t group_count = 9;

template <class R>
struct params {
  std::vector<R> g[group_count];
  static params zeros_like(const params& p) {
    params z;
    for (std::size_t i = 0; i < group_count; ++i) z.g[i].assign(p.g[i].size(), R(0));
    return z;
  }
};

template <class R>
params<R> init_params(const config& c, rng& r) {
  params<R> p;
  const std::size_t d = c.d;
  const std::size_t sizes[group_count] = {c.keys * d, (c.values + 1) * d, d * d, d * d, d * d, d * c.values, c.values, d, d};
  for (std::size_t i = 0; i < group_count; ++i) p.g[i].assign(sizes[i], R(0));
  for (auto& x : p.g[0]) x = static_cast<R>(c.init_scale * r.normal());
  for (auto& x : p.g[1]) x = static_cast<R>(c.init_scale * r.normal());
  const double w = 1.0 / std::sqrt(static_cast<double>(d));  // keeps row norms of Q, K, V near the embeddings'
  for (std::size_t i = 2; i <= 5; ++i)
    for (auto& x : p.g[i]) x = static_cast<R>(w * r.normal());
  for (auto& x : p.g[7]) x = R(1);
  for (auto& x : p.g[8]) x = R(1);
  return p;
}

struct step_stats {
  double loss = 0, entropy = 0, max_score = 0, grad_norm = 0;
};

// Y (n x m) = X (n x k) W (k x m), or += when `add`.
template <class R>
void matmul(const R* X, const R* W, R* Y, std::size_t n, std::size_t k, std::size_t m, bool add = false) {
  for (std::size_t i = 0; i < n; ++i) {
    R* y = Y + i * m;
    if (!add) std::fill(y, y + m, R(0));
    for (std::size_t t = 0; t < k; ++t) {
      const R x = X[i * k + t];
      const R* w = W + t * m;
      for (std::size_t j = 0; j < m; ++j) y[j] += x * w[j];
    }
  }
}

/// The loss of a batch (mean cross-entropy over its query tokens) and, when `grad` is not
/// null, its gradient with respect to every parameter (written, not added to).
template <class R>
step_stats loss_and_grad(const config& c, const ops<R>& f, const params<R>& p, const batch_data& b,
                         params<R>* grad) {
  const std::size_t n = c.n(), d = c.d, nv = c.values;
  const R cs = c.scaled ? R(1) : static_cast<R>(std::sqrt(static_cast<double>(d)));
  const R inv_sqrt_d = R(1) / static_cast<R>(std::sqrt(static_cast<double>(d)));
  std::vector<R> X(n * d), Qr(n * d), Kr(n * d), V(n * d), Qn(n * d), Kn(n * d), Qs(n * d), A(n * n),
      O(n * d), dO(n * d), dQs(n * d), dKn(n * d), dV(n * d), dQr(n * d), dKr(n * d), dX(n * d), dg(d),
      logits(nv);
  if (grad) *grad = params<R>::zeros_like(p);
  step_stats st;
  double loss = 0, ent = 0, smax = 0;
  const double scale = 1.0 / static_cast<double>(c.batch * c.queries);
  for (std::size_t s = 0; s < c.batch; ++s) {
    for (std::size_t t = 0; t < n; ++t)
      for (std::size_t j = 0; j < d; ++j)
        X[t * d + j] = p.g[0][b.key[s][t] * d + j] + p.g[1][b.val[s][t] * d + j];
    matmul(X.data(), p.g[2].data(), Qr.data(), n, d, d);
    matmul(X.data(), p.g[3].data(), Kr.data(), n, d, d);
    matmul(X.data(), p.g[4].data(), V.data(), n, d, d);
    if (c.qk_layernorm) {
      f.layer_norm(Qr.data(), p.g[7].data(), Qn.data(), n, d);
      f.layer_norm(Kr.data(), p.g[8].data(), Kn.data(), n, d);
    } else {
      Qn = Qr;
      Kn = Kr;
    }
    for (std::size_t i = 0; i < n * d; ++i) Qs[i] = cs * Qn[i];
    f.attention_weights(Qs.data(), Kn.data(), A.data(), n, d, true);
    f.attention_output(A.data(), V.data(), O.data(), n, d);
    std::fill(dO.begin(), dO.end(), R(0));
    for (std::size_t q = 0; q < c.queries; ++q) {
      const std::size_t i = c.pairs + q;
      ent += static_cast<double>(f.entropy(A.data() + i * n, i + 1));
      for (std::size_t j = 0; j <= i; ++j) {
        R sc = 0;
        for (std::size_t t = 0; t < d; ++t) sc += Qs[i * d + t] * Kn[j * d + t];
        smax = std::max(smax, std::fabs(static_cast<double>(sc * inv_sqrt_d)));
      }
      matmul(O.data() + i * d, p.g[5].data(), logits.data(), 1, d, nv);
      R mx = -std::numeric_limits<R>::infinity();
      for (std::size_t v = 0; v < nv; ++v) {
        logits[v] += p.g[6][v];
        mx = std::max(mx, logits[v]);
      }
      R z = 0;
      for (std::size_t v = 0; v < nv; ++v) z += std::exp(logits[v] - mx);
      const std::size_t y = b.target[s][q];
      loss += static_cast<double>(std::log(z) + mx - logits[y]);
      if (!grad) continue;
      for (std::size_t v = 0; v < nv; ++v) {  // dlogits = (softmax - onehot) / (B Q)
        const R g = static_cast<R>((static_cast<double>(std::exp(logits[v] - mx) / z) - (v == y ? 1.0 : 0.0)) * scale);
        grad->g[6][v] += g;
        for (std::size_t t = 0; t < d; ++t) {
          grad->g[5][t * nv + v] += O[i * d + t] * g;
          dO[i * d + t] += p.g[5][t * nv + v] * g;
        }
      }
    }
    if (!grad) continue;
    f.attention_backward(Qs.data(), Kn.data(), V.data(), dO.data(), true, dQs.data(), dKn.data(), dV.data(), n, d);
    for (std::size_t i = 0; i < n * d; ++i) dQs[i] *= cs;  // through Qs = cs Qn
    if (c.qk_layernorm) {
      f.layer_norm_backward(Qr.data(), p.g[7].data(), dQs.data(), dQr.data(), dg.data(), n, d);
      for (std::size_t t = 0; t < d; ++t) grad->g[7][t] += dg[t];
      f.layer_norm_backward(Kr.data(), p.g[8].data(), dKn.data(), dKr.data(), dg.data(), n, d);
      for (std::size_t t = 0; t < d; ++t) grad->g[8][t] += dg[t];
    } else {
      dQr = dQs;
      dKr = dKn;
    }
    // dW = X^T dY; dX = dY W^T, for the three projections.
    std::fill(dX.begin(), dX.end(), R(0));
    const std::vector<R>* dY[3] = {&dQr, &dKr, &dV};
    for (std::size_t w = 0; w < 3; ++w) {
      const R* W = p.g[2 + w].data();
      R* dW = grad->g[2 + w].data();
      const R* G = dY[w]->data();
      for (std::size_t t = 0; t < n; ++t)
        for (std::size_t a = 0; a < d; ++a) {
          R acc = 0;
          const R xa = X[t * d + a];
          for (std::size_t o = 0; o < d; ++o) {
            dW[a * d + o] += xa * G[t * d + o];
            acc += G[t * d + o] * W[a * d + o];
          }
          dX[t * d + a] += acc;
        }
    }
    for (std::size_t t = 0; t < n; ++t)
      for (std::size_t j = 0; j < d; ++j) {
        grad->g[0][b.key[s][t] * d + j] += dX[t * d + j];
        grad->g[1][b.val[s][t] * d + j] += dX[t * d + j];
      }
  }
  if (grad && !c.qk_layernorm) {  // the gains are not used
    std::fill(grad->g[7].begin(), grad->g[7].end(), R(0));
    std::fill(grad->g[8].begin(), grad->g[8].end(), R(0));
  }
  st.loss = loss * scale;
  st.entropy = ent / static_cast<double>(c.batch * c.queries);
  st.max_score = smax;
  if (grad) {
    double g2 = 0;
    for (auto& g : grad->g)
      for (R x : g) g2 += static_cast<double>(x) * static_cast<double>(x);
    st.grad_norm = std::sqrt(g2);
  }
  return st;
}

/// Adam (Kingma and Ba), beta1 0.9, beta2 0.999, epsilon 1e-8, no weight decay, no warm-up,
/// no clipping: the setting in which attention logits grow.
template <class R>
struct adam {
  params<R> m, v;
  std::size_t t = 0;
  explicit adam(const params<R>& p) : m(params<R>::zeros_like(p)), v(params<R>::zeros_like(p)) {}
  void update(params<R>& p, const params<R>& g, double lr) {
    ++t;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double c1 = 1.0 - std::pow(b1, static_cast<double>(t)), c2 = 1.0 - std::pow(b2, static_cast<double>(t));
    for (std::size_t k = 0; k < group_count; ++k)
      for (std::size_t i = 0; i < p.g[k].size(); ++i) {
        const double gi = static_cast<double>(g.g[k][i]);
        const double mi = b1 * static_cast<double>(m.g[k][i]) + (1 - b1) * gi;
        const double vi = b2 * static_cast<double>(v.g[k][i]) + (1 - b2) * gi * gi;
        m.g[k][i] = static_cast<R>(mi);
        v.g[k][i] = static_cast<R>(vi);
        p.g[k][i] = static_cast<R>(static_cast<double>(p.g[k][i]) - lr * (mi / c1) / (std::sqrt(vi / c2) + eps));
      }
  }
};

/// Trains for c.steps steps; `on_step(step, stats)` after each (the stats of the batch before
/// the update). Stops early when the loss is no longer finite.
template <class R, class F>
std::vector<step_stats> train(const config& c, const ops<R>& f, F&& on_step) {
  validate(c);
  rng r{c.seed};
  params<R> p = init_params<R>(c, r);
  params<R> g = params<R>::zeros_like(p);
  adam<R> opt(p);
  std::vector<step_stats> out;
  for (std::size_t step = 0; step < c.steps; ++step) {
    const batch_data b = make_batch(c, r);
    const step_stats st = loss_and_grad(c, f, p, b, &g);
    out.push_back(st);
    on_step(step, st);
    if (!std::isfinite(st.loss)) break;
    opt.update(p, g, c.lr);
  }
  return out;
}

}  // namespace attn::lab
