// Step 9 (extension): the online softmax (a running max and a running sum, rescaled when the
// max grows; push and an associative merge) and single-pass streaming attention. Expected
// values come from the numbers the docs quote, exact arithmetic in double, or attn::ref; tolerances
// from tolerances.hpp (tol::online_sum, tol::online_softmax_row, tol::streaming_attention_row).
#include <attn/attn.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "support/attention.hpp"
#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/generators.hpp"
#include "support/oracle.hpp"
#include "support/tolerances.hpp"

namespace {

namespace tol = attn::test::tol;
using attn::test::inputs;
using attn::test::shape;
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();
constexpr float inf = std::numeric_limits<float>::infinity();

/// The exact state of a row: its max and sum_j exp(x_j - max), in double.
std::pair<double, double> exact_state(std::span<const float> x) {
  double m = -INFINITY;
  for (float v : x) m = std::max(m, static_cast<double>(v));
  double l = 0.0;
  for (float v : x) l += std::exp(static_cast<double>(v) - m);
  return {m, l};
}

/// The student's state after pushing x[first..last).
attn::online_softmax pushed(std::span<const float> x) {
  attn::online_softmax s;
  for (float v : x) attn::push(s, v);
  return s;
}

void check_state(const std::string& what, std::span<const float> x, const attn::online_softmax& s) {
  const auto [m, l] = exact_state(x);
  ATTN_CHECK_CLOSE(what + ": max", m, s.max, 0.0, inputs().add("x", x));  // a max is exact
  ATTN_CHECK_CLOSE(what + ": sum", l, s.sum, tol::online_sum(x, l, 1), inputs().add("x", x));
}

/// check_state for a part of a row that is about to be merged; true when the part is right.
bool check_part(const std::string& what, std::span<const float> x, const attn::online_softmax& s) {
  check_state(what, x, s);
  const auto [m, l] = exact_state(x);
  return attn::test::close(m, s.max, 0.0) && attn::test::close(l, s.sum, tol::online_sum(x, l, 1));
}

}  // namespace

TEST_CASE("for x = [1, 3, 2] the running sum goes 1 -> 1.135335 -> 1.503215, weights [0.0900, 0.6652, 0.2447]",
          "[step9][card]") {
  const std::vector<float> x{1.0f, 3.0f, 2.0f};
  const double quoted_sum[] = {1.0, 1.135335, 1.503215};
  const double quoted_max[] = {1.0, 3.0, 3.0};
  attn::online_softmax s;
  for (std::size_t t = 0; t < 3; ++t) {
    attn::push(s, x[t]);
    const std::string what = "after pushing " + std::to_string(t + 1) + " of [1, 3, 2]";
    ATTN_CHECK_CLOSE(what + ": max", quoted_max[t], s.max, 0.0);
    // 1 + e^-2 = 1.1353352..., 1 + e^-2 + e^-1 = 1.5032147...: both rounded to 6 places.
    ATTN_CHECK_CLOSE(what + ": sum (the value the docs quote)", quoted_sum[t], s.sum, tol::card(6));
    check_state(what, std::span<const float>(x).first(t + 1), s);
  }
  std::vector<float> w;
  for (float v : x) w.push_back(attn::weight(s, v));
  ATTN_CHECK_ALL_CLOSE("weights of [1, 3, 2] (the values the docs quote)", (std::initializer_list<double>{0.0900, 0.6652, 0.2447}),
                       w, tol::card(4));
  const auto [m, l] = exact_state(x);
  std::vector<float> exact;
  for (float v : x) exact.push_back(static_cast<float>(std::exp(v - m) / l));
  ATTN_CHECK_ALL_CLOSE("weights of [1, 3, 2]", exact, w, tol::online_softmax_row(x, exact, 1));
}

