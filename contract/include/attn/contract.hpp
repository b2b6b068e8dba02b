/// \file contract.hpp
/// \brief The functions a student writes, one group per step (namespace `attn`).
///
/// This header is the only place tests touch student code. With errors.hpp, matrix.hpp and
/// online_softmax.hpp it is all a step file may include (`attn::contract`): the reference
/// (`attn::ref`, reference.hpp) is out of a step file's reach. Two libraries define these
/// functions: `attn::exercises` (the student's files in `exercises/`) and
/// `attn::solutions` (the answer key in `solutions/`). The same tests run against each; for
/// the exercises they run in a separate process from the student's code (the runner, see
/// tests/support/runner.cpp) and reach it through these same declarations.
///
/// Notation (from the course's cards), for queries \f$q_i\f$ and keys \f$k_j\f$ of
/// dimension \f$d\f$:
/// \f[ \beta_{ij} = \frac{q_i \cdot k_j}{\sqrt{d}} + \mathrm{Mask}(i, j), \qquad
///     \alpha_{ij} = \frac{\exp(\beta_{ij})}{\sum_l \exp(\beta_{il})} \f]
///
/// Bad input (shape mismatch, d = 0, too-small output) throws `std::invalid_argument`
/// whose message names the function and the sizes. NaN in gives NaN out (a key hidden by the
/// causal mask is no input of that query: see attention()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <attn/matrix.hpp>
#include <attn/online_softmax.hpp>

