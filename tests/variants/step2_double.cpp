// A correct step 2 that must be accepted: double accumulators and a double division,
// rounded to float once at the end.
#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace attn {
namespace {

double score(std::span<const float> q, std::span<const float> k) {
  double sum = 0.0;
  for (std::size_t t = 0; t < q.size(); ++t) sum += static_cast<double>(q[t]) * k[t];
  return sum / std::sqrt(static_cast<double>(q.size()));
}

}  // namespace

float scaled_score(std::span<const float> q, std::span<const float> k) {
  if (q.size() != k.size()) {
    attn::invalid_input("attn::scaled_score", "q has " + std::to_string(q.size()) + " elements but k has " +
                                                  std::to_string(k.size()) + "; expected equal lengths");
  }
  if (q.empty()) attn::invalid_input("attn::scaled_score", "d = 0; expected d >= 1");
  return static_cast<float>(score(q, k));
}

void scores(const_matrix_view Q, const_matrix_view K, matrix_view S) {
  if (Q.cols != K.cols) {
    attn::invalid_input("attn::scores", "Q has d = " + std::to_string(Q.cols) + " and K has d = " +
                                            std::to_string(K.cols) + "; expected equal");
  }
  if (Q.cols == 0) attn::invalid_input("attn::scores", "d = 0; expected d >= 1");
  if (S.rows != Q.rows || S.cols != K.rows) {
    attn::invalid_input("attn::scores", "S is " + std::to_string(S.rows) + " x " + std::to_string(S.cols) +
                                            "; expected " + std::to_string(Q.rows) + " x " + std::to_string(K.rows));
  }
  for (std::size_t i = 0; i < Q.rows; ++i) {
    for (std::size_t j = 0; j < K.rows; ++j) S(i, j) = static_cast<float>(score(Q.row(i), K.row(j)));
  }
}

}  // namespace attn