TEST_CASE("merging the states of any split of a row gives the state of the whole row", "[step9][property]") {
  auto gen = attn::test::rng(901);
  for (const std::size_t n : {1u, 2u, 3u, 7u, 16u, 33u}) {
    for (const float spread : {1.0f, 30.0f}) {
      const std::vector<float> x = attn::test::uniform_row(gen, n, -spread, spread);
      const std::span<const float> all(x);
      for (std::size_t k = 0; k <= n; ++k) {
        const auto left = pushed(all.first(k)), right = pushed(all.subspan(k));
        const std::string at = " split at " + std::to_string(k) + " of " + std::to_string(n);
        // The parts (push) first: merging parts that are already wrong cannot give the whole row.
        const bool left_right = check_part("the left part," + at, all.first(k), left);
        const bool right_right = check_part("the right part," + at, all.subspan(k), right);
        INFO("a part of the row was pushed into a wrong state: its merges are not worth checking");
        REQUIRE((left_right && right_right));
        check_state("merge(left, right)," + at, x, attn::merge(left, right));
        check_state("merge(right, left)," + at, x, attn::merge(right, left));
        for (std::size_t k2 = k; k2 <= n; k2 += 1 + n / 4) {  // three parts, grouped both ways
          const auto a = pushed(all.first(k)), b = pushed(all.subspan(k, k2 - k)), c = pushed(all.subspan(k2));
          const bool b_right = check_part("the middle part," + at + " and " + std::to_string(k2), all.subspan(k, k2 - k), b);
          const bool c_right = check_part("the last part," + at + " and " + std::to_string(k2), all.subspan(k2), c);
          INFO("a part of the row was pushed into a wrong state: its merges are not worth checking");
          REQUIRE((b_right && c_right));
          check_state("merge(merge(a, b), c)," + at + " and " + std::to_string(k2), x, attn::merge(attn::merge(a, b), c));
          check_state("merge(a, merge(b, c))," + at + " and " + std::to_string(k2), x, attn::merge(a, attn::merge(b, c)));
        }
      }
    }
  }
}

TEST_CASE("the empty state is the identity of merge, and pushing -inf changes nothing", "[step9][special]") {
  const attn::online_softmax empty;
  const attn::online_softmax some = pushed(std::vector<float>{0.5f, -2.0f, 4.0f});
  for (const auto& merged : {attn::merge(empty, some), attn::merge(some, empty)}) {
    INFO("merge with the empty state gave {" << merged.max << ", " << merged.sum << "}, expected {" << some.max
                                             << ", " << some.sum << "}");
    CHECK(merged.max == some.max);
    CHECK(merged.sum == some.sum);
  }
  const attn::online_softmax both_empty = attn::merge(empty, empty);
  CHECK(both_empty.max == -inf);
  CHECK(both_empty.sum == 0.0f);
  attn::online_softmax s = some;
  attn::push(s, -inf);
  INFO("pushing -inf into {" << some.max << ", " << some.sum << "} gave {" << s.max << ", " << s.sum << "}");
  CHECK(s.max == some.max);
  CHECK(s.sum == some.sum);
}

TEST_CASE("a row of nothing but -inf keeps the empty state and gives weight 0, never NaN", "[step9][special]") {
  const attn::online_softmax s = pushed(std::vector<float>{-inf, -inf, -inf});
  ATTN_CHECK_CLOSE("state after pushing three -inf: max", -inf, s.max, 0.0);
  ATTN_CHECK_CLOSE("state after pushing three -inf: sum", 0.0, s.sum, 0.0);
  ATTN_CHECK_CLOSE("weight of -inf in an all -inf row", 0.0, attn::weight(s, -inf), 0.0);
  ATTN_CHECK_CLOSE("weight of -inf in the row [-inf, 0]", 0.0, attn::weight(pushed(std::vector<float>{-inf, 0.0f}), -inf), 0.0);
  ATTN_CHECK_CLOSE("weight of 0 in the row [-inf, 0]", 1.0, attn::weight(pushed(std::vector<float>{-inf, 0.0f}), 0.0f), 0.0);
}

TEST_CASE("any score weighs 0 in the empty state: it has nothing to attend to", "[step9][special]") {
  // The contract: weight(state, x) = 0 when the state is empty (sum 0), whatever x is,
  // not e^(x - (-inf)) / 0.
  const attn::online_softmax empty;
  for (const float x : {-3.0f, 0.0f, 2.5f, 1e30f, inf}) {
    ATTN_CHECK_CLOSE("weight(empty state, " + attn::test::fmt(x) + ")", 0.0, attn::weight(empty, x), 0.0);
  }
}