namespace attn {

/// \name Step 1: the dot product
/// @{

/// \brief The dot product \f$q \cdot k = \sum_t q_t k_t\f$ over the \f$d\f$ components.
///
/// Any summation order, float or double accumulator.
/// \param q a query vector of length \f$d\f$.
/// \param k a key vector of length \f$d\f$.
/// \returns the sum; 0 for empty vectors; NaN if any product is NaN.
/// \throws std::invalid_argument when `q.size() != k.size()`.
float dot(std::span<const float> q, std::span<const float> k);

/// @}
/// \name Step 2: scaling by 1/sqrt(d)
/// @{

/// \brief The scaled score \f$\frac{q \cdot k}{\sqrt{d}}\f$ with \f$d = |q|\f$.
///
/// Card example: q = [2.0, 0.5, 1.0, -1.5], k = [1.0, 1.0, -0.5, 2.0] gives -1 / 2 = -0.5.
/// \throws std::invalid_argument when the lengths differ or \f$d = 0\f$.
float scaled_score(std::span<const float> q, std::span<const float> k);

/// \brief All scaled scores at once: \f$S = Q K^\top / \sqrt{d}\f$, i.e.
/// \f$S_{ij} = q_i \cdot k_j / \sqrt{d}\f$.
///
/// \param Q queries, \f$n_q \times d\f$ (one query per row).
/// \param K keys, \f$n_k \times d\f$ (one key per row).
/// \param S output, \f$n_q \times n_k\f$; every element is written.
/// \throws std::invalid_argument when `Q.cols != K.cols`, when \f$d = 0\f$, or when S is
///         not \f$n_q \times n_k\f$.
void scores(const_matrix_view Q, const_matrix_view K, matrix_view S);

/// @}
/// \name Step 3: the causal mask
/// @{

/// \brief The additive causal mask: \f$\mathrm{Mask}(i, j) = 0\f$ for \f$j \le i\f$ and
/// \f$-\infty\f$ for \f$j > i\f$, as an \f$n \times n\f$ matrix.
///
/// Row \f$i\f$ is query position \f$i\f$: it may look at keys \f$0..i\f$ only.
/// `causal_mask(0)` is the empty matrix.
matrix causal_mask(std::size_t n);

/// \brief Masks future positions in place: \f$S_{ij} = -\infty\f$ for every \f$j > i\f$.
///
/// Top-left aligned and valid for any shape (\f$n_q \times n_k\f$, square or not). Entries
/// with \f$j \le i\f$ are left exactly as they were (NaN included); masked entries are
/// overwritten whatever they held, so a query never sees a future key.
void apply_causal_mask(matrix_view S);

/// @}
/// \name Step 4: softmax
/// @{

/// \brief Softmax in place: \f$a_j = \exp(s_j) / \sum_l \exp(s_l)\f$.
///
/// The naive formula is acceptable for this step: inputs stay where `exp` cannot
/// overflow (step 5 removes that limit). An empty row is left empty; \f$-\infty\f$ gets
/// weight exactly 0; a NaN anywhere makes the whole row NaN.
void softmax(std::span<float> row);

/// \brief softmax() applied to every row of S, in place: \f$\alpha_{ij} =
/// \exp(\beta_{ij}) / \sum_l \exp(\beta_{il})\f$. Rows, not columns, sum to 1.
void softmax_rows(matrix_view S);

/// @}
/// \name Step 5: shift invariance and the stable softmax
/// @{

/// \brief \f$\log \sum_j \exp(x_j)\f$, computed as \f$m + \log \sum_j \exp(x_j - m)\f$ with
/// \f$m = \max_j x_j\f$ so that nothing overflows.
///
/// \returns \f$-\infty\f$ for an empty row or a row of \f$-\infty\f$; \f$+\infty\f$ when the
/// row holds \f$+\infty\f$; NaN when the row holds NaN.
float log_sum_exp(std::span<const float> row);

/// \brief The stable softmax, in place: \f$a_j = \exp(x_j - m) / \sum_l \exp(x_l - m)\f$
/// with \f$m = \max_l x_l\f$.
///
/// Equal to softmax() because \f$\mathrm{softmax}(x + c) = \mathrm{softmax}(x)\f$ for any
/// constant \f$c\f$, but it never overflows: every exponent is \f$\le 0\f$.
/// Special rows: every entry \f$-\infty\f$ (a query with nothing to attend to) gives all
/// zeros; entries equal to \f$+\infty\f$ share the weight equally and the rest get 0 (the
/// limit of adding the same \f$c \to \infty\f$ to all of those scores, which keeps them equal;
/// growing only one of them would give it all the weight); a NaN anywhere makes the whole row
/// NaN.
void stable_softmax(std::span<float> row);

/// \brief The whole pipeline: \f$A = \mathrm{softmax}_{\text{rows}}(Q K^\top / \sqrt{d} +
/// \mathrm{Mask})\f$, i.e. \f$A_{ij} = \alpha_{ij}\f$.
///
/// \param Q queries, \f$n_q \times d\f$.
/// \param K keys, \f$n_k \times d\f$.
/// \param A output weights, \f$n_q \times n_k\f$; each row sums to 1 (or is all zero).
/// \param causal apply the causal mask (top-left aligned) before the softmax.
/// \throws std::invalid_argument on the shape errors of scores(); the message names
///         attn::attention_weights or, when it lets scores() refuse them, attn::scores.
void attention_weights(const_matrix_view Q, const_matrix_view K, matrix_view A, bool causal);

/// @}
/// \name Step 6: why attention training goes unstable
/// @{

/// \brief A Monte Carlo estimate of \f$\mathrm{Var}[q \cdot k]\f$ for \f$q, k \in
/// \mathbb{R}^d\f$ with independent standard normal components; the answer is \f$d\f$.
///
/// Draws `samples` pairs \f$(q, k)\f$ from `std::mt19937_64(seed)` and returns
/// \f$\frac{1}{N} \sum_{r=1}^{N} (q^{(r)} \cdot k^{(r)})^2\f$ (the mean is known to be 0). The same seed
/// gives the same estimate.
/// \throws std::invalid_argument when `samples == 0`.
double dot_variance(std::size_t d, std::size_t samples, std::uint64_t seed);

/// \brief The entropy \f$H(a) = -\sum_j a_j \ln a_j\f$ in nats, with \f$0 \ln 0 = 0\f$.
///
/// \f$\ln n\f$ for uniform weights over \f$n\f$ positions, 0 for one-hot weights; 0 for an
/// empty row; NaN when the row holds NaN.
float entropy(std::span<const float> a);

/// \brief The softmax Jacobian \f$J = \mathrm{diag}(a) - a a^\top\f$, i.e.
/// \f$J_{jl} = \partial a_j / \partial s_l = a_j (\delta_{jl} - a_l)\f$.
///
/// \param a softmax weights of length \f$n\f$.
/// \param J output, \f$n \times n\f$. Its rows sum to 0 when \f$\sum a = 1\f$.
/// \throws std::invalid_argument when J is not \f$n \times n\f$.
void softmax_jacobian(std::span<const float> a, matrix_view J);

/// @}
/// \name Step 7 (extension): the attention output
/// @{

/// \brief The attention output \f$O = A V\f$: row \f$i\f$ is the weighted sum of the value
/// vectors, \f$o_i = \sum_j \alpha_{ij} v_j\f$.
///
/// \param A weights, \f$n_q \times n_k\f$ (rows of attention_weights()).
/// \param V values, \f$n_k \times d_v\f$ (one value vector per key).
/// No mask here: every term counts, so a NaN (or infinite) value behind a weight of 0 gives
/// NaN (\f$0 \times \mathrm{NaN}\f$: NaN in, NaN out); do not skip zero weights.
/// \param O output, \f$n_q \times d_v\f$; every element is written (0 when \f$n_k = 0\f$).
/// \throws std::invalid_argument when `A.cols != V.rows` or O is not \f$n_q \times d_v\f$.
void attention_output(const_matrix_view A, const_matrix_view V, matrix_view O);

/// \brief The whole of attention: \f$O = \mathrm{softmax}_{\text{rows}}(Q K^\top / \sqrt{d} +
/// \mathrm{Mask})\, V\f$, i.e. attention_weights() then attention_output().
///
/// Card example: with all-zero scores and the causal mask over 3 tokens the weights are
/// \f$[1, 0, 0], [\tfrac12, \tfrac12, 0], [\tfrac13, \tfrac13, \tfrac13]\f$, so values
/// \f$V = [1, 2, 3]^\top\f$ give outputs \f$[1, 1.5, 2]\f$. A query whose scores are all
/// \f$-\infty\f$ gets an output of zeros (for finite values); \f$+\infty\f$ scores share the
/// weight equally and the others get 0.
/// Masked keys: only the causal mask removes a key. Query \f$i\f$'s output depends on keys and
/// values \f$0..i\f$ only: a masked key (\f$j > i\f$) contributes nothing, whatever its key or
/// value row holds (NaN and \f$\pm\infty\f$ included), as if it were not there. Every other
/// key takes part even when its weight is 0: a NaN in a visible value row gives NaN.
/// \param Q queries, \f$n_q \times d\f$.
/// \param K keys, \f$n_k \times d\f$.
/// \param V values, \f$n_k \times d_v\f$.
/// \param O output, \f$n_q \times d_v\f$.
/// \param causal apply the causal mask (top-left aligned).
/// \throws std::invalid_argument on the shape errors of scores(), when `V.rows != K.rows`,
///         or when O is not \f$n_q \times d_v\f$.
void attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V, matrix_view O,
               bool causal);

