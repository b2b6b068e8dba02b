// Step 12 (extension): QK-layernorm, attn::layer_norm and attn::layer_norm_backward.
// Checked against a double-precision oracle written here (the formulas of the contract,
// evaluated in double), against central differences of the forward pass for the backward
// one, on the properties that follow from the math (mean 0, mean square sigma^2 / (sigma^2 +
// eps), invariance to a shift and to a scale, dx summing to 0, the score bound of
// QK-layernorm), on rows whose condition is poor on purpose (a large offset against the
// spread, near-constant rows where eps dominates), and on special values. Tolerances from
// tolerances.hpp (tol::layer_norm*), which derives them from the condition of each row.
#include <attn/attn.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/tolerances.hpp"

namespace {

namespace tol = attn::test::tol;
using attn::test::inputs;
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr double kEps = static_cast<double>(attn::layer_norm_epsilon);

/// One row normalised in double: xhat, r = 1 / sqrt(sigma^2 + eps), the condition kappa =
/// max |x_t| r and max |xhat_t|.
struct row_oracle {
  std::vector<double> xhat;
  double sigma2 = 0.0, r = 0.0, kappa = 0.0, xhat_max = 0.0;
};

row_oracle normalise(std::span<const float> x) {
  row_oracle o;
  const double d = static_cast<double>(x.size());
  double mu = 0.0;
  for (float v : x) mu += v;
  mu /= d;
  for (float v : x) o.sigma2 += (v - mu) * (v - mu);
  o.sigma2 /= d;
  o.r = 1.0 / std::sqrt(o.sigma2 + kEps);
  double x_max = 0.0;
  for (float v : x) {
    o.xhat.push_back((v - mu) * o.r);
    x_max = std::max(x_max, std::fabs(static_cast<double>(v)));
    o.xhat_max = std::max(o.xhat_max, std::fabs(o.xhat.back()));
  }
  o.kappa = x_max * o.r;
  return o;
}

/// A bound for an element whose expected value is NaN must not be NaN itself.
double finite_or_zero(double b) { return std::isnan(b) ? 0.0 : b; }

/// The forward pass in double, with the bound of every element (tol::layer_norm).
struct forward_oracle {
  std::vector<double> y, bound;
};

forward_oracle forward(attn::const_matrix_view X, std::span<const float> gain, int implementations = 2) {
  forward_oracle f;
  for (std::size_t i = 0; i < X.rows; ++i) {
    const row_oracle o = normalise(X.row(i));
    for (std::size_t t = 0; t < X.cols; ++t) {
      f.y.push_back(gain[t] * o.xhat[t]);
      f.bound.push_back(
          finite_or_zero(tol::layer_norm(gain[t], o.xhat[t], X.cols, o.kappa, o.xhat_max, implementations)));
    }
  }
  return f;
}

/// The backward pass in double, with bounds (tol::layer_norm_dx, tol::layer_norm_dgain).
struct backward_oracle {
  std::vector<double> dx, dx_bound, dgain, dgain_bound;
};

backward_oracle backward(attn::const_matrix_view X, std::span<const float> gain, attn::const_matrix_view dY,
                         int implementations = 2) {
  const std::size_t d = X.cols;
  backward_oracle b;
  b.dgain.assign(d, 0.0);
  std::vector<double> dy_delta(d, 0.0), dy_xhat(d, 0.0);
  for (std::size_t i = 0; i < X.rows; ++i) {
    const row_oracle o = normalise(X.row(i));
    std::vector<double> g(d);
    double g_mean = 0.0, gx_mean = 0.0, g_max = 0.0;
    for (std::size_t t = 0; t < d; ++t) {
      g[t] = static_cast<double>(gain[t]) * dY(i, t);
      g_mean += g[t];
      gx_mean += g[t] * o.xhat[t];
      g_max = std::max(g_max, std::fabs(g[t]));
      b.dgain[t] += dY(i, t) * o.xhat[t];
      dy_delta[t] += std::fabs(dY(i, t)) * tol::layer_norm_xhat(d, o.kappa, o.xhat_max);
      dy_xhat[t] += std::fabs(dY(i, t) * o.xhat[t]);
    }
    g_mean /= static_cast<double>(d);
    gx_mean /= static_cast<double>(d);
    for (std::size_t t = 0; t < d; ++t) {
      b.dx.push_back(o.r * (g[t] - g_mean - o.xhat[t] * gx_mean));
      b.dx_bound.push_back(
          finite_or_zero(tol::layer_norm_dx(o.xhat[t], o.r, g_max, d, o.kappa, o.xhat_max, implementations)));
    }
  }
  for (std::size_t t = 0; t < d; ++t) {
    b.dgain_bound.push_back(finite_or_zero(tol::layer_norm_dgain(dy_delta[t], dy_xhat[t], X.rows, implementations)));
  }
  return b;
}

std::string where(std::size_t n, std::size_t d) { return ", " + attn::test::shape(n, d); }

/// Checks layer_norm and layer_norm_backward on X against the oracle (one implementation
/// against the exact values: implementations = 1).
void check_against_oracle(const std::string& what, const attn::matrix& X, const std::vector<float>& gain,
                          const attn::matrix& dY) {
  const std::size_t n = X.rows(), d = X.cols();
  attn::matrix Y(n, d), dX(n, d);
  std::fill(Y.elements().begin(), Y.elements().end(), qnan);
  std::fill(dX.elements().begin(), dX.elements().end(), qnan);
  std::vector<float> dgain(d, qnan);
  attn::layer_norm(X, gain, Y);
  const forward_oracle f = forward(X, gain, 1);
  ATTN_CHECK_ALL_CLOSE("layer_norm, " + what + where(n, d), f.y, Y, f.bound, inputs().add("X", X).add("gain", gain));
  attn::layer_norm_backward(X, gain, dY, dX, dgain);
  const backward_oracle b = backward(X, gain, dY, 1);
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dX, " + what + where(n, d), b.dx, dX, b.dx_bound,
                       inputs().add("X", X).add("gain", gain).add("dY", dY));
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dgain, " + what + where(n, d), b.dgain, dgain, b.dgain_bound,
                       inputs().add("X", X).add("gain", gain).add("dY", dY));
}

}  // namespace

