// The refusal check itself (tests/support/compare.hpp's ATTN_REQUIRE_INVALID and the rule
// of support/diagnosis.hpp it shares with the judge's diagnosis): a message must name the
// function as a whole identifier and each size as a whole number, and a failure says what
// is missing.
#include <cstddef>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/compare.hpp"
#include "support/diagnosis.hpp"

namespace {

namespace diag = attn::test::diagnosis;

/// refusal_failure for a call that threw std::invalid_argument(message).
std::string failure(const std::string& message, std::string_view function, std::initializer_list<std::size_t> sizes) {
  const auto r = attn::test::refusal_of([&] { throw std::invalid_argument(message); });
  return attn::test::refusal_failure("attn::f(x)", r, function, std::span<const std::size_t>(sizes.begin(), sizes.size()));
}

}  // namespace

TEST_CASE("a function is named only as a whole identifier", "[support][refusal]") {
  CHECK(diag::names_function("attn::dot: q has 3 elements", "dot"));
  CHECK(diag::names_function("dot", "dot"));
  CHECK(diag::names_function("(dot)", "dot"));
  CHECK_FALSE(diag::names_function("attn::attention_output: A is 2 x 3", "attention"));
  CHECK_FALSE(diag::names_function("attn::scaled_scores: bad", "scores"));
  CHECK_FALSE(diag::names_function("attn::dot2: bad", "dot"));
  CHECK_FALSE(diag::names_function("attn::xdot: bad", "dot"));
  CHECK(diag::names_function("attn::attention_output: bad, so attn::attention: bad", "attention"));
  // Several names: any one will do, each as a whole identifier.
  CHECK(diag::names_function("attn::scores: d = 0", "attention_weights|scores"));
  CHECK(diag::names_function("attn::attention_weights: d = 0", "attention_weights|scores"));
  CHECK_FALSE(diag::names_function("attn::softmax: d = 0", "attention_weights|scores"));
  CHECK_FALSE(diag::names_function("", "dot"));
}

TEST_CASE("a size is found only as a whole number", "[support][refusal]") {
  CHECK(diag::names_number("q has 3 elements but k has 5", 3));
  CHECK(diag::names_number("q has 3 elements but k has 5", 5));
  CHECK(diag::names_number("S is 3 x 2", 2));
  CHECK(diag::names_number("S is 3x2.", 3));
  CHECK(diag::names_number("d = 0", 0));
  CHECK(diag::names_number("expected 3.", 3));  // the full stop ends a sentence, not a number
  CHECK(diag::names_number("13 then 3", 3));
  CHECK_FALSE(diag::names_number("q has 13 elements", 3));
  CHECK_FALSE(diag::names_number("q has 31 elements", 3));
  CHECK_FALSE(diag::names_number("a weight of 3.5", 3));
  CHECK_FALSE(diag::names_number("a weight of 1.3", 3));
  CHECK_FALSE(diag::names_number("a weight of 0.5", 0));
  CHECK_FALSE(diag::names_number("q has 30 elements", 0));
  CHECK_FALSE(diag::names_number("no numbers", 3));
  CHECK(diag::names_number("n = 1024", 1024));
  CHECK_FALSE(diag::names_number("n = 1024", 102));
}

TEST_CASE("gaps_in says what a refusal's message lacks", "[support][refusal]") {
  const std::size_t sizes[] = {3, 5};
  CHECK(diag::gaps_in("attn::dot: q has 3 elements but k has 5", "dot", sizes).ok());
  const auto no_sizes = diag::gaps_in("attn::dot: bad sizes", "dot", sizes);
  CHECK_FALSE(no_sizes.function_missing);
  CHECK(no_sizes.sizes_missing == std::vector<std::size_t>{3, 5});
  const auto no_name = diag::gaps_in("size mismatch: 3 and 5", "dot", sizes);
  CHECK(no_name.function_missing);
  CHECK(no_name.sizes_missing.empty());
  CHECK_FALSE(no_name.same_kind(no_sizes));
  CHECK(diag::gaps_in("attn::dot: 3 vs 15", "dot", sizes).sizes_missing == std::vector<std::size_t>{5});
  const std::size_t repeated[] = {3, 3};
  CHECK(diag::gaps_in("attn::dot: bad", "dot", repeated).sizes_missing == std::vector<std::size_t>{3});
}

TEST_CASE("a failed refusal check names what the message lacks", "[support][refusal]") {
  CHECK(failure("attn::f: q has 3 elements but k has 5", "f", {3, 5}).empty());
  const std::string sizes = failure("f: bad sizes 3", "f", {3, 5});
  INFO(sizes);
  CHECK(sizes.rfind("attn::f(x): expected std::invalid_argument whose message names f and the sizes 3 and 5, "
                    "but its message lacks 5: \"f: bad sizes 3\"",
                    0) == 0);
  const std::string name = failure("attn::f_output: 3 and 5", "f", {3, 5});
  INFO(name);
  CHECK(name.find("its message does not name f (only as part of a longer name, another function's): ") != std::string::npos);
  const std::string both = failure("size mismatch", "f|g", {0});
  INFO(both);
  CHECK(both.find("names f or g and the size 0, but its message does not name f or g and lacks 0: "
                  "\"size mismatch\"") != std::string::npos);
  const auto returned = attn::test::refusal_of([] {});
  const std::size_t one[] = {1};
  CHECK(attn::test::refusal_failure("e", returned, "f", one).find("it returned normally") != std::string::npos);
  const auto other = attn::test::refusal_of([] { throw std::out_of_range("attn::f: 1"); });
  CHECK(attn::test::refusal_failure("e", other, "f", one).find("it threw another exception") != std::string::npos);
}

TEST_CASE("ATTN_REQUIRE_INVALID passes a message naming the function and the sizes", "[support][refusal]") {
  ATTN_REQUIRE_INVALID(throw std::invalid_argument("attn::dot: q has 3 elements but k has 5"), "dot", 3, 5);
  ATTN_REQUIRE_INVALID(throw std::invalid_argument("attn::scores: d = 0"), "attention_weights|scores", 0);
}
