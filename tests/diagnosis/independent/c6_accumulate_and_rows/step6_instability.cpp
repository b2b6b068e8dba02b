#include <attn/contract.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace attn {

double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed) {
  if (samples < 1) {
    attn::invalid_input("attn::dot_variance",
                        "samples = " + std::to_string(samples) + "; expected at least 1");
  }
  std::mt19937_64 engine{seed};
  std::normal_distribution<float> standard{0.0f, 1.0f};
  std::vector<float> query(d);
  std::vector<float> key(d);
  const auto sample = [&] { return standard(engine); };

  double second_moment = 0.0;
  std::size_t left = samples;
  while (left-- > 0) {
    std::generate(query.begin(), query.end(), sample);
    std::generate(key.begin(), key.end(), sample);
    const double p = attn::dot(query, key);
    second_moment += p * p;
  }
  return second_moment / static_cast<double>(samples);
}

float entropy(std::span<const float> a) {
  const double h = std::transform_reduce(a.begin(), a.end(), 0.0, std::plus<>{}, [](float w) {
    // 0 ln 0 = 0; NaN != 0, so a NaN weight still reaches the sum
    return w == 0.0f ? 0.0 : -static_cast<double>(w) * std::log(static_cast<double>(w));
  });
  return static_cast<float>(h);
}

void softmax_jacobian(std::span<const float> a, matrix_view J) {
  const std::size_t n = a.size();
  if (J.rows != n || J.cols != n) {
    attn::invalid_input("attn::softmax_jacobian", "J is " + std::to_string(J.rows) + " x " +
                                                      std::to_string(J.cols) + " but a has n = " +
                                                      std::to_string(n) + "; expected n x n");
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::span<float> row = J.row(i);
    const float ai = a[i];
    // row i of -a a^T, then the diagonal term a_i
    std::transform(a.begin(), a.end(), row.begin(), [ai](float aj) { return -ai * aj; });
    row[i] += ai;
  }
}

}  // namespace attn