TEST_CASE("the worked example: x = [1, 2, 3, 6] gives xhat = [-1.0690, -0.5345, 0, 1.6036]", "[step12][card]") {
  // mu = 3, x - mu = [-2, -1, 0, 3], sigma^2 = 14 / 4 = 3.5, sqrt(3.5 + eps) = 1.8708.
  const attn::matrix X{{1.0f, 2.0f, 3.0f, 6.0f}};
  const std::vector<float> gain(4, 1.0f);
  attn::matrix Y(1, 4);
  attn::layer_norm(X, gain, Y);
  ATTN_CHECK_ALL_CLOSE("layer_norm of [1, 2, 3, 6] (the values the docs quote)",
                       (std::initializer_list<double>{-1.0690, -0.5345, 0.0, 1.6036}), Y, tol::card(4),
                       inputs().add("X", X));
  ATTN_CHECK_CLOSE("1 / y_1 = -sqrt(sigma^2 + eps) (the value the docs quote)", -1.8708, 1.0 / Y(0, 1),
                   tol::card(4), inputs().add("X", X));
  // Backward with dy = [1, 0, 0, 0]: g = dy, mean(g) = 1/4, mean(g xhat) = xhat_0 / 4.
  const attn::matrix dY{{1.0f, 0.0f, 0.0f, 0.0f}};
  attn::matrix dX(1, 4);
  std::vector<float> dgain(4, qnan);
  attn::layer_norm_backward(X, gain, dY, dX, dgain);
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dX for dy = [1, 0, 0, 0] (the values the docs quote)",
                       (std::initializer_list<double>{0.2482, -0.2100, -0.1336, 0.0954}), dX, tol::card(4),
                       inputs().add("X", X).add("dY", dY));
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dgain for dy = [1, 0, 0, 0] (the values the docs quote)",
                       (std::initializer_list<double>{-1.0690, 0.0, 0.0, 0.0}), dgain, tol::card(4),
                       inputs().add("X", X).add("dY", dY));
  // And within rounding of the exact values.
  check_against_oracle("the worked example", X, gain, dY);
}

