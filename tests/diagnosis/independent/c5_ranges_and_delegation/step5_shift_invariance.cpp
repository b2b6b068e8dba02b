#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>

namespace attn {

namespace {

using lim = std::numeric_limits<float>;

enum class row_kind { empty, has_nan, all_neg_inf, has_pos_inf, finite_max };

// classify the row and report its max (valid for finite_max)
row_kind classify(std::span<const float> xs, float& max_out) {
  if (xs.empty()) return row_kind::empty;
  bool pos_inf = false;
  float m = -lim::infinity();
  for (float x : xs) {
    if (std::isnan(x)) return row_kind::has_nan;
    if (x == lim::infinity()) pos_inf = true;
    if (x > m) m = x;
  }
  max_out = m;
  if (pos_inf) return row_kind::has_pos_inf;
  if (m == -lim::infinity()) return row_kind::all_neg_inf;
  return row_kind::finite_max;
}

// log sum exp(x - m) + m, in double, for a row whose max m is finite
double lse_finite(std::span<const float> xs, double m) {
  double s = 0.0;
  for (float x : xs) s += std::exp(static_cast<double>(x) - m);
  return m + std::log(s);
}

}  // namespace

float log_sum_exp(std::span<const float> row) {
  float m = 0.0f;
  switch (classify(row, m)) {
    case row_kind::has_nan: return lim::quiet_NaN();
    case row_kind::empty:
    case row_kind::all_neg_inf: return -lim::infinity();
    case row_kind::has_pos_inf: return lim::infinity();
    case row_kind::finite_max: break;
  }
  return static_cast<float>(lse_finite(row, m));
}

void stable_softmax(std::span<float> row) {
  float m = 0.0f;
  switch (classify(row, m)) {
    case row_kind::empty: return;
    case row_kind::has_nan: std::fill(row.begin(), row.end(), lim::quiet_NaN()); return;
    case row_kind::all_neg_inf: std::fill(row.begin(), row.end(), 0.0f); return;
    case row_kind::has_pos_inf: {
      const auto ties = std::count(row.begin(), row.end(), lim::infinity());
      const float w = static_cast<float>(1.0 / static_cast<double>(ties));
      std::replace_if(row.begin(), row.end(), [](float x) { return x != lim::infinity(); }, 0.0f);
      std::replace(row.begin(), row.end(), lim::infinity(), w);
      return;
    }
    case row_kind::finite_max: break;
  }
  // a_j = exp(x_j - LSE(x)), the shift taken all the way to the log-normaliser
  const double lse = lse_finite(row, m);
  for (float& x : row) x = static_cast<float>(std::exp(static_cast<double>(x) - lse));
}

void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal) {
  attn::scores(Q, K, A);  // refuses Q.cols != K.cols, d = 0 and a misshapen A
  if (causal) attn::apply_causal_mask(A);
  for (std::size_t i = 0; i < A.rows; ++i) attn::stable_softmax(A.row(i));
}

}  // namespace attn