/// @}
/// \name Step 8 (extension): relative position as a query-key bias (ALiBi)
/// @{

/// \brief The ALiBi slopes of `heads` attention heads: \f$\lambda_h = 2^{-8h/H}\f$ for
/// \f$h = 1, \dots, H\f$ (Press, Smith and Lewis 2022). For 8 heads:
/// \f$1/2, 1/4, \dots, 1/256\f$. The plain geometric sequence for every \f$H\f$ (the
/// paper's code interleaves two sequences when \f$H\f$ is not a power of two).
/// \returns `heads` slopes, largest first; empty for 0 heads.
std::vector<float> alibi_slopes(std::size_t heads);

/// \brief Adds the linear relative-position bias in place:
/// \f$S_{ij} \mathrel{+}= \lambda \cdot (j - i)\f$.
///
/// Zero on the diagonal, \f$-\lambda\f$ per step into the past: far keys are penalised. Any
/// shape (\f$n_q \times n_k\f$); \f$-\infty\f$ (masked) entries stay \f$-\infty\f$ and NaN
/// stays NaN. Under the causal mask, \f$\lambda \cdot j\f$ gives the same weights (shift
/// invariance: \f$-\lambda\, i\f$ is constant along row \f$i\f$).
void add_alibi_bias(matrix_view S, float slope);

/// @}
/// \name Step 9 (extension): the online softmax and streaming attention
/// @{

/// \brief Adds one score to a streaming normaliser: \f$m' = \max(m, x)\f$,
/// \f$\ell' = \ell\, e^{m - m'} + e^{x - m'}\f$ (the old sum is rescaled when the max grows).
///
/// \f$x = -\infty\f$ changes nothing (weight 0); a NaN score makes both fields NaN for good;
/// \f$x = +\infty\f$ counts as \f$e^0 = 1\f$ against a maximum of \f$+\infty\f$ (so the
/// \f$+\infty\f$ scores share the weight, as in stable_softmax()). Never computes
/// \f$-\infty - (-\infty)\f$ or \f$\infty - \infty\f$.
void push(online_softmax& state, float x);