TEST_CASE("layer_norm and its backward match the double oracle for every shape", "[step12][property]") {
  auto gen = attn::test::rng(1201);
  for (const std::size_t d : attn::test::small_tail_sizes()) {
    for (const std::size_t n : {1u, 2u, 5u}) {
      const attn::matrix X = attn::test::gaussian_matrix(gen, n, d);
      const std::vector<float> gain = attn::test::uniform_row(gen, d, -2.0f, 2.0f);
      const attn::matrix dY = attn::test::uniform_matrix(gen, n, d, -1.0f, 1.0f);
      check_against_oracle("gaussian rows", X, gain, dY);
    }
  }
  for (const std::size_t d : {64u, 128u, 257u}) {
    const attn::matrix X = attn::test::uniform_matrix(gen, 3, d, -4.0f, 4.0f);
    const std::vector<float> gain = attn::test::uniform_row(gen, d, 0.5f, 2.0f);
    const attn::matrix dY = attn::test::gaussian_matrix(gen, 3, d);
    check_against_oracle("uniform rows", X, gain, dY);
  }
}

TEST_CASE("rows far from 0 against their spread: two passes, not mean(x^2) - mu^2", "[step12][property]") {
  // x = c + N(0, 1) with c = 100 and 1000: kappa = max|x| r is about c, and the bounds grow
  // with it. mean(x^2) - mu^2 cancels c^2 against c^2 and errs by about d u c^2 instead.
  auto gen = attn::test::rng(1202);
  for (const float offset : {100.0f, -1000.0f}) {
    for (const std::size_t d : {8u, 33u, 64u}) {
      attn::matrix X = attn::test::gaussian_matrix(gen, 2, d);
      for (float& x : X.elements()) x += offset;
      const std::vector<float> gain = attn::test::uniform_row(gen, d, 0.5f, 1.5f);
      const attn::matrix dY = attn::test::uniform_matrix(gen, 2, d, -1.0f, 1.0f);
      check_against_oracle("rows around " + attn::test::fmt(offset), X, gain, dY);
    }
  }
}

TEST_CASE("near-constant rows, where eps dominates sigma^2: eps inside the square root", "[step12][property]") {
  // sigma about 3e-4 and 1e-3: sigma^2 is 1e-7 to 1e-6, below eps = 1e-5, so r is close to
  // 1 / sqrt(eps) and y stays small (|y| < 1). Without eps, or with 1 / (sigma + eps), r is
  // about 1 / sigma and y is of size 1.
  auto gen = attn::test::rng(1203);
  for (const float spread : {3e-4f, 1e-3f}) {
    for (const std::size_t d : {4u, 16u, 31u}) {
      attn::matrix X(3, d);
      for (std::size_t i = 0; i < 3; ++i) {
        const std::vector<float> noise = attn::test::gaussian_row(gen, d, spread);
        for (std::size_t t = 0; t < d; ++t) X(i, t) = static_cast<float>(i) - 1.0f + noise[t];  // -1, 0, 1 + noise
      }
      const std::vector<float> gain = attn::test::uniform_row(gen, d, 0.5f, 2.0f);
      const attn::matrix dY = attn::test::uniform_matrix(gen, 3, d, -1.0f, 1.0f);
      check_against_oracle("near-constant rows, spread " + attn::test::fmt(spread), X, gain, dY);
    }
  }
}

