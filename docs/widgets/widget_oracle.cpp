// The native side of the docs' equality test: replays the calls the widgets made in the
// browser (the WebAssembly build of the answer key, recorded by attn.js) with the native
// build of the same answer key, and prints each result with its error bound.
//
//   attn_widget_oracle < calls.txt
//
// One call per input line: the function's name as attn.js calls it, then each argument as a
// count followed by that many numbers (inf, -inf and nan allowed):
//   dot 2 1 2 2 3 4            attn.dot([1, 2], [3, 4])
// One line out per call: the number of results, then each result and its bound, the
// largest difference two correct builds may show (tests/support/tolerances.hpp, two
// implementations: the browser's and this one), both exact in %.17g. Equal special values (inf, nan) are
// required exactly, so their bound is printed as 0. docs/widgets/check_widgets.py compares.
#include <attn/contract.hpp>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "support/tolerances.hpp"

namespace {

namespace tol = attn::test::tol;
using floats = std::vector<float>;

[[noreturn]] void fail(const std::string& line, const std::string& why) {
  std::fprintf(stderr, "attn_widget_oracle: %s in the call '%s'; expected a function name and "
                       "count-prefixed argument lists (see the file's comment)\n",
               why.c_str(), line.c_str());
  std::exit(2);
}

struct call {
  std::string fn;
  std::vector<floats> args;
};

call parse(const std::string& line) {
  std::istringstream in(line);
  call c;
  in >> c.fn;
  std::string word;
  while (in >> word) {
    char* end = nullptr;
    const unsigned long long count = std::strtoull(word.c_str(), &end, 10);
    if (*end != '\0' || count > (1u << 20)) fail(line, "'" + word + "' is not an argument's count");
    floats values;
    for (unsigned long long i = 0; i < count; ++i) {
      if (!(in >> word)) fail(line, "an argument has fewer numbers than its count");
      values.push_back(std::strtof(word.c_str(), &end));
      if (*end != '\0') fail(line, "'" + word + "' is not a number");
    }
    c.args.push_back(std::move(values));
  }
  return c;
}

void need(const call& c, const std::string& line, std::size_t args, bool same_length = false) {
  if (c.args.size() != args) fail(line, c.fn + " takes " + std::to_string(args) + " arguments");
  if (same_length && c.args[0].size() != c.args[1].size()) fail(line, "q and k differ in length");
}

std::size_t whole(const call& c, const std::string& line, std::size_t arg) {
  if (c.args[arg].size() != 1 || !(c.args[arg][0] >= 1) || c.args[arg][0] != std::floor(c.args[arg][0])) {
    fail(line, "argument " + std::to_string(arg) + " is not a whole number >= 1");
  }
  return static_cast<std::size_t>(c.args[arg][0]);
}

void print(const std::vector<float>& values, const std::vector<double>& bounds) {
  std::printf("%zu", values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::printf(" %.17g %.17g", static_cast<double>(values[i]), std::isfinite(values[i]) ? bounds[i] : 0.0);
  }
  std::printf("\n");
}

void replay(const std::string& line) {
  const call c = parse(line);
  if (c.fn == "dot" || c.fn == "scaledScore") {
    need(c, line, 2, true);
    const auto& q = c.args[0];
    const auto& k = c.args[1];
    const double sap = tol::sum_abs_products(q, k);
    if (c.fn == "dot") {
      print({attn::dot(q, k)}, {tol::dot(q.size(), sap)});
    } else {
      print({attn::scaled_score(q, k)}, {tol::scaled_score(q.size(), sap)});
    }
  } else if (c.fn == "scores") {
    need(c, line, 3);
    const std::size_t d = whole(c, line, 2);
    const auto& Q = c.args[0];
    const auto& K = c.args[1];
    if (Q.size() % d || K.size() % d) fail(line, "Q or K is not whole rows of d");
    const std::size_t nq = Q.size() / d, nk = K.size() / d;
    floats S(nq * nk);
    attn::scores({Q.data(), nq, d}, {K.data(), nk, d}, {S.data(), nq, nk});
    std::vector<double> bounds;
    for (std::size_t i = 0; i < nq; ++i) {
      for (std::size_t j = 0; j < nk; ++j) {
        const std::span<const float> q(Q.data() + i * d, d), k(K.data() + j * d, d);
        bounds.push_back(tol::scaled_score(d, tol::sum_abs_products(q, k)));
      }
    }
    print(S, bounds);
  } else if (c.fn == "applyCausalMask") {
    need(c, line, 2);
    floats S = c.args[0];
    const std::size_t rows = whole(c, line, 1);
    if (S.size() % rows) fail(line, "S is not whole rows");
    attn::apply_causal_mask({S.data(), rows, S.size() / rows});
    print(S, std::vector<double>(S.size(), 0.0));  // adds 0 or -inf: exact
  } else if (c.fn == "softmax" || c.fn == "stableSoftmax") {
    need(c, line, 1);
    floats a = c.args[0];
    if (c.fn == "softmax") {
      attn::softmax(a);
    } else {
      attn::stable_softmax(a);
    }
    // A row the naive formula overflowed holds NaN (inf / inf) beside exact zeros (x / inf):
    // the NaN entries must match exactly, and the zeros' bound comes from the finite weights.
    floats finite = a;
    for (float& w : finite) w = std::isfinite(w) ? w : 0.0f;
    print(a, tol::softmax_row(c.args[0], finite));
  } else if (c.fn == "logSumExp") {
    need(c, line, 1);
    floats a = c.args[0];
    attn::stable_softmax(a);
    const float L = attn::log_sum_exp(c.args[0]);
    print({L}, {tol::log_sum_exp(c.args[0], a, L)});
  } else if (c.fn == "entropy") {
    need(c, line, 1);
    print({attn::entropy(c.args[0])}, {tol::entropy(c.args[0])});
  } else if (c.fn == "softmaxJacobian") {
    need(c, line, 1);
    const auto& a = c.args[0];
    const std::size_t n = a.size();
    floats J(n * n);
    attn::softmax_jacobian(a, {J.data(), n, n});
    std::vector<double> bounds;
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t l = 0; l < n; ++l) bounds.push_back(tol::jacobian(a[j], a[l], j == l));
    }
    print(J, bounds);
  } else if (c.fn == "push" || c.fn == "weight") {
    need(c, line, 2);
    if (c.args[0].size() != 2 || c.args[1].size() != 1) fail(line, c.fn + " takes a state {m, l} and one score");
    attn::online_softmax s{c.args[0][0], c.args[0][1]};
    const float x = c.args[1][0];
    if (c.fn == "push") {
      const attn::online_softmax before = s;
      attn::push(s, x);
      print({s.max, s.sum}, {0.0, tol::online_push(before.max, before.sum, x, s.max)});
    } else {
      const float w = attn::weight(s, x);
      print({w}, {tol::online_weight(s.max, x, w)});
    }
  } else {
    fail(line, "'" + c.fn + "' is not a function the widgets call");
  }
}

}  // namespace

int main(int argc, char**) {
  if (argc > 1) {
    std::fprintf(stderr, "usage: attn_widget_oracle < calls.txt (one call per line; see docs/widgets/widget_oracle.cpp)\n");
    return 2;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty()) replay(line);
  }
  return 0;
}