TEST_CASE("+inf scores share the weight; a NaN score makes the state NaN for good", "[step9][special]") {
  const std::vector<float> x{1.0f, inf, 5.0f, inf};
  const attn::online_softmax s = pushed(x);
  ATTN_CHECK_CLOSE("state of [1, inf, 5, inf]: max", inf, s.max, 0.0);
  // e^(1 - inf) + e^0 + e^(5 - inf) + e^0: each +inf counts 1 against a max of +inf.
  ATTN_CHECK_CLOSE("state of [1, inf, 5, inf]: sum", 2.0, s.sum, 0.0);
  ATTN_CHECK_CLOSE("weight of +inf in [1, inf, 5, inf]", 0.5, attn::weight(s, inf), 0.0);
  ATTN_CHECK_CLOSE("weight of 5 in [1, inf, 5, inf]", 0.0, attn::weight(s, 5.0f), 0.0);
  const attn::online_softmax half = pushed(std::vector<float>{1.0f, qnan});
  ATTN_CHECK_CLOSE("state of [1, nan]: max", qnan, half.max, 0.0);
  ATTN_CHECK_CLOSE("state of [1, nan]: sum", qnan, half.sum, 0.0);
  const attn::online_softmax n = pushed(std::vector<float>{1.0f, qnan, 2.0f});
  ATTN_CHECK_CLOSE("state of [1, nan, 2]: max", qnan, n.max, 0.0);
  ATTN_CHECK_CLOSE("state of [1, nan, 2]: sum", qnan, n.sum, 0.0);
  ATTN_CHECK_CLOSE("weight in a NaN state", qnan, attn::weight(n, 1.0f), 0.0);
  const attn::online_softmax m = attn::merge(pushed(std::vector<float>{3.0f}), n);
  CHECK(std::isnan(m.max));
  CHECK(std::isnan(m.sum));
}

TEST_CASE("merge with a NaN state gives NaN in both fields, whichever part holds the NaN", "[step9][special]") {
  // NaN in either gives NaN (the contract), also against the empty state. A max chosen by a
  // comparison (a.max > b.max ? a.max : b.max) is false for a NaN and keeps the other part's
  // max; an empty part recognised by !(sum > 0) takes the NaN state for an empty one.
  const attn::online_softmax nan_state{qnan, qnan};
  const attn::online_softmax three{3.0f, 1.0f};  // the state of the row [3]: max 3, sum e^0
  const attn::online_softmax empty;              // max -inf, sum 0
  const std::pair<std::string, attn::online_softmax> others[] = {{"the state of [3]", three},
                                                                 {"the empty state", empty}};
  for (const auto& [name, other] : others) {
    for (const bool nan_first : {true, false}) {
      const std::string what = nan_first ? "merge(NaN state, " + name + ")" : "merge(" + name + ", NaN state)";
      const attn::online_softmax m = nan_first ? attn::merge(nan_state, other) : attn::merge(other, nan_state);
      ATTN_CHECK_CLOSE(what + ": max (NaN in either part gives NaN)", qnan, m.max, 0.0);
      ATTN_CHECK_CLOSE(what + ": sum (NaN in either part gives NaN)", qnan, m.sum, 0.0);
    }
  }
}

TEST_CASE("merge with +inf maxima: the +inf scores of both parts share the weight, never inf - inf", "[step9][special]") {
  // The parts [1, inf] and [inf, 5] have the states {inf, 1} and {inf, 1} (each +inf counts
  // e^0 = 1 against a max of +inf, the finite scores e^-inf = 0); the whole row [1, inf, inf, 5]
  // has {inf, 2}. The parts [inf] and [3]: {inf, 1} and {3, 1}; the whole row {inf, 1}. Both
  // orders: any split, merged in any order, gives the state of the whole row. e^(m_a - m)
  // with m_a = m = +inf is e^0 = 1, not e^(inf - inf) = NaN.
  const attn::online_softmax one_inf{inf, 1.0f}, three{3.0f, 1.0f};
  struct merge_case {
    std::string what;
    attn::online_softmax a, b;
    double max, sum;
  };
  const merge_case cases[] = {
      {"merge(state of [1, inf], state of [inf, 5])", one_inf, one_inf, inf, 2.0},
      {"merge(state of [inf], state of [3])", one_inf, three, inf, 1.0},
      {"merge(state of [3], state of [inf])", three, one_inf, inf, 1.0},
  };
  for (const auto& c : cases) {
    const attn::online_softmax m = attn::merge(c.a, c.b);
    ATTN_CHECK_CLOSE(c.what + ": max", c.max, m.max, 0.0);
    ATTN_CHECK_CLOSE(c.what + ": sum (each +inf score counts 1, the finite ones 0)", c.sum, m.sum, 0.0);
  }
}