TEST_CASE("the backward pass matches central differences of the forward pass", "[step12][property]") {
  // f(X, gamma) = sum_it W_it y_it, in double; dY = W. dX against (f(x + h e_j) - f(x - h e_j))
  // / 2h (tol::layer_norm_central_difference) and dgain against the same in gamma, where f is
  // linear (no truncation error, only rounding).
  auto gen = attn::test::rng(1204);
  const double h = 0x1p-12;
  for (const std::size_t d : {1u, 2u, 3u, 5u, 8u, 17u}) {
    const std::size_t n = 3;
    const attn::matrix X = attn::test::gaussian_matrix(gen, n, d);
    const std::vector<float> gain = attn::test::uniform_row(gen, d, -2.0f, 2.0f);
    const attn::matrix W = attn::test::uniform_matrix(gen, n, d, -1.0f, 1.0f);
    attn::matrix dX(n, d);
    std::vector<float> dgain(d, qnan);
    attn::layer_norm_backward(X, gain, W, dX, dgain);
    const backward_oracle rounding = backward(X, gain, W, 1);
    // f of one row x (double) with gain gamma (double), weights W(i, .).
    const auto f_row = [&](const std::vector<double>& x, const std::vector<double>& gamma, std::size_t i) {
      double mu = 0.0, var = 0.0;
      for (double v : x) mu += v;
      mu /= static_cast<double>(d);
      for (double v : x) var += (v - mu) * (v - mu);
      var /= static_cast<double>(d);
      const double r = 1.0 / std::sqrt(var + kEps);
      double s = 0.0;
      for (std::size_t t = 0; t < d; ++t) s += W(i, t) * gamma[t] * (x[t] - mu) * r;
      return s;
    };
    const std::vector<double> gamma(gain.begin(), gain.end());
    std::vector<double> fd, bounds;
    std::vector<double> fd_gain(d, 0.0), bounds_gain(d, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const row_oracle o = normalise(X.row(i));
      const std::vector<double> x(X.row(i).begin(), X.row(i).end());
      double sum_abs_wg = 0.0, s = 0.0;
      for (std::size_t t = 0; t < d; ++t) {
        sum_abs_wg += std::fabs(W(i, t) * gamma[t]);
        s += std::fabs(W(i, t) * gamma[t]) * (1.0 + std::fabs(o.xhat[t]));
      }
      const double sigma_low = std::max(0.0, std::sqrt(o.sigma2) - h);
      const double r_segment = 1.0 / std::sqrt(sigma_low * sigma_low + kEps);
      for (std::size_t j = 0; j < d; ++j) {
        std::vector<double> up = x, down = x;
        up[j] += h;
        down[j] -= h;
        fd.push_back((f_row(up, gamma, i) - f_row(down, gamma, i)) / (2 * h));
        bounds.push_back(rounding.dx_bound[i * d + j] +
                         tol::layer_norm_central_difference(h, r_segment, sum_abs_wg, s, d, o.r, x[j]));
        std::vector<double> g_up = gamma, g_down = gamma;
        g_up[j] += h;
        g_down[j] -= h;
        fd_gain[j] += (f_row(x, g_up, i) - f_row(x, g_down, i)) / (2 * h);
        bounds_gain[j] += tol::layer_norm_central_difference(h, 0.0, 0.0, s + std::fabs(W(i, j)) * o.xhat_max, d,
                                                             o.r, gamma[j]);
      }
    }
    for (std::size_t j = 0; j < d; ++j) bounds_gain[j] += rounding.dgain_bound[j];
    ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dX vs central differences, d = " + std::to_string(d), fd, dX, bounds,
                         inputs().add("X", X).add("gain", gain).add("dY", W));
    ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dgain vs central differences, d = " + std::to_string(d), fd_gain,
                         dgain, bounds_gain, inputs().add("X", X).add("gain", gain).add("dY", W));
  }
}

TEST_CASE("with gamma = 1 each output row has mean 0 and mean square sigma^2 / (sigma^2 + eps)",
          "[step12][property]") {
  auto gen = attn::test::rng(1205);
  for (const std::size_t d : {2u, 3u, 7u, 16u, 65u}) {
    attn::matrix X = attn::test::uniform_matrix(gen, 4, d, -3.0f, 3.0f);
    for (std::size_t t = 0; t < d; ++t) X(3, t) = 1.0f + 1e-3f * static_cast<float>(t % 3);  // sigma^2 < eps
    const std::vector<float> gain(d, 1.0f);
    attn::matrix Y(4, d);
    attn::layer_norm(X, gain, Y);
    for (std::size_t i = 0; i < 4; ++i) {
      const row_oracle o = normalise(X.row(i));
      const double delta = tol::layer_norm(1.0, o.xhat_max, d, o.kappa, o.xhat_max, 1);  // every element's bound
      double mean = 0.0, square = 0.0;
      for (std::size_t t = 0; t < d; ++t) {
        mean += Y(i, t);
        square += static_cast<double>(Y(i, t)) * Y(i, t);
      }
      mean /= static_cast<double>(d);
      square /= static_cast<double>(d);
      const std::string at = "row " + std::to_string(i) + where(4, d);
      ATTN_CHECK_CLOSE("mean of a layer_norm row (0), " + at, 0.0, mean, delta, inputs().add("x", X.row(i)));
      // |y^2 - xhat^2| <= (2 |xhat| + delta) delta, averaged.
      ATTN_CHECK_CLOSE("mean square of a layer_norm row (sigma^2 / (sigma^2 + eps)), " + at, o.sigma2 * o.r * o.r,
                       square, (2.0 * o.xhat_max + delta) * delta, inputs().add("x", X.row(i)));
    }
  }
}

