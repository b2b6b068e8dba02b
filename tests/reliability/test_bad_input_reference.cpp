// Bad input everywhere (the contract's rules, contract/include/attn/contract.hpp), for the reference and the matrix types:
// empty inputs, shapes that do not fit, views of absurd shapes, messages that name the
// function and the sizes, and NaN, +-inf and all -inf rows through every function, on
// every instruction set. (tests/reference/ has the first shape checks; this file covers
// the rest of the policy, function by function.)
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/diagnosis.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

#include "reference/helpers.hpp"

namespace {

namespace ref = attn::ref;
namespace oracle = attn::test::oracle;
namespace tol = attn::test::tol;
using namespace attn::test::reference;

constexpr std::size_t kHuge = std::numeric_limits<std::size_t>::max();

/// Every piece of `parts` appears in the message of the std::invalid_argument `f` throws; a
/// piece that is a number, as a whole number (the rule of the step tests' refusal check,
/// support/diagnosis.hpp: "3" is not found in "13").
template <class F>
void check_message(const std::string& what, F&& f, std::initializer_list<std::string> parts) {
  const std::string message = invalid_argument_message(f);
  INFO(what << ": the message was \"" << message << "\"");
  REQUIRE_FALSE(message.empty());
  for (const std::string& part : parts) {
    INFO("it should contain \"" << part << "\"");
    const bool number = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    CHECK((number ? attn::test::diagnosis::names_number(message, std::stoull(part))
                  : message.find(part) != std::string::npos));
  }
}

using tol::sum_abs_products;

}  // namespace

TEST_CASE("every reference function accepts empty input and answers as the policy says", "[reliability]") {
  std::vector<float> none;
  float unused = 0.0f;  // a non-null pointer that no empty view may touch
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    INFO("isa " << isa);
    CHECK(ref::dot(none, none) == 0.0f);
    // No queries, or no keys: an empty S, nothing written.
    ref::scores({&unused, 0, 3}, {&unused, 0, 3}, {&unused, 0, 0});
    std::vector<float> S(4, kNaN);
    const std::vector<float> Q(4 * 3, 1.0f);
    ref::scores({Q.data(), 4, 3}, {&unused, 0, 3}, {S.data(), 4, 0});
    ref::attention_weights({Q.data(), 4, 3}, {&unused, 0, 3}, {S.data(), 4, 0}, true);
    ref::attention_weights({&unused, 0, 3}, {Q.data(), 4, 3}, {S.data(), 0, 4}, false);
    for (const float v : S) CHECK(std::isnan(v));  // untouched
    CHECK(ref::causal_mask(0).rows() == 0u);
    ref::apply_causal_mask({&unused, 0, 0});
    ref::apply_causal_mask({&unused, 0, 5});
    ref::apply_causal_mask({&unused, 5, 0});
    CHECK(unused == 0.0f);
    ref::softmax(none);
    ref::stable_softmax(none);
    ref::softmax_rows({&unused, 3, 0});
    CHECK(ref::log_sum_exp(none) == -kInf);
    CHECK(ref::entropy(none) == 0.0f);
    ref::softmax_jacobian(none, {&unused, 0, 0});
    CHECK(ref::dot_variance(0, 3, 42) == 0.0);
  }
}

TEST_CASE("every refusal names the function and the sizes that were wrong", "[reliability]") {
  std::vector<float> storage(64, 1.0f), three(3, 1.0f), five(5, 1.0f);
  const attn::const_matrix_view Q23(storage.data(), 2, 3), K45(storage.data(), 4, 5), K43(storage.data(), 4, 3);
  attn::matrix_view S24(storage.data(), 2, 4), S42(storage.data(), 4, 2);
  check_message("dot", [&] { ref::dot(three, five); }, {"attn::ref::dot: ", "3", "5"});
  check_message("scaled_score", [&] { ref::scaled_score(three, five); }, {"attn::ref::scaled_score: ", "3", "5"});
  check_message("scaled_score, d = 0", [&] { ref::scaled_score({}, {}); }, {"attn::ref::scaled_score: ", "d = 0"});
  check_message("scores, d differs", [&] { ref::scores(Q23, K45, S24); }, {"attn::ref::scores: ", "2 x 3", "4 x 5"});
  check_message("scores, S transposed", [&] { ref::scores(Q23, K43, S42); },
                {"attn::ref::scores: ", "S is 4 x 2", "2 x 4"});
  check_message("attention_weights, A transposed", [&] { ref::attention_weights(Q23, K43, S42, true); },
                {"attn::ref::attention_weights: ", "A is 4 x 2", "2 x 4"});
  check_message("attention_weights, d = 0",
                [&] { ref::attention_weights({storage.data(), 2, 0}, {storage.data(), 4, 0}, S24, false); },
                {"attn::ref::attention_weights: ", "d = 0"});
  check_message("softmax_jacobian", [&] { ref::softmax_jacobian(three, {storage.data(), 3, 2}); },
                {"attn::ref::softmax_jacobian: ", "3 x 2", "3 elements", "3 x 3"});
  check_message("dot_variance", [] { ref::dot_variance(5, 0, 1); }, {"attn::ref::dot_variance: ", "samples is 0"});
  check_message("matrix_view", [&] { attn::matrix_view(std::span<float>(five), 2, 3); },
                {"matrix_view: ", "5 floats", "2 x 3", "needs 6"});
  check_message("const_matrix_view", [&] { attn::const_matrix_view(std::span<const float>(five), 3, 2); },
                {"const_matrix_view: ", "5 floats", "3 x 2", "needs 6"});
}

