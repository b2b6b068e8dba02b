// Step 7 (extension): the attention output O = A V, and the whole of attention from Q, K
// and V. Expected values come from hand-checkable arithmetic or attn::ref; tolerances from
// tolerances.hpp (tol::dot for O = A V with given weights; tol::attention_row and
// tol::attention_output for the whole of attention).
#include <attn/attn.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "support/attention.hpp"
#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/tolerances.hpp"

namespace {

namespace tol = attn::test::tol;
using attn::test::inputs;
using attn::test::shape;
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float inf = std::numeric_limits<float>::infinity();

/// sum_j A(i, j) V(j, c) in double, and tol::dot bounds for it, for every (i, c).
void exact_product(attn::const_matrix_view A, attn::const_matrix_view V, std::vector<double>& exact,
                   std::vector<double>& bounds, int implementations) {
  for (std::size_t i = 0; i < A.rows; ++i) {
    for (std::size_t c = 0; c < V.cols; ++c) {
      double sum = 0.0, sum_abs = 0.0;
      for (std::size_t j = 0; j < A.cols; ++j) {
        sum += static_cast<double>(A(i, j)) * V(j, c);
        sum_abs += std::fabs(static_cast<double>(A(i, j)) * V(j, c));
      }
      exact.push_back(sum);
      bounds.push_back(tol::dot(A.cols, sum_abs, implementations));
    }
  }
}

}  // namespace

TEST_CASE("zero scores under the causal mask average the values seen so far: V = [1, 2, 3] gives [1, 1.5, 2]",
          "[step7][card]") {
  // Query i sees keys 0..i with equal scores, so its weights are 1/(i+1) each and its output
  // is (1 + ... + (i+1)) / (i+1) = (i+2)/2.
  const attn::matrix V{{1.0f}, {2.0f}, {3.0f}};
  const attn::matrix A{{1.0f, 0.0f, 0.0f}, {1.0f / 2, 1.0f / 2, 0.0f}, {1.0f / 3, 1.0f / 3, 1.0f / 3}};
  attn::matrix O(3, 1, qnan);
  attn::attention_output(A, V, O);
  std::vector<double> exact, bounds;
  exact_product(A, V, exact, bounds, 1);
  ATTN_CHECK_ALL_CLOSE("attention_output(hand weights, V = [1, 2, 3])", exact, O, bounds,
                       inputs().add("A", A).add("V", V));
  ATTN_CHECK_ALL_CLOSE("attention_output(hand weights, V = [1, 2, 3]) (the numbers the docs quote)",
                       (std::initializer_list<double>{1.0, 1.5, 2.0}), O, tol::card(6));

  // The same from Q and K: Q = 0 makes every score 0 whatever K holds.
  const attn::matrix Q(3, 4, 0.0f);
  const attn::matrix K{{1, 2, 3, 4}, {-1, 0, 1, 0}, {5, 5, 5, 5}};
  attn::matrix O2(3, 1, qnan);
  attn::attention(Q, K, V, O2, /*causal=*/true);
  // Against the exact fractions: the weights 1/(i+1) carry tol::attention_row (scores exact).
  std::vector<double> bounds2;
  for (std::size_t i = 0; i < 3; ++i) {
    std::vector<float> beta(3, 0.0f), a(3, 0.0f), v{1.0f, 2.0f, 3.0f};
    for (std::size_t j = 0; j < 3; ++j) {
      if (j > i) beta[j] = -inf;
      else a[j] = 1.0f / static_cast<float>(i + 1);
    }
    const auto b = attn::test::exact_where_masked(tol::attention_row(beta, a, 0.0, 1), beta);
    bounds2.push_back(tol::attention_output(b, a, v, 1));
  }
  ATTN_CHECK_ALL_CLOSE("attention(Q = 0, K, V = [1, 2, 3], causal)", (std::initializer_list<double>{1.0, 1.5, 2.0}),
                       O2, bounds2, inputs().add("K", K).add("V", V));
}