TEST_CASE("adding a constant to a row changes nothing; scaling it by c > 0 changes only eps's share",
          "[step12][property]") {
  // Rows on a 1/16 grid: x + 3 and 3 x are exact in float, so the only difference in exact
  // arithmetic is eps: xhat(c x) = xhat(x) sqrt(sigma^2 + eps) / sqrt(sigma^2 + eps / c^2).
  auto gen = attn::test::rng(1206);
  for (const std::size_t d : {2u, 5u, 16u, 33u}) {
    attn::matrix X(2, d);
    for (std::size_t i = 0; i < 2; ++i) {
      const std::vector<float> row = attn::test::grid_row(gen, d, -4, 4);
      std::copy(row.begin(), row.end(), X.row(i).begin());
    }
    const std::vector<float> gain = attn::test::uniform_row(gen, d, -2.0f, 2.0f);
    attn::matrix shifted = X, scaled = X, Y_shifted(2, d), Y_scaled(2, d);
    for (float& x : shifted.elements()) x += 3.0f;
    for (float& x : scaled.elements()) x *= 3.0f;
    attn::layer_norm(shifted, gain, Y_shifted);
    attn::layer_norm(scaled, gain, Y_scaled);
    const forward_oracle f = forward(X, gain, 1);
    std::vector<double> shift_bounds, scale_expected, scale_bounds;
    for (std::size_t i = 0; i < 2; ++i) {
      const row_oracle o = normalise(X.row(i)), s = normalise(shifted.row(i)), c = normalise(scaled.row(i));
      const double factor = std::sqrt((o.sigma2 + kEps) / (o.sigma2 + kEps / 9.0));
      for (std::size_t t = 0; t < d; ++t) {
        shift_bounds.push_back(tol::layer_norm(gain[t], s.xhat[t], d, s.kappa, s.xhat_max, 1));
        scale_expected.push_back(f.y[i * d + t] * factor);
        scale_bounds.push_back(tol::layer_norm(gain[t], c.xhat[t], d, c.kappa, c.xhat_max, 1));
      }
    }
    ATTN_CHECK_ALL_CLOSE("layer_norm(X + 3) against layer_norm(X) in exact arithmetic" + where(2, d), f.y, Y_shifted,
                         shift_bounds, inputs().add("X", X).add("gain", gain));
    ATTN_CHECK_ALL_CLOSE("layer_norm(3 X) against layer_norm(X) sqrt((sigma^2 + eps) / (sigma^2 + eps / 9))" +
                             where(2, d),
                         scale_expected, Y_scaled, scale_bounds, inputs().add("X", X).add("gain", gain));
  }
}

