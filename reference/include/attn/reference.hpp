/// \file reference.hpp
/// \brief The fast, xsimd-vectorised reference: the ground truth the tests grade against.
///
/// Every function has the meaning, edge cases and errors of its namesake in contract.hpp.
/// The kernels are written once with the SIMD architecture as a template parameter and
/// compiled for every instruction set the platform has (SSE2, AVX2+FMA, AVX-512 on x86-64;
/// NEON on ARM64); the best one the CPU supports is chosen at run time. Tests pin each
/// instruction set in turn with scoped_isa.
///
/// Inside `attn::ref`, sibling functions are called qualified (`ref::dot`): unqualified
/// calls on `attn::` types would also find the student's functions by argument-dependent
/// lookup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <attn/matrix.hpp>
#include <attn/online_softmax.hpp>

namespace attn::ref {

/// \name Steps 1-6, vectorised
/// @{

/// The vectorised attn::dot(): same meaning, edge cases and errors.
float dot(std::span<const float> q, std::span<const float> k);
/// The vectorised attn::scaled_score(): same meaning, edge cases and errors.
float scaled_score(std::span<const float> q, std::span<const float> k);
/// The vectorised attn::scores(): same meaning, edge cases and errors.
void scores(const_matrix_view Q, const_matrix_view K, matrix_view S);
/// The vectorised attn::causal_mask(): same meaning, edge cases and errors.
matrix causal_mask(std::size_t n);
/// The vectorised attn::apply_causal_mask(): same meaning, edge cases and errors.
void apply_causal_mask(matrix_view S);
/// \brief Softmax in place. Unlike the exercise, the reference is always the stable
/// version (same values, no overflow), with the special rows of stable_softmax().
void softmax(std::span<float> row);
/// The vectorised attn::softmax_rows(): same meaning, edge cases and errors.
void softmax_rows(matrix_view S);
/// The vectorised attn::log_sum_exp(): same meaning, edge cases and errors.
float log_sum_exp(std::span<const float> row);
/// The vectorised attn::stable_softmax(): same meaning, edge cases and errors.
void stable_softmax(std::span<float> row);
/// The vectorised attn::attention_weights(): same meaning, edge cases and errors.
void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal);
/// The vectorised attn::dot_variance(): same meaning, edge cases and errors.
double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed);
/// The vectorised attn::entropy(): same meaning, edge cases and errors.
float entropy(std::span<const float> a);
/// The vectorised attn::softmax_jacobian(): same meaning, edge cases and errors.
void softmax_jacobian(std::span<const float> a, matrix_view J);

/// @}
/// \name Steps 7-12 (extensions)
/// @{

/// The vectorised attn::attention_output(): same meaning, edge cases and errors.
void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O);
/// The vectorised attn::attention(): same meaning, edge cases and errors.
void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
               bool causal);
/// The attn::alibi_slopes() of the reference: same meaning.
std::vector<float> alibi_slopes(std::size_t heads);
/// The attn::add_alibi_bias() of the reference: same meaning, edge cases.
void add_alibi_bias(matrix_view S, float slope);
/// The attn::push() of the reference: same meaning and special values.
void push(online_softmax& state, float x);
/// The attn::merge() of the reference: same meaning and special values.
online_softmax merge(const online_softmax& a, const online_softmax& b);
/// The attn::weight() of the reference: same meaning and special values.
float weight(const online_softmax& state, float x);
/// The vectorised attn::streaming_attention(): same meaning, edge cases and errors.
void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                         matrix_view O, bool causal, std::size_t block_size = 1);
/// The vectorised attn::softmax_backward(): same meaning, edge cases and errors.
void softmax_backward(std::span<const float> a, std::span<const float> grad_a,
                      std::span<float> grad_s);
/// The attn::attention_backward() of the reference: same meaning, edge cases and errors.
void attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                        const_matrix_view dO, bool causal, matrix_view dQ, matrix_view dK,
                        matrix_view dV);
/// The attn::layer_norm() of the reference: same meaning, edge cases and errors.
void layer_norm(const_matrix_view X, std::span<const float> gain, matrix_view Y);
/// The attn::layer_norm_backward() of the reference: same meaning, edge cases and errors.
void layer_norm_backward(const_matrix_view X, std::span<const float> gain, const_matrix_view dY,
                         matrix_view dX, std::span<float> dgain);

/// @}
/// \name Instruction sets
/// @{

/// \brief One instruction set the reference was compiled for.
struct isa {
  std::string name;    ///< e.g. "sse2", "avx2", "avx512f", "neon64".
  unsigned lanes = 0;  ///< floats per register.
  bool supported = false;  ///< the CPU running this program can execute it.
};

/// \brief Every instruction set compiled in, narrowest first, with CPU support.
const std::vector<isa>& instruction_sets();

/// \brief The instruction set the reference uses on this thread now.
std::string_view active_isa();

/// \brief Pins the reference to one instruction set on this thread while it lives
/// (for tests and benchmarks); the previous choice comes back on destruction.
/// \throws std::invalid_argument when `name` is unknown or not supported by this CPU.
class scoped_isa {
 public:
  /// Selects `name` (one of instruction_sets()).
  explicit scoped_isa(std::string_view name);
  ~scoped_isa();
  scoped_isa(const scoped_isa&) = delete;
  scoped_isa& operator=(const scoped_isa&) = delete;

 private:
  const void* previous_;
};

/// @}
/// \name Threads
/// @{

/// \brief Lets attention_weights() split a large problem (at least 2^21 multiply-adds left by
/// the mask, n_q n_k d or half that, and 4 blocks of rows per thread) over `count` threads:
/// the calling one and count - 1 helpers, started the first time and kept between calls
/// (parked, they watch briefly for the next call, then sleep). 1,
/// the default, keeps everything on the calling thread (the tests and the single-thread
/// benchmarks); 0 means std::thread::hardware_concurrency(). The rows go out in blocks,
/// the costliest first (under the causal mask a row's cost grows with its index), each to
/// whichever thread is free, so the threads finish together. The result is the same, bit
/// for bit, whatever the count; the instruction set is the calling thread's.
void set_threads(std::size_t count);

/// \brief The count set_threads() last set (1 unless changed), for every thread.
std::size_t threads();

/// @}

}  // namespace attn::ref