TEST_CASE("O = A V matches the reference for every shape, V's rows weighted by A's columns", "[step7][property]") {
  auto gen = attn::test::rng(701);
  for (const std::size_t nq : {1u, 3u, 8u}) {
    for (const std::size_t nk : attn::test::small_tail_sizes()) {
      for (const std::size_t dv : {1u, 2u, 5u, 8u, 17u, 33u}) {
        attn::matrix A = attn::test::uniform_matrix(gen, nq, nk, -4.0f, 4.0f);
        attn::ref::softmax_rows(A.view());
        const attn::matrix V = attn::test::uniform_matrix(gen, nk, dv, -10.0f, 10.0f);
        attn::matrix expected(nq, dv);
        attn::ref::attention_output(A, V, expected.view());
        std::vector<double> exact, bounds;
        exact_product(A, V, exact, bounds, 2);
        attn::test::guarded_matrix O(nq, dv, qnan);
        attn::attention_output(A, V, O.view());
        const std::string what = "attention_output, A " + shape(nq, nk) + ", V " + shape(nk, dv);
        ATTN_CHECK_ALL_CLOSE(what, expected, O.view(), bounds, inputs().add("A", A).add("V", V));
        INFO(what << ": nothing outside O may be written");
        CHECK(O.intact());
      }
    }
  }
}

TEST_CASE("attention from Q, K and V matches the reference, causal or not", "[step7][property]") {
  auto gen = attn::test::rng(702);
  for (const bool causal : {false, true}) {
    for (const std::size_t n : {1u, 2u, 3u, 5u, 8u, 9u, 17u, 33u}) {
      for (const std::size_t d : {1u, 4u, 16u, 33u}) {
        const std::size_t nq = n, nk = n + (n % 3), dv = 1 + (n + d) % 7;
        const attn::matrix Q = attn::test::gaussian_matrix(gen, nq, d);
        const attn::matrix K = attn::test::gaussian_matrix(gen, nk, d);
        const attn::matrix V = attn::test::uniform_matrix(gen, nk, dv, -5.0f, 5.0f);
        const auto e = attn::test::reference_attention(Q, K, V, causal, false);
        attn::test::guarded_matrix O(nq, dv, qnan);
        attn::attention(Q, K, V, O.view(), causal);
        const std::string what = std::string(causal ? "causal " : "") + "attention, Q " + shape(nq, d) + ", K " +
                                 shape(nk, d) + ", V " + shape(nk, dv);
        ATTN_CHECK_ALL_CLOSE(what, e.output, O.view(), e.bounds, inputs().add("Q", Q).add("K", K).add("V", V));
        INFO(what << ": nothing outside O may be written");
        CHECK(O.intact());
      }
    }
  }
}

TEST_CASE("the output is a weighted average: a value shared by every key comes back unchanged", "[step7][property]") {
  auto gen = attn::test::rng(703);
  for (const std::size_t n : {1u, 4u, 9u, 31u}) {
    const attn::matrix Q = attn::test::gaussian_matrix(gen, n, 8), K = attn::test::gaussian_matrix(gen, n, 8);
    const std::vector<float> v = attn::test::uniform_row(gen, 3, -100.0f, 100.0f);
    attn::matrix V(n, 3);
    for (std::size_t j = 0; j < n; ++j) std::copy(v.begin(), v.end(), V.row(j).begin());
    for (const bool causal : {false, true}) {
      attn::matrix O(n, 3, qnan);
      attn::attention(Q, K, V, O, causal);
      const auto e = attn::test::reference_attention(Q, K, V, causal, false, 1);
      std::vector<double> expected;
      for (std::size_t i = 0; i < n; ++i) expected.insert(expected.end(), v.begin(), v.end());
      ATTN_CHECK_ALL_CLOSE(std::string(causal ? "causal " : "") + "attention with every value row equal, n = " +
                               std::to_string(n),
                           expected, O, e.bounds, inputs().add("v", v).add("Q", Q).add("K", K));
    }
  }
}

TEST_CASE("under the causal mask a query's output ignores the values of future keys", "[step7][property]") {
  auto gen = attn::test::rng(704);
  const std::size_t n = 6, d = 4, dv = 3;
  const attn::matrix Q = attn::test::gaussian_matrix(gen, n, d), K = attn::test::gaussian_matrix(gen, n, d);
  attn::matrix V = attn::test::uniform_matrix(gen, n, dv, -1.0f, 1.0f);
  attn::matrix before(n, dv), after(n, dv);
  attn::attention(Q, K, V, before, true);
  for (std::size_t c = 0; c < dv; ++c) V(n - 1, c) = 1.0e6f;  // only the last query may see key n - 1
  attn::attention(Q, K, V, after, true);
  for (std::size_t i = 0; i + 1 < n; ++i) {
    for (std::size_t c = 0; c < dv; ++c) {
      INFO("query " << i << ", column " << c << ": " << before(i, c) << " became " << after(i, c)
                    << " when a future value changed (its weight must be exactly 0)");
      CHECK(before(i, c) == after(i, c));
    }
  }
  INFO("the last query sees key " << n - 1 << ", so its output must move");
  CHECK(after(n - 1, 0) != before(n - 1, 0));
}