/// \brief Combines the states of two parts of a row:
/// \f$m = \max(m_a, m_b)\f$, \f$\ell = \ell_a e^{m_a - m} + \ell_b e^{m_b - m}\f$.
///
/// Associative and commutative (up to rounding): any split of the row, merged in any
/// order, gives the state of the whole row. Merging with the empty state changes nothing;
/// NaN in either gives NaN.
online_softmax merge(const online_softmax& a, const online_softmax& b);

/// \brief The softmax weight of score `x` in the row summarised by `state`:
/// \f$e^{x - m} / \ell\f$.
///
/// NaN when x or the state is NaN, the empty state included (NaN in, NaN out); otherwise
/// 0 when \f$x = -\infty\f$ or the state is empty (\f$\ell = 0\f$: nothing to attend to),
/// and \f$1 / \ell\f$ when \f$x = m\f$ (\f$+\infty\f$ included).
float weight(const online_softmax& state, float x);

/// \brief Attention in one pass over the keys (FlashAttention's recurrence, Dao et al.
/// 2022): for each
/// query, a running max \f$m\f$, sum \f$\ell\f$ and unnormalised output \f$o\f$; for each
/// block of `block_size` keys the new max rescales \f$\ell\f$ and \f$o\f$ by
/// \f$e^{m - m'}\f$ before the block's \f$e^{\beta_{ij} - m'} v_j\f$ are added;
/// finally \f$o / \ell\f$.
///
/// Same meaning, edge cases and errors as attention(), for every block size: a query whose
/// scores are all \f$-\infty\f$ gets zeros, not NaN; \f$+\infty\f$ scores share the weight
/// equally (never \f$\infty - \infty\f$); keys the causal mask hides are never read (NaN or
/// inf there changes nothing), while every visible key takes part even with weight 0 (a NaN
/// value gives NaN).
/// \throws std::invalid_argument as attention(), and when `block_size == 0`.
void streaming_attention(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                         matrix_view O, bool causal, std::size_t block_size = 1);

/// @}
/// \name Step 10 (extension): the softmax backward pass
/// @{

/// \brief The gradient of a loss through \f$a = \mathrm{softmax}(s)\f$:
/// \f$\partial L / \partial s = J^\top\, \partial L / \partial a\f$ with
/// \f$J = \mathrm{diag}(a) - a a^\top\f$ (step 6), i.e.
/// \f$\partial L / \partial s_j = a_j \big(g_j - \langle g, a \rangle\big)\f$ with \f$g = \partial L /
/// \partial a\f$, in \f$O(n)\f$ without forming J.
///
/// \param a the softmax weights, length \f$n\f$.
/// \param grad_a \f$\partial L / \partial a\f$, length \f$n\f$.
/// \param grad_s output \f$\partial L / \partial s\f$, length \f$n\f$ (may not alias the inputs).
/// NaN in, NaN out: a NaN in `grad_a` makes \f$\langle g, a \rangle\f$ and so every entry NaN,
/// even where \f$a_j = 0\f$ (do not skip zero weights).
/// \throws std::invalid_argument when the three lengths differ.
void softmax_backward(std::span<const float> a, std::span<const float> grad_a,
                      std::span<float> grad_s);

/// @}
/// \name Step 11 (extension): the attention backward pass
/// @{

/// \brief The gradients of a loss \f$L\f$ through \f$O = A V\f$ with \f$A =
/// \mathrm{softmax}_{\text{rows}}(Q K^\top / \sqrt{d} + \mathrm{Mask})\f$ (attention()), given
/// \f$dO = \partial L / \partial O\f$: \f$dV = A^\top dO\f$, \f$dA = dO\, V^\top\f$, each row
/// of \f$dS\f$ the softmax backward (step 10) of the row of \f$A\f$ and \f$dA\f$, then
/// \f$dQ = dS\, K / \sqrt{d}\f$ and \f$dK = dS^\top Q / \sqrt{d}\f$.
///
/// Same meaning of the mask and the special values as attention(): query \f$i\f$ sees keys
/// \f$0..i\f$ only when `causal`; a masked key's rows of K and V are never read for that
/// query and its entries of \f$dS\f$ are 0, so NaN or inf there changes nothing, and a key no
/// query sees gets zero rows in dK and dV. Every visible term counts, even with weight 0
/// (NaN in, NaN out): a NaN in a value row a query sees makes that query's row of \f$dS\f$,
/// its row of dQ and its share of dK NaN (\f$dV = A^\top dO\f$ does not read V). A query whose
/// scores are all \f$-\infty\f$ has weights 0 and passes no gradient (for finite K, its dQ
/// row is 0). Cost \f$O(n_q n_k (d + d_v))\f$.
/// \param Q queries, \f$n_q \times d\f$.
/// \param K keys, \f$n_k \times d\f$.
/// \param V values, \f$n_k \times d_v\f$.
/// \param dO \f$\partial L / \partial O\f$, \f$n_q \times d_v\f$.
/// \param causal the causal mask (top-left aligned), as in attention().
/// \param dQ output \f$\partial L / \partial Q\f$, \f$n_q \times d\f$; every element is written
///        (the outputs may hold anything on entry: they are set, not added to).
/// \param dK output \f$\partial L / \partial K\f$, \f$n_k \times d\f$; every element is written.
/// \param dV output \f$\partial L / \partial V\f$, \f$n_k \times d_v\f$; every element is written.
/// \throws std::invalid_argument on the shape errors of attention(), when dO is not
///         \f$n_q \times d_v\f$, or when an output's shape differs from its input's.
void attention_backward(const_matrix_view Q, const_matrix_view K, const_matrix_view V,
                        const_matrix_view dO, bool causal, matrix_view dQ, matrix_view dK,
                        matrix_view dV);