TEST_CASE("views and matrices of absurd shapes are refused when made, and empty ones of any width are fine",
          "[reliability]") {
  std::vector<float> six(6);
  const std::size_t shapes[][2] = {{kHuge, 2}, {2, kHuge}, {kHuge, kHuge}, {kHuge / 2 + 1, 2}, {1u << 20, 1u << 20}};
  for (const auto& s : shapes) {
    INFO(s[0] << " x " << s[1]);
    CHECK(invalid_argument_message([&] { attn::matrix_view(std::span<float>(six), s[0], s[1]); }).rfind("matrix_view: ", 0) == 0);
    CHECK(invalid_argument_message([&] { attn::const_matrix_view(std::span<const float>(six), s[0], s[1]); })
              .rfind("const_matrix_view: ", 0) == 0);
  }
  // rows x cols overflowing size_t is refused before anything is allocated.
  CHECK(invalid_argument_message([] { attn::matrix(kHuge, 2); }).rfind("matrix: ", 0) == 0);
  CHECK(invalid_argument_message([] { attn::matrix(kHuge / 3, 4, 1.0f); }).rfind("matrix: ", 0) == 0);
  // 0 x anything holds nothing, so an empty span is enough.
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, kHuge}) {
    INFO("0 x " << n << " and " << n << " x 0");
    CHECK(attn::matrix_view(std::span<float>(), 0, n).size() == 0u);
    CHECK(attn::const_matrix_view(std::span<const float>(), n, 0).size() == 0u);
    const attn::matrix empty(0, n);
    CHECK(empty.elements().empty());
  }
  const attn::matrix no_rows{};
  CHECK(no_rows.rows() == 0u);
  CHECK(no_rows.cols() == 0u);
}

TEST_CASE("NaN and infinities in Q or K reach exactly the scores they touch, on every instruction set",
          "[reliability]") {
  // q1 holds NaN; q2 = [inf, 1, -1]; k1 = [0, 1, 1] (inf * 0); k3 = [0.5, -inf, 1].
  const std::size_t n_q = 4, n_k = 5, d = 3;
  const std::vector<float> Q{0.5f, -1.0f, 2.0f, 1.0f, kNaN, 0.25f, kInf, 1.0f, -1.0f, 1.5f, 0.5f, -0.5f};
  const std::vector<float> K{1.0f, 2.0f, -1.0f, 0.0f, 1.0f, 1.0f, -2.0f, 0.5f, 0.5f,
                             0.5f, -kInf, 1.0f, 1.0f, 1.0f, 1.0f};
  const std::vector<double> expected = oracle::scores(Q, K, n_q, n_k, d);
  // The oracle's kinds, spelled out: NaN in, NaN out; IEEE arithmetic for the infinities.
  for (std::size_t j = 0; j < n_k; ++j) CHECK(std::isnan(expected[1 * n_k + j]));
  CHECK(expected[2 * n_k + 0] == oracle::inf);   // inf * 1
  CHECK(std::isnan(expected[2 * n_k + 1]));      // inf * 0
  CHECK(expected[2 * n_k + 2] == -oracle::inf);  // inf * -2
  CHECK(std::isnan(expected[2 * n_k + 3]));      // inf * 0.5 + 1 * -inf
  CHECK(expected[0 * n_k + 3] == oracle::inf);   // -1 * -inf
  CHECK(expected[3 * n_k + 3] == -oracle::inf);  // 0.5 * -inf
  for (const std::string& isa : supported_isas()) {
    ref::scoped_isa pin(isa);
    placed S(std::vector<float>(n_q * n_k, 0.0f), 3);
    ref::scores({Q.data(), n_q, d}, {K.data(), n_k, d}, {S.span().data(), n_q, n_k});
    comparison cmp("isa " + isa + ", scores with NaN and infinities");
    for (std::size_t i = 0; i < n_q; ++i) {
      for (std::size_t j = 0; j < n_k; ++j) {
        const double bound = tol::scaled_score(d, sum_abs_products({Q.data() + i * d, d}, {K.data() + j * d, d}), 1);
        cmp.element(i * n_k + j, S.span()[i * n_k + j], expected[i * n_k + j], bound);
      }
    }
    if (!S.fences_intact()) cmp.fail("wrote outside S");
    ATTN_CHECK_AGREES(cmp);
  }
}