TEST_CASE("a query whose scores are all -inf gets an output of zeros, and masked keys add nothing", "[step7][special]") {
  // q = [1, 1] and a key of -inf gives a score of -inf: that key is masked.
  const attn::matrix Q{{1.0f, 1.0f}, {0.5f, 2.0f}};
  const attn::matrix K_all{{-inf, -inf}, {-inf, -inf}};
  const attn::matrix V{{3.0f, -1.0f, 7.0f}, {2.0f, 5.0f, 1.0f}};
  attn::matrix O(2, 3, qnan);
  attn::attention(Q, K_all, V, O, false);
  ATTN_CHECK_ALL_CLOSE("attention with every key masked", std::vector<double>(6, 0.0), O, 0.0,
                       inputs().add("Q", Q).add("K", K_all).add("V", V));
  // One key masked: all the weight goes to the other, so its value comes out.
  const attn::matrix K_one{{-inf, -inf}, {0.25f, -0.5f}};
  attn::attention(Q, K_one, V, O, false);
  const auto e = attn::test::reference_attention(Q, K_one, V, false, false, 1);
  ATTN_CHECK_ALL_CLOSE("attention with key 0 masked", (std::initializer_list<double>{2, 5, 1, 2, 5, 1}), O, e.bounds,
                       inputs().add("Q", Q).add("K", K_one).add("V", V));
}

TEST_CASE("no keys: every output is 0; no queries or no value columns: nothing is written", "[step7][special]") {
  const attn::matrix A(3, 0), V(0, 4);
  attn::test::guarded_matrix O(3, 4, qnan);
  attn::attention_output(A, V, O.view());
  ATTN_CHECK_ALL_CLOSE("attention_output with n_k = 0", std::vector<double>(12, 0.0), O.view(), 0.0);
  CHECK(O.intact());
  attn::test::guarded_matrix empty(0, 4, qnan), thin(3, 0, qnan);
  attn::attention_output(attn::matrix(0, 2), attn::matrix(2, 4), empty.view());
  attn::attention_output(attn::matrix(3, 2, 0.5f), attn::matrix(2, 0), thin.view());
  INFO("n_q = 0 or d_v = 0: nothing outside the empty O may be written");
  CHECK(empty.intact());
  CHECK(thin.intact());
}

TEST_CASE("NaN in, NaN out: a NaN value or weight reaches the output", "[step7][special]") {
  const attn::matrix A{{0.25f, 0.75f}, {qnan, 0.5f}};
  const attn::matrix V{{1.0f, qnan}, {2.0f, 3.0f}};
  attn::matrix O(2, 2, 0.0f);
  attn::attention_output(A, V, O);
  ATTN_CHECK_CLOSE("O(0, 0) = 0.25 * 1 + 0.75 * 2", 1.75, O(0, 0), 0.0);
  ATTN_CHECK_CLOSE("O(0, 1) with a NaN value", qnan, O(0, 1), 0.0);
  ATTN_CHECK_CLOSE("O(1, 0) with a NaN weight", qnan, O(1, 0), 0.0);
  ATTN_CHECK_CLOSE("O(1, 1) with a NaN weight", qnan, O(1, 1), 0.0);
}

TEST_CASE("attention_output has no mask: a NaN or inf value behind a weight of 0 gives NaN (0 x NaN)",
          "[step7][special]") {
  // O = A V term by term: 0 x NaN = NaN and 0 x inf = NaN, so an output with a zero weight
  // on such a value is NaN; a positive weight on inf gives inf. The finite outputs are exact.
  const attn::matrix A{{1.0f, 0.0f}, {0.5f, 0.5f}, {0.0f, 1.0f}};
  const attn::matrix V{{1.0f, 2.0f, 5.0f}, {qnan, 3.0f, inf}};
  attn::matrix O(3, 3, 0.0f);
  attn::attention_output(A, V, O);
  ATTN_CHECK_ALL_CLOSE("attention_output with zero weights on NaN and inf values",
                       (std::initializer_list<double>{qnan, 2.0, qnan, qnan, 2.5, inf, qnan, 3.0, inf}), O, 0.0,
                       inputs().add("A", A).add("V", V));
}

