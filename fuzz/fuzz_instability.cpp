// Fuzz target: step 6 of the reference: attn::ref::entropy, softmax_jacobian and
// dot_variance, with any lengths, shapes, seeds and float bit patterns.
//
//   - entropy: for weights in [0, 1] (the function's domain) within tol::entropy of the
//     oracle; outside it, the oracle's kind (NaN for a NaN or a negative weight, the
//     oracle's infinity, finite where the oracle is well inside float's range);
//   - softmax_jacobian: refuses a J that is not n x n, naming itself; otherwise every
//     J(i, j) = a_i (delta_ij - a_j) within tol::jacobian of the oracle while finite, NaN
//     where the oracle is NaN, the oracle's infinity, and overflow only where
//     |a_i (delta_ij - a_j)| (1 + gamma_3) reaches FLT_MAX;
//   - dot_variance: refuses samples = 0, naming itself; otherwise repeats itself exactly
//     and equals the documented draws (q then k from mt19937_64(seed)) squared and
//     averaged, within tol::squared_dot per sample.
//
// Input: [what: 0 entropy, 1 jacobian, 2 dot_variance] then that check's bytes
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

namespace {

using namespace attn::fuzz;
namespace oracle = attn::test::oracle;
namespace tol = attn::test::tol;

void check_entropy(input& in) {
  const std::vector<float> a = in.values(in.size_in(0, 3000));
  const float h = attn::ref::entropy(a);
  const double expected = oracle::entropy(a);
  bool in_domain = true;
  for (const float v : a) in_domain = in_domain && v >= 0.0f && v <= 1.0f;  // false for NaN
  const std::string what = "entropy of " + std::to_string(a.size()) + " weights is " + show(h) + ", expected " +
                           show(expected);
  if (in_domain) {
    ATTN_FUZZ_REQUIRE(close(expected, h, tol::entropy(a, 1)), what + ", bound " + show(tol::entropy(a, 1)));
  } else if (std::isnan(expected) || std::isinf(expected)) {
    ATTN_FUZZ_REQUIRE(close(expected, h, 0.0), what);
  } else {
    // Terms of both signs: no bound in tolerances.hpp covers the cancellation, so only
    // the kind is checked (the sum is taken in double, so far from FLT_MAX it is finite).
    ATTN_FUZZ_REQUIRE(!std::isnan(h) && (std::fabs(expected) > FLT_MAX / 2 || std::isfinite(h)), what);
  }
}

void check_jacobian(input& in) {
  const std::size_t n = in.byte() % 80;
  std::size_t rows = n, cols = n;
  if (in.byte() % 8 == 0) {
    rows = in.byte() % 80;
    cols = in.byte() % 80;
  }
  const std::vector<float> a = in.values(n);
  placed J(rows * cols, qnan, in.byte() % 4, fences::allocation);
  const bool bad_shape = rows != n || cols != n;
  const bool refused = refuses([&] { attn::ref::softmax_jacobian(a, {J.data(), rows, cols}); },
                               "attn::ref::softmax_jacobian");
  ATTN_FUZZ_REQUIRE(refused == bad_shape, "softmax_jacobian of " + std::to_string(n) + " weights into J " + std::to_string(rows) +
                                    " x " + std::to_string(cols) + (bad_shape ? " accepted" : " refused"));
  ATTN_FUZZ_REQUIRE(J.fences_intact(), "softmax_jacobian wrote before J");
  if (bad_shape) return;
  const std::vector<double> expected = oracle::softmax_jacobian(a);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const double e = expected[i * n + j];
      const float v = J.data()[i * n + j];
      const auto what = [&] {
        return "J(" + std::to_string(i) + ", " + std::to_string(j) + ") of a_i = " + show(a[i]) + ", a_j = " +
               show(a[j]) + " is " + show(v) + ", expected " + show(e);
      };
      if (std::isnan(e) || std::isinf(e) || std::isfinite(v)) {
        ATTN_FUZZ_REQUIRE(close(e, v, tol::jacobian(a[i], a[j], i == j, 1)), what());
      } else {
        ATTN_FUZZ_REQUIRE(!std::isnan(v) && std::fabs(e) * (1.0 + tol::gamma(3)) >= FLT_MAX && std::signbit(v) == std::signbit(e),
                what() + " (overflowed although the product fits)");
      }
    }
  }
}

void check_dot_variance(input& in) {
  const std::size_t d = in.byte() % 40, samples = in.byte() % 24;
  const std::uint64_t seed = in.bytes(8);
  const std::string what = "dot_variance(" + std::to_string(d) + ", " + std::to_string(samples) + ", " +
                           std::to_string(seed) + ")";
  if (samples == 0) {
    on_every_isa([&](const std::string& isa) {
      ATTN_FUZZ_REQUIRE(refuses([&] { attn::ref::dot_variance(d, samples, seed); }, "attn::ref::dot_variance"),
              what + " accepted on " + isa);
    });
    return;
  }
  // The documented draws, with exact dot products.
  const oracle::variance_estimate expected = oracle::dot_variance(d, samples, seed);
  on_every_isa([&](const std::string& isa) {
    const double estimate = attn::ref::dot_variance(d, samples, seed);
    ATTN_FUZZ_REQUIRE(estimate == attn::ref::dot_variance(d, samples, seed), what + " is not reproducible on " + isa);
    ATTN_FUZZ_REQUIRE(std::fabs(estimate - expected.value) <= expected.bound,
            what + " on " + isa + " is " + show(estimate) + ", the documented draws give " + show(expected.value));
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  switch (in.byte() % 3) {
    case 0: check_entropy(in); break;
    case 1: check_jacobian(in); break;
    default: check_dot_variance(in); break;
  }
  return 0;
}
