// Before a benchmark times a kernel it checks the kernel's result, with the tests' own
// tolerances (tests/support/tolerances.hpp) and nothing else: the reference against the
// double-precision oracle (tests/support/oracle.hpp; one implementation's error), every
// other variant against the reference (two implementations' error), as the tests do.
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <string>
#include <vector>

#include <attn/matrix.hpp>

namespace attn::bench {

/// An allocator on a 64-byte boundary (a cache line; an AVX-512 register), as attn::matrix
/// stores its elements. Every variant's inputs then start at the same alignment: with
/// malloc's 16 bytes, a register load that straddles two cache lines in one variant's
/// vectors and not in another's made dot at d = 16 take 2.5 ns or 3.3 ns, whoever ran it.
template <class T>
struct line_aligned {
  using value_type = T;
  static constexpr std::align_val_t alignment{64};
  line_aligned() = default;
  template <class U>
  line_aligned(const line_aligned<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), alignment)); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, alignment); }
  friend bool operator==(const line_aligned&, const line_aligned&) { return true; }
};

/// The benchmarks' input and output rows.
using floats = std::vector<float, line_aligned<float>>;

/// n standard normal floats times `spread`, the same for the same seed, from a 64-byte
/// boundary.
floats random_vector(std::size_t n, unsigned seed, float spread = 1.0f);

/// The random Q, K and V (n x d each: d_v = d) of the matrix benchmarks, and sum_c |q_ic k_jc|
/// for every pair, which the score tolerances need. Kept for the last (n, d) asked for.
struct matrix_inputs {
  std::size_t n = 0, d = 0;
  floats q, k, v;
  std::vector<double> sum_abs;  ///< n x n, row-major
  const_matrix_view Q() const { return {q.data(), n, d}; }
  const_matrix_view K() const { return {k.data(), n, d}; }
  const_matrix_view V() const { return {v.data(), n, d}; }
};
const matrix_inputs& inputs_for(std::size_t n, std::size_t d);

/// The checks return "" when every element is within its tolerance, otherwise a sentence
/// naming the first element that is not: where, expected, actual, tolerance.
/// `is_reference` compares with the oracle instead of the reference. For the matrix kernels
/// the oracle (long double) checks a sample of rows: all of them would take minutes.
std::string check_dot(float got, std::span<const float> q, std::span<const float> k, bool is_reference);
std::string check_softmax(std::span<const float> got, std::span<const float> x, bool is_reference);
/// softmax_rows(): each row as check_softmax (the oracle checks a sample of rows).
std::string check_softmax_rows(const_matrix_view got, const_matrix_view X, bool is_reference);
std::string check_scores(const_matrix_view got, const matrix_inputs& in, bool is_reference);
std::string check_attention_weights(const_matrix_view got, const matrix_inputs& in, bool causal,
                                    bool is_reference);

// Extension steps 7-11.

/// The reference's (non-causal) attention weights of `in`: the A of the attention_output
/// benchmarks.
const matrix& reference_weights_of(const matrix_inputs& in);
/// O = A V with A = reference_weights_of(in) and V = in.V() (tol::dot per element, as the tests).
std::string check_attention_output(const_matrix_view got, const matrix_inputs& in, bool is_reference);
/// O of attention() (`streaming` false: tol::attention_row) or streaming_attention() (true:
/// tol::streaming_attention_row), with tol::attention_output on top.
std::string check_attention(const_matrix_view got, const matrix_inputs& in, bool causal, bool streaming,
                            bool is_reference);
/// grad_s of softmax_backward(a, g, grad_s) (tol::softmax_backward).
std::string check_softmax_backward(std::span<const float> got, std::span<const float> a, std::span<const float> g,
                                   bool is_reference);
/// dQ, dK and dV of attention_backward(Q, K, V, dO, causal) (tol::attention_backward): the
/// reference against the oracle (oracle::attention_backward), the others against the reference.
std::string check_attention_backward(const_matrix_view dQ, const_matrix_view dK, const_matrix_view dV,
                                     const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                                     const_matrix_view dO, bool causal, bool is_reference);
/// layer_norm() and layer_norm_backward() of X (tol::layer_norm, tol::layer_norm_dx and
/// tol::layer_norm_dgain; the oracle checks a sample of rows).
std::string check_layer_norm(const_matrix_view Y, const_matrix_view dX, std::span<const float> dgain,
                             const_matrix_view X, std::span<const float> gain, const_matrix_view dY,
                             bool is_reference);
/// S0 + slope (j - i), i.e. add_alibi_bias() on a copy of S0 (tol::alibi_bias).
std::string check_alibi_bias(const_matrix_view got, const_matrix_view S0, float slope, bool is_reference);

}  // namespace attn::bench