TEST_CASE("causal attention reads no value or key row of a masked key: NaN or inf there leaves earlier queries as if "
          "the row were not there",
          "[step7][special]") {
  // Only the causal mask removes a key: query i depends on keys and values 0..i only. With
  // key k's row of V or K poisoned, queries i < k must equal attention over the first k keys
  // and queries alone; from query k on a NaN value (or key) row is visible and gives NaN.
  auto gen = attn::test::rng(705);
  const std::size_t n = 6, d = 4, dv = 3;
  const attn::matrix Q = attn::test::gaussian_matrix(gen, n, d), K = attn::test::gaussian_matrix(gen, n, d);
  const attn::matrix V = attn::test::uniform_matrix(gen, n, dv, -2.0f, 2.0f);
  attn::test::check_masked_rows_unread("causal attention", Q, K, V, {n - 1, 2}, false,
                                       [](const attn::matrix& q, const attn::matrix& k, const attn::matrix& v, attn::matrix& o) {
                                         attn::attention(q, k, v, o, true);
                                       });
}

TEST_CASE("without the causal mask every key takes part: a NaN value row gives NaN even where its weight is 0",
          "[step7][special]") {
  // Scores [200, -200, 1] and [-200, 200, -1]: the weight of the key 400 below the max is
  // e^-400, 0 in float, yet its NaN value reaches the output (0 x NaN = NaN: NaN in, NaN out).
  const attn::matrix Q{{1.0f}, {-1.0f}};
  const attn::matrix K{{200.0f}, {-200.0f}, {1.0f}};
  const attn::matrix V{{1.0f, 2.0f}, {qnan, qnan}, {3.0f, 4.0f}};
  attn::matrix O(2, 2, 0.0f);
  attn::attention(Q, K, V, O, false);
  ATTN_CHECK_ALL_CLOSE("attention with a NaN value row of weight e^-400 (0 in float)", std::vector<double>(4, qnan), O,
                       0.0, inputs().add("Q", Q).add("K", K).add("V", V));
  // A key whose scores are -inf has weight exactly 0 but is not masked: its NaN value counts
  // too. Under the causal mask queries 0 and 1 cannot see key 2, so there it changes nothing.
  const attn::matrix Q2{{1.0f, 0.5f}, {0.5f, 2.0f}};
  const attn::matrix K2{{0.25f, 1.0f}, {-1.0f, 0.5f}, {-inf, -inf}};
  const attn::matrix V2{{1.0f, -2.0f}, {3.0f, 0.5f}, {qnan, qnan}};
  attn::attention(Q2, K2, V2, O, false);
  ATTN_CHECK_ALL_CLOSE("attention with a NaN value row behind scores of -inf", std::vector<double>(4, qnan), O, 0.0,
                       inputs().add("Q", Q2).add("K", K2).add("V", V2));
  attn::attention(Q2, K2, V2, O, true);
  const attn::matrix V2_finite{{1.0f, -2.0f}, {3.0f, 0.5f}, {0.0f, 0.0f}};
  const auto e = attn::test::reference_attention(Q2, K2, V2_finite, true, false);
  ATTN_CHECK_ALL_CLOSE("causal attention with a NaN value row of a masked key", e.output, O, e.bounds,
                       inputs().add("Q", Q2).add("K", K2).add("V", V2));
}

TEST_CASE("causal attention with more queries than keys: query i >= n_k sees all n_k keys, never a key past the last",
          "[step7][property]") {
  // The causal mask is top-left aligned: query i sees keys 0..min(i, n_k - 1). With n_q > n_k
  // the queries i >= n_k see every key, so a loop over j <= i must also stop at n_k - 1 (past
  // it, it reads rows of K and V that do not exist). Expected: the double oracle.
  attn::test::check_more_queries_than_keys("causal attention", 706, false,
                                           [](const attn::matrix& q, const attn::matrix& k, const attn::matrix& v,
                                              attn::matrix_view o) { attn::attention(q, k, v, o, true); });
}