TEST_CASE("a NaN score has weight NaN in every state, the empty one included", "[step9][special]") {
  // weight(state, x) is NaN when x is NaN (the contract), before any other case: e^(NaN - m)
  // / l, and NaN in, NaN out even where an empty state gives every other score weight 0.
  // Testing x == -inf as !(x > -inf) is also true for a NaN and gives it weight 0.
  const attn::online_softmax states[] = {{2.0f, 1.5f}, {-1.0f, 3.0f}, {inf, 2.0f}, {}};
  for (const auto& s : states) {
    ATTN_CHECK_CLOSE("weight(state {" + attn::test::fmt(s.max) + ", " + attn::test::fmt(s.sum) +
                         "}, nan) (NaN in, NaN out)",
                     qnan, attn::weight(s, qnan), 0.0);
  }
}

TEST_CASE("the online weights equal the stable softmax for rows of every length and range", "[step9][property]") {
  auto gen = attn::test::rng(902);
  for (const std::size_t n : attn::test::tail_sizes()) {
    if (n > 5000) continue;
    for (const float spread : {1.0f, 50.0f}) {
      const std::vector<float> x = attn::test::uniform_row(gen, n, -spread, spread);
      std::vector<float> expected = x;
      attn::ref::stable_softmax(expected);
      const attn::online_softmax s = pushed(x);
      std::vector<float> w;
      for (float v : x) w.push_back(attn::weight(s, v));
      ATTN_CHECK_ALL_CLOSE("online weights vs stable_softmax, n = " + std::to_string(n), expected, w,
                           tol::online_softmax_row(x, expected), inputs().add("x", x));
    }
  }
}

TEST_CASE("streaming attention equals the two-pass result for every block size, causal or not", "[step9][property]") {
  auto gen = attn::test::rng(903);
  for (const bool causal : {false, true}) {
    for (const std::size_t n : {1u, 2u, 3u, 5u, 8u, 13u, 17u}) {
      const std::size_t nq = n, nk = n + (n % 4), d = 1 + n % 9, dv = 1 + (n * 3) % 5;
      const attn::matrix Q = attn::test::gaussian_matrix(gen, nq, d), K = attn::test::gaussian_matrix(gen, nk, d);
      const attn::matrix V = attn::test::uniform_matrix(gen, nk, dv, -5.0f, 5.0f);
      const auto e = attn::test::reference_attention(Q, K, V, causal, true);
      for (std::size_t block = 1; block <= nk + 1; ++block) {
        attn::test::guarded_matrix O(nq, dv, qnan);
        attn::streaming_attention(Q, K, V, O.view(), causal, block);
        const std::string what = std::string(causal ? "causal " : "") + "streaming_attention, Q " + shape(nq, d) +
                                 ", K " + shape(nk, d) + ", V " + shape(nk, dv) + ", block " + std::to_string(block);
        ATTN_CHECK_ALL_CLOSE(what, e.output, O.view(), e.bounds, inputs().add("Q", Q).add("K", K).add("V", V));
        INFO(what << ": nothing outside O may be written");
        CHECK(O.intact());
      }
    }
  }
}

TEST_CASE("streaming attention gives zeros to queries whose keys are all masked, for every block size", "[step9][special]") {
  // A query with positive entries against a key of -inf entries scores -inf: that key is
  // masked. Keys 0 and 2 are, so under the causal mask query 0 sees nothing at all, and a
  // block may hold nothing but masked keys (e.g. block 1 at key 2).
  const attn::matrix Q{{1.0f, 0.5f}, {0.25f, 2.0f}, {1.5f, 1.0f}, {0.75f, 0.75f}};
  const attn::matrix K{{-inf, -inf}, {0.5f, -1.0f}, {-inf, -inf}, {2.0f, 0.25f}};
  const attn::matrix V{{100.0f, -100.0f, 7.0f}, {1.0f, 2.0f, 3.0f}, {-50.0f, 50.0f, 9.0f}, {-1.0f, 0.5f, 4.0f}};
  for (const bool causal : {true, false}) {
    const auto e = attn::test::reference_attention(Q, K, V, causal, true);
    for (std::size_t block = 1; block <= 5; ++block) {
      attn::matrix O(4, 3, qnan);
      attn::streaming_attention(Q, K, V, O, causal, block);
      const std::string what = std::string(causal ? "causal " : "") + "streaming_attention with masked keys, block " +
                               std::to_string(block);
      ATTN_CHECK_ALL_CLOSE(what, e.output, O, e.bounds, inputs().add("Q", Q).add("K", K).add("V", V));
      if (causal) ATTN_CHECK_ALL_CLOSE(what + ": query 0 sees only a masked key", std::vector<double>(3, 0.0), O.row(0), 0.0);
    }
  }
  const attn::matrix K_all(3, 2, -inf), V3(3, 2, 1.0f);
  for (std::size_t block = 1; block <= 4; ++block) {
    attn::matrix O(4, 2, qnan);
    attn::streaming_attention(Q, K_all, V3, O, false, block);
    ATTN_CHECK_ALL_CLOSE("streaming_attention with every key masked, block " + std::to_string(block),
                         std::vector<double>(8, 0.0), O, 0.0);
  }
}

