// The answer key's functions (solutions/) with a C interface, for the docs' live widgets.
//
// Emscripten compiles this file with the answer key of steps 1-6 and 9 into one module
// (docs/CMakeLists.txt); docs/widgets/attn.js wraps it in a typed JavaScript API. The
// equality test replays the widgets' calls with the native build of the same answer key
// (docs/widgets/widget_oracle.cpp calls solutions/ directly). Only the scalar answer key is
// here: the reference's xsimd kernels are not built for WebAssembly (xsimd 8.1, on Debian 12,
// has no WebAssembly target).
//
// Every pointer is a float array of the size its comment says. attn.js checks the sizes (and
// d >= 1 where the answer key needs it) before it calls, so the answer key's
// std::invalid_argument is never reached: this build has no exception support, and a throw
// would end the module's call with a bare JavaScript value instead of a message.
#include <attn/contract.hpp>

#include <cstddef>
#include <span>

#if defined(__EMSCRIPTEN__)
#include <emscripten/emscripten.h>
#define ATTN_EXPORT extern "C" EMSCRIPTEN_KEEPALIVE
#else
#define ATTN_EXPORT extern "C"
#endif

namespace {
std::span<float> row(float* x, std::size_t n) { return {x, n}; }
std::span<const float> crow(const float* x, std::size_t n) { return {x, n}; }
}  // namespace

/// Step 1: q . k for q, k of length d.
ATTN_EXPORT float attn_dot(const float* q, const float* k, std::size_t d) {
  return attn::dot(crow(q, d), crow(k, d));
}

/// Step 2: q . k / sqrt(d).
ATTN_EXPORT float attn_scaled_score(const float* q, const float* k, std::size_t d) {
  return attn::scaled_score(crow(q, d), crow(k, d));
}

/// Step 2: S = Q K^T / sqrt(d) for Q (nq x d), K (nk x d), S (nq x nk).
ATTN_EXPORT void attn_scores(const float* Q, const float* K, float* S, std::size_t nq, std::size_t nk,
                             std::size_t d) {
  attn::scores({Q, nq, d}, {K, nk, d}, {S, nq, nk});
}

/// Step 3: the causal mask added to S (n_rows x n_cols) in place.
ATTN_EXPORT void attn_apply_causal_mask(float* S, std::size_t rows, std::size_t cols) {
  attn::apply_causal_mask({S, rows, cols});
}

/// Step 4: the naive softmax of a row of n, in place.
ATTN_EXPORT void attn_softmax(float* x, std::size_t n) { attn::softmax(row(x, n)); }

/// Step 5: the stable softmax of a row of n, in place.
ATTN_EXPORT void attn_stable_softmax(float* x, std::size_t n) { attn::stable_softmax(row(x, n)); }

/// Step 5: log sum exp of a row of n.
ATTN_EXPORT float attn_log_sum_exp(const float* x, std::size_t n) { return attn::log_sum_exp(crow(x, n)); }

/// Step 6: the entropy of n weights, in nats.
ATTN_EXPORT float attn_entropy(const float* a, std::size_t n) { return attn::entropy(crow(a, n)); }

/// Step 6: the softmax Jacobian J (n x n) of n weights.
ATTN_EXPORT void attn_softmax_jacobian(const float* a, float* J, std::size_t n) {
  attn::softmax_jacobian(crow(a, n), {J, n, n});
}

/// Step 9: one score pushed into the state {m, l} (two floats), in place.
ATTN_EXPORT void attn_push(float* state, float x) {
  attn::online_softmax s{state[0], state[1]};
  attn::push(s, x);
  state[0] = s.max;
  state[1] = s.sum;
}

/// Step 9: the weight of score x in the row summarised by the state {m, l}.
ATTN_EXPORT float attn_weight(const float* state, float x) {
  return attn::weight(attn::online_softmax{state[0], state[1]}, x);
}
