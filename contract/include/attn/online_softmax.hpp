/// \file online_softmax.hpp
/// \brief The state of a streaming softmax normaliser (step 9): a running maximum and a
/// running sum, shared by the contract (`attn::`) and the reference (`attn::ref::`).
#pragma once

#include <limits>

namespace attn {

/// \brief What a one-pass softmax remembers of the scores \f$x_0, \dots, x_{r-1}\f$ seen so far
/// (Milakov and Gimelshein 2018):
/// \f[ m_r = \max_{j < r} x_j, \qquad \ell_r = \sum_{j < r} \exp(x_j - m_r) . \f]
///
/// A plain aggregate: the functions that update it are attn::push() and attn::merge()
/// (written by the student in step 9) and their namesakes in `attn::ref`. The empty state
/// (nothing seen, or only \f$-\infty\f$) is \f$m = -\infty\f$, \f$\ell = 0\f$; then
/// \f$\log \sum_j \exp(x_j) = m + \log \ell\f$ and the weight of \f$x_j\f$ is
/// \f$\exp(x_j - m) / \ell\f$ (attn::weight()).
struct online_softmax {
  float max = -std::numeric_limits<float>::infinity();  ///< running maximum \f$m\f$
  float sum = 0.0f;  ///< running sum \f$\ell = \sum_j \exp(x_j - m)\f$, relative to `max`
};

}  // namespace attn