TEST_CASE("attention_weights follows the policy for NaN, +inf, -inf and all -inf rows on every instruction set",
          "[reliability]") {
  // q0 = [-inf, 0.5] scores -inf against every key: nothing to attend to, all zeros.
  // q1 holds NaN: its whole row is NaN.
  // q2 = [1, 0.5] scores +inf against k1 and k3 (they share its weight) and -inf against k2.
  // q3 = [-0.5, 1] scores 0 against k0 and -inf against the others: weight exactly 1 on k0.
  // Every answer is exact, so the oracle's must come out bit for bit.
  const std::size_t n_q = 4, n_k = 4, d = 2;
  const std::vector<float> Q{-kInf, 0.5f, 0.5f, kNaN, 1.0f, 0.5f, -0.5f, 1.0f};
  const std::vector<float> K{1.0f, 0.5f, kInf, 1.0f, 1.0f, -kInf, kInf, 0.25f};
  for (const bool causal : {false, true}) {
    const std::vector<double> expected = oracle::attention_weights(Q, K, n_q, n_k, d, causal);
    for (const std::string& isa : supported_isas()) {
      ref::scoped_isa pin(isa);
      placed A(std::vector<float>(n_q * n_k, 0.5f), 1);
      ref::attention_weights({Q.data(), n_q, d}, {K.data(), n_k, d}, {A.span().data(), n_q, n_k}, causal);
      comparison cmp("isa " + isa + (causal ? ", causal" : ", full") + " attention with special values");
      for (std::size_t e = 0; e < n_q * n_k; ++e) cmp.element(e, A.span()[e], expected[e], 0.0);
      if (!A.fences_intact()) cmp.fail("wrote outside A");
      ATTN_CHECK_AGREES(cmp);
    }
    INFO((causal ? "causal" : "full") << " attention: the oracle's special rows");
    for (std::size_t j = 0; j < n_k; ++j) {
      CHECK(expected[0 * n_k + j] == 0.0);
      CHECK(std::isnan(expected[1 * n_k + j]));
      CHECK(expected[3 * n_k + j] == (j == 0 ? 1.0 : 0.0));
    }
    CHECK(expected[2 * n_k + 1] == (causal ? 1.0 : 0.5));
    CHECK(expected[2 * n_k + 3] == (causal ? 0.0 : 0.5));
  }
}

TEST_CASE("entropy and the softmax Jacobian give the oracle's NaN and infinities for weights outside [0, 1]",
          "[reliability]") {
  const std::vector<std::vector<float>> rows{{0.5f, kNaN, 0.5f}, {0.5f, -0.25f}, {kInf, 0.5f}, {0.0f, -0.0f, 1.0f}};
  for (const auto& a : rows) {
    const double expected = oracle::entropy(a);
    const float h = ref::entropy(a);
    INFO("entropy of a row starting " << a[0] << ", " << a[1] << ": " << h << ", oracle " << expected);
    if (std::isnan(expected)) {
      CHECK(std::isnan(h));
    } else {
      CHECK(h == static_cast<float>(expected));  // -inf, or 0 for one-hot (0 ln 0 = 0, -0 too)
    }
  }
  const std::vector<float> a{kInf, 0.0f, 0.5f, kNaN};
  const std::vector<double> expected = oracle::softmax_jacobian(a);
  attn::matrix J(4, 4, 7.0f);
  ref::softmax_jacobian(a, J);
  comparison cmp("softmax_jacobian([inf, 0, 0.5, nan])");
  for (std::size_t e = 0; e < 16; ++e) {
    const std::size_t i = e / 4, j = e % 4;
    cmp.element(e, J.elements()[e], expected[e], tol::jacobian(a[i], a[j], i == j, 1));
  }
  ATTN_CHECK_AGREES(cmp);
}
