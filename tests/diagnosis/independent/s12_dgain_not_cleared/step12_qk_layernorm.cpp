#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace attn {

namespace {

std::string dims(std::size_t r, std::size_t c) { return std::to_string(r) + "x" + std::to_string(c); }

void validate(const char* fn, const_matrix_view X, std::size_t g, std::size_t out_r, std::size_t out_c) {
  if (X.cols == 0) invalid_input(fn, "X is " + dims(X.rows, X.cols) + "; expected at least one column");
  if (g != X.cols) invalid_input(fn, "gain length " + std::to_string(g) + "; expected " + std::to_string(X.cols));
  if (out_r != X.rows || out_c != X.cols) {
    invalid_input(fn, "output " + dims(out_r, out_c) + "; expected " + dims(X.rows, X.cols));
  }
}

// mean, then centred squares; returns 1/sqrt(var + eps) and writes centred*inv into out
float stats(const float* x, std::size_t d, float* out) {
  float total = 0.0f;
  for (std::size_t t = 0; t < d; ++t) total += x[t];
  const float mu = total / static_cast<float>(d);
  float ss = 0.0f;
  for (std::size_t t = 0; t < d; ++t) {
    const float c = x[t] - mu;
    out[t] = c;
    ss += c * c;
  }
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(d) + layer_norm_epsilon);
  for (std::size_t t = 0; t < d; ++t) out[t] *= inv;
  return inv;
}

}  // namespace

void layer_norm(const_matrix_view X, std::span<const float> gain, matrix_view Y) {
  validate("attn::layer_norm", X, gain.size(), Y.rows, Y.cols);
  std::vector<float> tmp(X.cols);
  for (std::size_t i = 0; i < X.rows; ++i) {
    stats(X.data + i * X.cols, X.cols, tmp.data());
    for (std::size_t t = 0; t < X.cols; ++t) Y.data[i * X.cols + t] = tmp[t] * gain[t];
  }
}

void layer_norm_backward(const_matrix_view X, std::span<const float> gain, const_matrix_view dY, matrix_view dX,
                         std::span<float> dgain) {
  validate("attn::layer_norm_backward", X, gain.size(), dY.rows, dY.cols);
  validate("attn::layer_norm_backward", X, dgain.size(), dX.rows, dX.cols);
  const std::size_t d = X.cols;
  std::vector<float> xh(d);
  for (std::size_t i = 0; i < X.rows; ++i) {
    const float inv = stats(X.data + i * d, d, xh.data());
    float a = 0.0f, b = 0.0f;
    for (std::size_t t = 0; t < d; ++t) {
      const float gt = gain[t] * dY(i, t);
      a += gt;
      b += gt * xh[t];
      dgain[t] += dY(i, t) * xh[t];
    }
    a /= static_cast<float>(d);
    b /= static_cast<float>(d);
    for (std::size_t t = 0; t < d; ++t) dX(i, t) = inv * (gain[t] * dY(i, t) - a - xh[t] * b);
  }
}

}  // namespace attn