TEST_CASE("streaming attention: +inf scores share the weight equally and the rest get 0, tied or not, for every "
          "block size",
          "[step9][special]") {
  // 1e20 x 1e20 overflows float: keys 1 and 3 score +inf for the queries that reach them
  // with 1e20, key 2 -inf; no product mixes signs, so no score is NaN. Without the mask
  // query 0 and 2 have one +inf score each (all the weight), queries 1 and 3 two (half
  // each); under it query 0 sees one finite key, query 1 one +inf, query 2 three scores of 0
  // (a third each), query 3 two +inf. Never inf - inf (stable_softmax's rule, step 5).
  const float big = 1e20f;
  const attn::matrix Q{{big, 0.0f}, {big, big}, {0.0f, big}, {big, big}};
  const attn::matrix K{{1.0f, 0.0f}, {big, 0.0f}, {-big, 0.0f}, {0.0f, big}, {2.0f, 1.0f}};
  const attn::matrix V{{1.0f, -2.0f, 0.5f}, {3.0f, 1.0f, -1.0f}, {-4.0f, 6.0f, 2.0f}, {5.0f, -3.0f, 0.25f},
                       {2.0f, 2.0f, -6.0f}};
  for (const bool causal : {false, true}) {
    attn::matrix beta(4, 5);
    attn::ref::scores(Q, K, beta.view());
    if (causal) attn::ref::apply_causal_mask(beta.view());
    std::vector<double> expected, bounds;
    for (std::size_t i = 0; i < 4; ++i) {
      const std::vector<double> a = attn::test::oracle::softmax(std::span<const float>(beta.row(i)));  // the contract's rule
      const std::vector<float> a_f(a.begin(), a.end());
      const auto wb = attn::test::exact_where_masked(tol::online_softmax_row(beta.row(i), a_f), beta.row(i));
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
    for (std::size_t block = 1; block <= 6; ++block) {
      attn::matrix O(4, 3, qnan);
      attn::streaming_attention(Q, K, V, O, causal, block);
      ATTN_CHECK_ALL_CLOSE(std::string(causal ? "causal " : "") + "streaming_attention with +inf scores, block " +
                               std::to_string(block),
                           expected, O, bounds, inputs().add("Q", Q).add("K", K).add("V", V));
    }
  }
}

TEST_CASE("streaming attention reads no row of a masked key, and every visible key takes part even with weight 0",
          "[step9][special]") {
  // The rule of attention() (step 7): under the causal mask query i depends on keys and values
  // 0..i only, so NaN or inf in key k's rows leaves queries i < k as attention over the first
  // k keys; a NaN value a query can see gives NaN, even when its weight is 0.
  auto gen = attn::test::rng(904);
  const std::size_t n = 7, d = 3, dv = 2;
  const attn::matrix Q = attn::test::gaussian_matrix(gen, n, d), K = attn::test::gaussian_matrix(gen, n, d);
  const attn::matrix V = attn::test::uniform_matrix(gen, n, dv, -3.0f, 3.0f);
  for (const std::size_t block : {1u, 2u, 3u, 4u, 8u}) {
    attn::test::check_masked_rows_unread(
        "causal streaming_attention, block " + std::to_string(block), Q, K, V, {n - 1, 3}, true,
        [block](const attn::matrix& q, const attn::matrix& k, const attn::matrix& v, attn::matrix& o) {
          attn::streaming_attention(q, k, v, o, true, block);
        });
  }
  // Without the mask: scores [200, -200, 1] give key 1 the weight e^-400 (0 in float), and
  // key 2 of the second problem scores -inf (weight exactly 0): their NaN values still count.
  const attn::matrix Q1{{1.0f}, {-1.0f}}, K1{{200.0f}, {-200.0f}, {1.0f}};
  const attn::matrix V1{{1.0f, 2.0f}, {qnan, qnan}, {3.0f, 4.0f}};
  const attn::matrix Q2{{1.0f, 0.5f}, {0.5f, 2.0f}}, K2{{0.25f, 1.0f}, {-1.0f, 0.5f}, {-inf, -inf}};
  const attn::matrix V2{{1.0f, -2.0f}, {3.0f, 0.5f}, {qnan, qnan}};
  for (std::size_t block = 1; block <= 4; ++block) {
    attn::matrix O(2, 2, 0.0f);
    attn::streaming_attention(Q1, K1, V1, O, false, block);
    ATTN_CHECK_ALL_CLOSE("streaming_attention with a NaN value row of weight e^-400, block " + std::to_string(block),
                         std::vector<double>(4, qnan), O, 0.0, inputs().add("Q", Q1).add("K", K1).add("V", V1));
    attn::streaming_attention(Q2, K2, V2, O, false, block);
    ATTN_CHECK_ALL_CLOSE("streaming_attention with a NaN value row behind scores of -inf, block " +
                             std::to_string(block),
                         std::vector<double>(4, qnan), O, 0.0, inputs().add("Q", Q2).add("K", K2).add("V", V2));
  }
}

TEST_CASE("causal streaming attention with more queries than keys: query i >= n_k sees all n_k keys, for every block "
          "size",
          "[step9][property]") {
  // The causal mask is top-left aligned, as in attention(): query i sees keys
  // 0..min(i, n_k - 1). With n_q > n_k the loop that stops at key i must also stop at the last
  // key, n_k - 1 (past it, it reads rows of K and V that do not exist). Expected: the double
  // oracle; every block size the other tests use.
  for (const std::size_t block : {1u, 2u, 3u, 4u, 5u, 6u, 8u}) {
    attn::test::check_more_queries_than_keys(
        "causal streaming_attention, block " + std::to_string(block), 905, true,
        [block](const attn::matrix& q, const attn::matrix& k, const attn::matrix& v, attn::matrix_view o) {
          attn::streaming_attention(q, k, v, o, true, block);
        });
  }
}

TEST_CASE("streaming attention: no keys give zeros, a NaN score gives NaN, bad input is refused", "[step9][special]") {
  const attn::matrix Q{{1.0f, 2.0f}, {0.5f, -1.0f}}, K0(0, 2), V0(0, 3);
  attn::matrix O(2, 3, qnan);
  attn::streaming_attention(Q, K0, V0, O, false, 4);
  ATTN_CHECK_ALL_CLOSE("streaming_attention with n_k = 0", std::vector<double>(6, 0.0), O, 0.0);
  const attn::matrix K{{qnan, 1.0f}, {1.0f, 1.0f}}, V{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}};
  attn::streaming_attention(Q, K, V, O, false, 1);
  for (std::size_t c = 0; c < 3; ++c) {
    INFO("O(0, " << c << ") = " << O(0, c) << ": a NaN score must make the output NaN");
    CHECK(std::isnan(O(0, c)));
  }
  attn::matrix O_wide(2, 4);
  const attn::matrix K_bad(2, 3), V_bad(3, 3);
  // The sizes: block_size 0; O's 4 columns for d_v = 3; d = 2 and 3; V's 3 rows for n_k = 2.
  ATTN_REQUIRE_INVALID(attn::streaming_attention(Q, K, V, O, false, 0), "streaming_attention", 0);
  ATTN_REQUIRE_INVALID(attn::streaming_attention(Q, K, V, O_wide, false, 1), "streaming_attention", 4, 3);
  ATTN_REQUIRE_INVALID(attn::streaming_attention(Q, K_bad, V, O, true, 1), "streaming_attention", 2, 3);
  ATTN_REQUIRE_INVALID(attn::streaming_attention(Q, K, V_bad, O, true, 1), "streaming_attention", 3, 2);
}