TEST_CASE("attention: +inf scores share the weight equally and the others get 0, causal or not", "[step7][special]") {
  // The contract's rule for +inf scores (stable_softmax, step 5): the +inf scores of a row
  // share its weight equally, every other key gets 0, never inf - inf = NaN. 1e20 x 1e20
  // overflows float: keys 1 and 3 score +inf for the queries that reach them with 1e20, key 2
  // -inf; no product mixes signs, so no score is NaN. Without the mask queries 0 and 2 have one
  // +inf score each (all the weight), queries 1 and 3 two (half each); under it query 0 sees
  // one finite key, query 1 one +inf, query 2 three scores of 0 (a third each), query 3 two
  // +inf. The expected weights follow that rule (the double oracle's softmax) on the float
  // scores; the outputs are their weighted sums of the values.
  const float big = 1e20f;
  const attn::matrix Q{{big, 0.0f}, {big, big}, {0.0f, big}, {big, big}};
  const attn::matrix K{{1.0f, 0.0f}, {big, 0.0f}, {-big, 0.0f}, {0.0f, big}, {2.0f, 1.0f}};
  const attn::matrix V{{1.0f, -2.0f, 0.5f}, {3.0f, 1.0f, -1.0f}, {-4.0f, 6.0f, 2.0f}, {5.0f, -3.0f, 0.25f},
                       {2.0f, 2.0f, -6.0f}};
  for (const bool causal : {false, true}) {
    attn::matrix beta(4, 5);
    attn::ref::scores(Q, K, beta.view());  // the float scores: +inf where 1e20 x 1e20 overflows
    if (causal) attn::ref::apply_causal_mask(beta.view());
    std::vector<double> expected, bounds;
    for (std::size_t i = 0; i < 4; ++i) {
      const std::vector<double> a = attn::test::oracle::softmax(std::span<const float>(beta.row(i)));  // the rule
      const std::vector<float> a_f(a.begin(), a.end());
      const auto wb = attn::test::exact_where_masked(tol::attention_row(beta.row(i), a_f, 0.0), beta.row(i));
      for (std::size_t c = 0; c < 3; ++c) {
        double o = 0.0;
        std::vector<float> column(5);
        for (std::size_t j = 0; j < 5; ++j) {
          const bool masked = causal && j > i;
          column[j] = masked ? 0.0f : V(j, c);
          if (!masked) o += a[j] * V(j, c);
        }
        expected.push_back(o);
        bounds.push_back(tol::attention_output(wb, a_f, column));
      }
    }
    attn::matrix O(4, 3, 0.0f);  // not NaN: a NaN out then comes from the +inf scores alone
    attn::attention(Q, K, V, O, causal);
    ATTN_CHECK_ALL_CLOSE(std::string(causal ? "causal " : "") +
                             "attention with +inf scores (the +inf keys share the weight equally, the rest get 0)",
                         expected, O, bounds, inputs().add("Q", Q).add("K", K).add("V", V));
  }
}

TEST_CASE("attention with no keys gives an output of zeros, causal or not, as attention_output does", "[step7][special]") {
  // attention() is attention_weights() then attention_output(): with n_k = 0 the weights are
  // n_q x 0 and every output is the empty sum, 0. O is handed in full of NaN, so an
  // attention() that returns without writing O is seen.
  const attn::matrix Q{{1.0f, 2.0f}, {0.5f, -1.0f}}, K0(0, 2), V0(0, 3);
  for (const bool causal : {false, true}) {
    attn::test::guarded_matrix O(2, 3, qnan);
    attn::attention(Q, K0, V0, O.view(), causal);
    const std::string what = std::string(causal ? "causal " : "") + "attention with n_k = 0 (no keys: zeros)";
    ATTN_CHECK_ALL_CLOSE(what, std::vector<double>(6, 0.0), O.view(), 0.0, inputs().add("Q", Q));
    INFO(what << ": nothing outside O may be written");
    CHECK(O.intact());
  }
}

TEST_CASE("mismatched shapes are refused with a message naming the function", "[step7][input]") {
  const attn::matrix A(2, 3), V3(3, 4), V4(4, 4);
  attn::matrix O(2, 4), O_wide(2, 5), O_tall(3, 4);
  // The sizes: n_k = 3 (A's columns) and 4 (V's rows); O's wrong columns or rows and the
  // 2 x 4 expected.
  ATTN_REQUIRE_INVALID(attn::attention_output(A, V4, O), "attention_output", 3, 4);
  ATTN_REQUIRE_INVALID(attn::attention_output(A, V3, O_wide), "attention_output", 5, 4);
  ATTN_REQUIRE_INVALID(attn::attention_output(A, V3, O_tall), "attention_output", 3, 2);
  const attn::matrix Q(2, 5), K(3, 5), K_bad(3, 6), Q0(2, 0), K0(3, 0);
  // attention names itself (a whole name: attention_output's message is another function's)
  // for V and O; the shape errors of Q and K may come from the step 5 function it calls.
  ATTN_REQUIRE_INVALID(attn::attention(Q, K, V4, O, false), "attention", 3, 4);
  ATTN_REQUIRE_INVALID(attn::attention(Q, K, V3, O_wide, true), "attention", 5, 4);
  ATTN_REQUIRE_INVALID(attn::attention(Q, K_bad, V3, O, false), "attention|attention_weights|scores", 5, 6);
  ATTN_REQUIRE_INVALID(attn::attention(Q0, K0, V3, O, false), "attention|attention_weights|scores", 0);
}
