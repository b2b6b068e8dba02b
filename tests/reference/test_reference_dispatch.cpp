// The reference's instruction sets, its bad-input policy and the matrix types.
#include <limits>
#include <string>
#include <vector>

#include "support/catch.hpp"

#include "helpers.hpp"

namespace {

using attn::test::reference::invalid_argument_message;
using attn::test::reference::supported_isas;
namespace ref = attn::ref;

/// CHECKs that `f` throws std::invalid_argument whose message starts with `function`.
template <class F>
void check_rejects(const std::string& function, F&& f) {
  const std::string message = invalid_argument_message(f);
  INFO("expected std::invalid_argument naming " << function << ", got message: '" << message << "'");
  CHECK(message.rfind(function + ": ", 0) == 0);
  CHECK(message.find("expected") != std::string::npos);
}

}  // namespace

TEST_CASE("the reference lists its instruction sets narrowest first, and this CPU runs at least one",
          "[reference]") {
  const auto& sets = ref::instruction_sets();
  REQUIRE(!sets.empty());
  CHECK(sets.front().name == "scalar");
  CHECK(sets.front().supported);
  for (std::size_t i = 0; i < sets.size(); ++i) {
    INFO("instruction set " << sets[i].name);
    CHECK(sets[i].lanes >= 1u);
    if (i > 0) CHECK(sets[i].lanes >= sets[i - 1].lanes);
    for (std::size_t j = 0; j < i; ++j) CHECK(sets[j].name != sets[i].name);
  }
  // Unpinned, the reference runs the widest supported instruction set.
  CHECK(ref::active_isa() == supported_isas().back());
}

TEST_CASE("scoped_isa pins an instruction set on this thread and restores the previous one",
          "[reference]") {
  const std::string automatic(ref::active_isa());
  for (const std::string& name : supported_isas()) {
    ref::scoped_isa outer(name);
    CHECK(ref::active_isa() == name);
    {
      ref::scoped_isa inner("scalar");
      CHECK(ref::active_isa() == "scalar");
    }
    CHECK(ref::active_isa() == name);
  }
  CHECK(ref::active_isa() == automatic);
  check_rejects("attn::ref::scoped_isa", [] { ref::scoped_isa bad("mmx"); });
  CHECK(ref::active_isa() == automatic);
  for (const ref::isa& set : ref::instruction_sets()) {
    if (!set.supported) check_rejects("attn::ref::scoped_isa", [&] { ref::scoped_isa bad(set.name); });
  }
}

TEST_CASE("every reference function rejects bad shapes with a message naming it and the sizes",
          "[reference]") {
  std::vector<float> three(3, 1.0f), four(4, 1.0f), storage(64, 1.0f);
  const attn::const_matrix_view Q23(storage.data(), 2, 3), K43(storage.data(), 4, 3), K44(storage.data(), 4, 4);
  const attn::const_matrix_view Q20(storage.data(), 2, 0), K40(storage.data(), 4, 0);
  attn::matrix_view S24(storage.data(), 2, 4), S34(storage.data(), 3, 4), S23(storage.data(), 2, 3);
  for (const std::string& name : supported_isas()) {
    ref::scoped_isa pin(name);
    INFO("instruction set " << name);
    check_rejects("attn::ref::dot", [&] { ref::dot(three, four); });
    CHECK(invalid_argument_message([&] { ref::dot(three, four); }).find("3") != std::string::npos);
    check_rejects("attn::ref::scaled_score", [&] { ref::scaled_score(three, four); });
    check_rejects("attn::ref::scaled_score", [&] { ref::scaled_score({}, {}); });
    using scores_like = void (*)(attn::const_matrix_view, attn::const_matrix_view, attn::matrix_view);
    const std::pair<std::string, scores_like> shaped[] = {
        {"attn::ref::scores", [](attn::const_matrix_view q, attn::const_matrix_view k, attn::matrix_view s) { ref::scores(q, k, s); }},
        {"attn::ref::attention_weights", [](attn::const_matrix_view q, attn::const_matrix_view k, attn::matrix_view s) { ref::attention_weights(q, k, s, true); }}};
    for (const auto& entry : shaped) {
      const std::string& fn = entry.first;
      const scores_like call = entry.second;
      check_rejects(fn, [&] { call(Q23, K44, S24); });  // d differs
      check_rejects(fn, [&] { call(Q20, K40, S24); });  // d = 0
      check_rejects(fn, [&] { call(Q23, K43, S34); });  // wrong n_q
      check_rejects(fn, [&] { call(Q23, K43, S23); });  // wrong n_k
      CHECK(invalid_argument_message([&] { call(Q23, K43, S23); }).find("2 x 3") != std::string::npos);
    }
    attn::matrix_view J22(storage.data(), 2, 2), J33(storage.data(), 3, 3), J32(storage.data(), 3, 2);
    check_rejects("attn::ref::softmax_jacobian", [&] { ref::softmax_jacobian(three, J22); });
    check_rejects("attn::ref::softmax_jacobian", [&] { ref::softmax_jacobian(three, J32); });
    ref::softmax_jacobian(three, J33);  // the right shape is accepted
    check_rejects("attn::ref::dot_variance", [] { ref::dot_variance(4, 0, 1); });
  }
}

TEST_CASE("a view made from a span checks that it holds rows x cols floats", "[reference]") {
  std::vector<float> five(5), six(6);
  CHECK(invalid_argument_message([&] { attn::matrix_view(std::span<float>(five), 2, 3); }).rfind("matrix_view: ", 0) == 0);
  CHECK(invalid_argument_message([&] { attn::const_matrix_view(std::span<const float>(five), 2, 3); }).rfind("const_matrix_view: ", 0) == 0);
  CHECK(invalid_argument_message([&] { attn::matrix_view(std::span<float>(five), 2, 3); }).find("5") != std::string::npos);
  const attn::matrix_view fits(std::span<float>(six), 2, 3);
  CHECK(fits.rows == 2u);
  CHECK(fits.cols == 3u);
  CHECK(attn::const_matrix_view(std::span<const float>(six), 1, 5).size() == 5u);  // more storage is fine
  CHECK(attn::matrix_view(std::span<float>(), 0, 7).size() == 0u);
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2 + 1;
  CHECK(invalid_argument_message([&] { attn::matrix_view(std::span<float>(six), huge, 4); }).rfind("matrix_view: ", 0) == 0);
  CHECK(invalid_argument_message([&] { attn::matrix(huge, 4); }).rfind("matrix: ", 0) == 0);
}

TEST_CASE("a matrix from nested rows keeps their order and rejects ragged rows", "[reference]") {
  const attn::matrix m{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}};
  REQUIRE(m.rows() == 2u);
  REQUIRE(m.cols() == 3u);
  CHECK(m(0, 0) == 1.0f);
  CHECK(m(0, 2) == 3.0f);
  CHECK(m(1, 0) == 4.0f);
  CHECK(m(1, 2) == 6.0f);
  const attn::matrix one_empty_row{{}};
  CHECK(one_empty_row.rows() == 1u);
  CHECK(one_empty_row.cols() == 0u);
  const std::string message = invalid_argument_message([] { attn::matrix ragged{{1.0f, 2.0f}, {3.0f}}; });
  INFO(message);
  CHECK(message.rfind("attn::matrix: ", 0) == 0);
  CHECK(message.find("row 1 has 1") != std::string::npos);
}