TEST_CASE("dX sums to 0 along each row, and with gamma = 1 is orthogonal to xhat up to eps", "[step12][property]") {
  // sum_t dx_t = r (sum g - d mean(g) - mean(g xhat) sum xhat) = 0, as sum xhat = 0. And
  // sum_t dx_t xhat_t = r d mean(g xhat) (1 - sigma^2 r^2) = eps r^3 sum_t g_t xhat_t: 0 but
  // for eps (moving x along xhat only rescales it, which the normalisation takes back).
  auto gen = attn::test::rng(1207);
  for (const std::size_t d : {2u, 3u, 9u, 64u, 129u}) {
    const attn::matrix X = attn::test::gaussian_matrix(gen, 3, d);
    const std::vector<float> gain(d, 1.0f);
    const attn::matrix dY = attn::test::uniform_matrix(gen, 3, d, -1.0f, 1.0f);
    attn::matrix dX(3, d);
    std::vector<float> dgain(d);
    attn::layer_norm_backward(X, gain, dY, dX, dgain);
    const backward_oracle b = backward(X, gain, dY, 1);
    for (std::size_t i = 0; i < 3; ++i) {
      const row_oracle o = normalise(X.row(i));
      double sum = 0.0, along = 0.0, bound = 0.0, bound_along = 0.0, g_xhat = 0.0;
      for (std::size_t t = 0; t < d; ++t) {
        sum += dX(i, t);
        along += dX(i, t) * o.xhat[t];
        bound += b.dx_bound[i * d + t];
        bound_along += b.dx_bound[i * d + t] * std::fabs(o.xhat[t]);
        g_xhat += dY(i, t) * o.xhat[t];
      }
      const std::string at = "row " + std::to_string(i) + where(3, d);
      ATTN_CHECK_CLOSE("sum of a layer_norm_backward row of dX (0), " + at, 0.0, sum, bound,
                       inputs().add("x", X.row(i)).add("dy", dY.row(i)));
      ATTN_CHECK_CLOSE("<dx, xhat> of a layer_norm_backward row (eps r^3 <g, xhat>), " + at,
                       kEps * o.r * o.r * o.r * g_xhat, along, bound_along,
                       inputs().add("x", X.row(i)).add("dy", dY.row(i)));
    }
  }
}

TEST_CASE("QK-layernorm bounds every score by max|gamma_Q| max|gamma_K| sqrt(d), however large Q and K",
          "[step12][property]") {
  // |<y_q, y_k>| / sqrt(d) <= |y_q| |y_k| / sqrt(d) (Cauchy-Schwarz), and |y| <= max|gamma|
  // |xhat| <= max|gamma| sqrt(d): so |s| <= max|gamma_Q| max|gamma_K| d / sqrt(d). The
  // computed rows may exceed |xhat| by sqrt(d) times the largest element bound.
  auto gen = attn::test::rng(1208);
  for (const std::size_t d : {4u, 16u, 64u}) {
    attn::matrix Q = attn::test::gaussian_matrix(gen, 6, d), K = attn::test::gaussian_matrix(gen, 7, d);
    for (float& x : Q.elements()) x *= 1000.0f;  // weights that have grown: raw scores in the thousands
    for (float& x : K.elements()) x *= 1000.0f;
    const std::vector<float> gain_q = attn::test::uniform_row(gen, d, -1.5f, 1.5f);
    const std::vector<float> gain_k = attn::test::uniform_row(gen, d, -1.5f, 1.5f);
    attn::matrix Yq(6, d), Yk(7, d);
    attn::layer_norm(Q, gain_q, Yq);
    attn::layer_norm(K, gain_k, Yk);
    const auto max_abs = [](const std::vector<float>& v) {
      double m = 0.0;
      for (float x : v) m = std::max(m, std::fabs(static_cast<double>(x)));
      return m;
    };
    const auto worst = [&](const forward_oracle& f) { return *std::max_element(f.bound.begin(), f.bound.end()); };
    const double root = std::sqrt(static_cast<double>(d));
    const double norm_q = max_abs(gain_q) * root + root * worst(forward(Q, gain_q, 1));
    const double norm_k = max_abs(gain_k) * root + root * worst(forward(K, gain_k, 1));
    const double bound = norm_q * norm_k / root;
    double largest = 0.0, largest_raw = 0.0;
    for (std::size_t i = 0; i < 6; ++i) {
      for (std::size_t j = 0; j < 7; ++j) {
        double s = 0.0, raw = 0.0;
        for (std::size_t t = 0; t < d; ++t) {
          s += static_cast<double>(Yq(i, t)) * Yk(j, t);
          raw += static_cast<double>(Q(i, t)) * K(j, t);
        }
        largest = std::max(largest, std::fabs(s / root));
        largest_raw = std::max(largest_raw, std::fabs(raw / root));
      }
    }
    INFO("d = " << d << ": largest normalised score " << largest << ", bound " << bound
                << ", largest raw score " << largest_raw);
    CHECK(largest <= bound);
    CHECK(largest_raw > bound);  // the inputs are of the kind the bound is for
  }
}