/// @}
/// \name Step 12 (extension): QK-layernorm
/// @{

/// The \f$\varepsilon\f$ of layer_norm(), added to the variance (PyTorch's default).
inline constexpr float layer_norm_epsilon = 1e-5f;

/// \brief Layer normalisation of each row with a learned gain, no bias: for a row \f$x\f$ of
/// length \f$d\f$, \f$\mu = \frac1d \sum_t x_t\f$, \f$\sigma^2 = \frac1d \sum_t (x_t -
/// \mu)^2\f$, \f$\hat x = (x - \mu) / \sqrt{\sigma^2 + \varepsilon}\f$ and \f$y_t = \gamma_t
/// \hat x_t\f$ (the biased variance, divided by \f$d\f$; \f$\varepsilon\f$ inside the root).
/// Applied to the queries and the keys before the scores (QK-layernorm), it bounds every score
/// by \f$\max_t |\gamma_{Q,t}|\, \max_t |\gamma_{K,t}|\, d / \sqrt{d}\f$ whatever the weights.
///
/// Rows are independent: a NaN (or an infinity) in row \f$i\f$ of X makes row \f$i\f$ of Y
/// NaN and leaves the other rows as they would be. A constant row gives \f$y = 0\f$;
/// \f$n = 0\f$ rows is fine.
/// \param X input rows, \f$n \times d\f$.
/// \param gain \f$\gamma\f$, length \f$d\f$.
/// \param Y output, \f$n \times d\f$ (may be X itself: each row is read whole before it is
///        written).
/// \throws std::invalid_argument when \f$d = 0\f$, when `gain` is not of length \f$d\f$ or when
///         Y is not \f$n \times d\f$.
void layer_norm(const_matrix_view X, std::span<const float> gain, matrix_view Y);

/// \brief The backward pass of layer_norm(): given \f$dY = \partial L / \partial Y\f$, with
/// \f$g = \gamma \odot dy\f$ for a row and \f$r = 1 / \sqrt{\sigma^2 + \varepsilon}\f$,
/// \f$dx = r \big(g - \bar g - \hat x\, \overline{g \hat x}\big)\f$ (bars: means over the row),
/// and \f$d\gamma = \sum_{\text{rows}} dy \odot \hat x\f$.
///
/// NaN in, NaN out: a NaN in row \f$i\f$ of X makes row \f$i\f$ of dX and every element of
/// dgain NaN; a NaN in \f$dY_{it}\f$ makes row \f$i\f$ of dX and \f$d\gamma_t\f$ NaN.
/// \param X the forward pass's input, \f$n \times d\f$.
/// \param gain \f$\gamma\f$, length \f$d\f$.
/// \param dY \f$\partial L / \partial Y\f$, \f$n \times d\f$.
/// \param dX output \f$\partial L / \partial X\f$, \f$n \times d\f$; every element is written.
/// \param dgain output \f$\partial L / \partial \gamma\f$, length \f$d\f$; written, not added to
///        (all 0 when \f$n = 0\f$).
/// \throws std::invalid_argument on the errors of layer_norm(), when dY or dX is not
///         \f$n \times d\f$ or `dgain` not of length \f$d\f$.
void layer_norm_backward(const_matrix_view X, std::span<const float> gain, const_matrix_view dY,
                         matrix_view dX, std::span<float> dgain);

/// @}

}  // namespace attn