TEST_CASE("dgain is written, not added to", "[step12][property]") {
  auto gen = attn::test::rng(1209);
  const attn::matrix X = attn::test::gaussian_matrix(gen, 4, 6), dY = attn::test::gaussian_matrix(gen, 4, 6);
  const std::vector<float> gain = attn::test::uniform_row(gen, 6, 0.5f, 1.5f);
  const backward_oracle b = backward(X, gain, dY, 1);
  attn::matrix dX(4, 6);
  std::vector<float> dgain(6, 7.0f);  // stale values that must not survive
  attn::layer_norm_backward(X, gain, dY, dX, dgain);
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dgain over a buffer holding 7", b.dgain, dgain, b.dgain_bound,
                       inputs().add("X", X).add("dY", dY));
  attn::layer_norm_backward(X, gain, dY, dX, dgain);  // twice over the same buffer
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dgain after a second call on the same buffer", b.dgain, dgain,
                       b.dgain_bound, inputs().add("X", X).add("dY", dY));
}

TEST_CASE("a NaN in a row of X makes that row NaN, and only that row", "[step12][special]") {
  auto gen = attn::test::rng(1210);
  attn::matrix X = attn::test::gaussian_matrix(gen, 3, 5);
  X(1, 2) = qnan;
  const std::vector<float> gain = attn::test::uniform_row(gen, 5, 0.5f, 1.5f);
  attn::matrix Y(3, 5);
  attn::layer_norm(X, gain, Y);
  const forward_oracle f = forward(X, gain, 1);  // NaN in row 1 only
  ATTN_CHECK_ALL_CLOSE("layer_norm with a NaN in row 1 (row 1 NaN, the others normal)", f.y, Y, f.bound,
                       inputs().add("X", X));
  // The backward: row 1 of dX is NaN, and so is every dgain (each sums row 1's xhat).
  const attn::matrix dY = attn::test::uniform_matrix(gen, 3, 5, -1.0f, 1.0f);
  attn::matrix dX(3, 5);
  std::vector<float> dgain(5);
  attn::layer_norm_backward(X, gain, dY, dX, dgain);
  const backward_oracle b = backward(X, gain, dY, 1);
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dX with a NaN in row 1 of X", b.dx, dX, b.dx_bound,
                       inputs().add("X", X));
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dgain with a NaN in row 1 of X (all NaN)", b.dgain, dgain, b.dgain_bound,
                       inputs().add("X", X));
  // A NaN in dY(2, 3): g of row 2 has a NaN, so mean(g) is NaN and row 2 of dX is NaN; dgain_3
  // sums dy_23 xhat_23 and is NaN, the other dgain stay finite.
  const attn::matrix X2 = attn::test::gaussian_matrix(gen, 3, 5);
  attn::matrix dY2 = dY;
  dY2(2, 3) = qnan;
  attn::layer_norm_backward(X2, gain, dY2, dX, dgain);
  const backward_oracle b2 = backward(X2, gain, dY2, 1);
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dX with a NaN in dY(2, 3) (row 2 NaN)", b2.dx, dX, b2.dx_bound,
                       inputs().add("X", X2).add("dY", dY2));
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dgain with a NaN in dY(2, 3) (dgain_3 NaN)", b2.dgain, dgain,
                       b2.dgain_bound, inputs().add("X", X2).add("dY", dY2));
}

TEST_CASE("a constant row gives y = 0 and a finite dx; d = 1 gives 0 everywhere", "[step12][special]") {
  // sigma^2 = 0: xhat = 0 / sqrt(eps) = 0 (without eps, 0 / 0 = NaN), and dx = r (g - mean(g))
  // with r = 1 / sqrt(eps).
  attn::matrix X(3, 4);
  for (std::size_t t = 0; t < 4; ++t) {
    X(0, t) = 3.0f;
    X(1, t) = -0.5f;
    X(2, t) = static_cast<float>(t);  // an ordinary row beside them
  }
  const std::vector<float> gain{1.0f, 2.0f, -1.0f, 0.5f};
  const attn::matrix dY{{1.0f, -2.0f, 0.5f, 0.0f}, {0.25f, 1.0f, -1.0f, 2.0f}, {1.0f, 0.0f, 0.0f, -1.0f}};
  check_against_oracle("constant rows 3 and -0.5", X, gain, dY);
  attn::matrix Y(3, 4), dX(3, 4);
  std::vector<float> dgain(4);
  attn::layer_norm(X, gain, Y);
  attn::layer_norm_backward(X, gain, dY, dX, dgain);
  for (std::size_t t = 0; t < 4; ++t) {
    INFO("column " << t << ": y = " << Y(0, t) << ", " << Y(1, t) << "; dx = " << dX(0, t) << ", " << dX(1, t));
    CHECK(std::isfinite(dX(0, t)));
    CHECK(std::isfinite(dX(1, t)));
  }
  // d = 1: the row is its own mean, xhat = 0, and dx = r (g - g - 0) = 0.
  const attn::matrix X1{{5.0f}, {-2.0f}, {0.0f}}, dY1{{1.0f}, {2.0f}, {3.0f}};
  check_against_oracle("d = 1", X1, std::vector<float>{2.0f}, dY1);
}

TEST_CASE("no rows is fine and writes dgain = 0; Y may be X itself", "[step12][special]") {
  const attn::matrix X0(0, 3), dY0(0, 3);
  attn::matrix Y0(0, 3), dX0(0, 3);
  const std::vector<float> gain{1.0f, 2.0f, 3.0f};
  std::vector<float> dgain(3, qnan);
  attn::layer_norm(X0, gain, Y0);
  attn::layer_norm_backward(X0, gain, dY0, dX0, dgain);
  ATTN_CHECK_ALL_CLOSE("layer_norm_backward: dgain for 0 rows (an empty sum)", std::vector<double>(3, 0.0), dgain, 0.0);
  // In place: each row must be read whole before it is written.
  auto gen = attn::test::rng(1211);
  const attn::matrix X = attn::test::gaussian_matrix(gen, 3, 9);
  const std::vector<float> gain9 = attn::test::uniform_row(gen, 9, -2.0f, 2.0f);
  const forward_oracle f = forward(X, gain9, 1);
  attn::matrix inplace = X;
  attn::layer_norm(inplace, gain9, inplace);
  ATTN_CHECK_ALL_CLOSE("layer_norm with Y = X (in place)", f.y, inplace, f.bound, inputs().add("X", X));
}

TEST_CASE("bad shapes are refused, naming the sizes", "[step12][input]") {
  const attn::matrix X(3, 4), dY(3, 4), X0(3, 0);
  attn::matrix Y(3, 4), Y_short(2, 4), Y_wide(3, 5), dX(3, 4);
  const std::vector<float> gain(4, 1.0f), gain5(5, 1.0f), gain0;
  std::vector<float> dgain(4), dgain3(3);
  ATTN_REQUIRE_INVALID(attn::layer_norm(X, gain5, Y), "layer_norm", 5, 4);
  ATTN_REQUIRE_INVALID(attn::layer_norm(X, gain, Y_short), "layer_norm", 2, 3);
  ATTN_REQUIRE_INVALID(attn::layer_norm(X, gain, Y_wide), "layer_norm", 5, 4);
  attn::matrix Y0(3, 0);
  ATTN_REQUIRE_INVALID(attn::layer_norm(X0, gain0, Y0), "layer_norm", 0);
  ATTN_REQUIRE_INVALID(attn::layer_norm_backward(X, gain5, dY, dX, dgain), "layer_norm_backward", 5, 4);
  ATTN_REQUIRE_INVALID(attn::layer_norm_backward(X, gain, dY, dX, dgain3), "layer_norm_backward", 3, 4);
  ATTN_REQUIRE_INVALID(attn::layer_norm_backward(X, gain, attn::matrix(2, 4), dX, dgain), "layer_norm_backward", 2,
                       3);
  ATTN_REQUIRE_INVALID(attn::layer_norm_backward(X, gain, dY, Y_wide, dgain), "layer_norm_backward", 5, 4);
  attn::matrix dX0(3, 0);
  std::vector<float> dgain0;
  ATTN_REQUIRE_INVALID(attn::layer_norm_backward(X0, gain0, attn::matrix(3, 0), dX0, dgain0), "layer_norm_backward",
                       0);
}
