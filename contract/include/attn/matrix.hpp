/// \file matrix.hpp
/// \brief Row-major matrices and views: the shapes every step of the course works on.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include <attn/errors.hpp>

namespace attn {

/// \brief A read-only, non-owning, row-major view of `rows x cols` floats.
///
/// Element \f$(i, j)\f$ lives at `data[i * cols + j]`. A view made from a `std::span`
/// checks that the span holds at least `rows * cols` elements; a view made from a bare
/// pointer trusts its caller.
struct const_matrix_view {
  const float* data = nullptr;  ///< First element of row 0.
  std::size_t rows = 0;         ///< Number of rows.
  std::size_t cols = 0;         ///< Number of columns (the row stride).

  constexpr const_matrix_view() = default;
  /// Trusts the caller: `data` must hold `rows * cols` floats.
  constexpr const_matrix_view(const float* data_, std::size_t rows_, std::size_t cols_)
      : data(data_), rows(rows_), cols(cols_) {}
  /// \throws std::invalid_argument when `storage` holds fewer than `rows * cols` floats.
  const_matrix_view(std::span<const float> storage, std::size_t rows_, std::size_t cols_)
      : data(storage.data()), rows(rows_), cols(cols_) {
    detail::require_storage("const_matrix_view", storage.size(), rows_, cols_);
  }

  /// Element \f$(i, j)\f$; no bounds check.
  constexpr const float& operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }
  /// Row \f$i\f$ as a span of `cols` floats; no bounds check.
  constexpr std::span<const float> row(std::size_t i) const { return {data + i * cols, cols}; }
  /// `rows * cols`.
  constexpr std::size_t size() const { return rows * cols; }
};

/// \brief A mutable, non-owning, row-major view of `rows x cols` floats.
///
/// Converts implicitly to a const_matrix_view.
struct matrix_view {
  float* data = nullptr;  ///< First element of row 0.
  std::size_t rows = 0;   ///< Number of rows.
  std::size_t cols = 0;   ///< Number of columns (the row stride).

  constexpr matrix_view() = default;
  /// Trusts the caller: `data` must hold `rows * cols` floats.
  constexpr matrix_view(float* data_, std::size_t rows_, std::size_t cols_)
      : data(data_), rows(rows_), cols(cols_) {}
  /// \throws std::invalid_argument when `storage` holds fewer than `rows * cols` floats.
  matrix_view(std::span<float> storage, std::size_t rows_, std::size_t cols_)
      : data(storage.data()), rows(rows_), cols(cols_) {
    detail::require_storage("matrix_view", storage.size(), rows_, cols_);
  }

  /// Element \f$(i, j)\f$; no bounds check.
  constexpr float& operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }
  /// Row \f$i\f$ as a span of `cols` floats; no bounds check.
  constexpr std::span<float> row(std::size_t i) const { return {data + i * cols, cols}; }
  /// `rows * cols`.
  constexpr std::size_t size() const { return rows * cols; }
  /// The same elements, read-only.
  constexpr operator const_matrix_view() const { return {data, rows, cols}; }
};

/// \brief An owning row-major matrix of floats.
class matrix {
 public:
  matrix() = default;
  /// A `rows x cols` matrix with every element set to `fill`.
  /// \throws std::invalid_argument when `rows * cols` overflows `std::size_t`.
  matrix(std::size_t rows, std::size_t cols, float fill = 0.0f)
      : rows_(rows), cols_(cols), data_(detail::checked_area("matrix", rows, cols), fill) {}
  /// A matrix from nested rows, e.g. `matrix{{1, 2}, {3, 4}}`.
  /// \throws std::invalid_argument when the rows differ in length.
  matrix(std::initializer_list<std::initializer_list<float>> rows_list);

  /// Number of rows.
  std::size_t rows() const { return rows_; }
  /// Number of columns.
  std::size_t cols() const { return cols_; }
  /// Element \f$(i, j)\f$; no bounds check.
  float& operator()(std::size_t i, std::size_t j) { return data_[i * cols_ + j]; }
  /// Element \f$(i, j)\f$; no bounds check.
  const float& operator()(std::size_t i, std::size_t j) const { return data_[i * cols_ + j]; }
  /// Row \f$i\f$; no bounds check.
  std::span<float> row(std::size_t i) { return {data_.data() + i * cols_, cols_}; }
  /// Row \f$i\f$; no bounds check.
  std::span<const float> row(std::size_t i) const { return {data_.data() + i * cols_, cols_}; }
  /// All elements, row after row.
  std::span<float> elements() { return data_; }
  /// All elements, row after row.
  std::span<const float> elements() const { return data_; }
  /// A mutable view of the whole matrix.
  matrix_view view() { return {data_.data(), rows_, cols_}; }
  /// A read-only view of the whole matrix.
  const_matrix_view view() const { return {data_.data(), rows_, cols_}; }
  /// Implicit read-only view, so a matrix can be passed where a const_matrix_view is expected.
  operator const_matrix_view() const { return view(); }
  /// Implicit mutable view, so a matrix can be passed where a matrix_view is expected.
  operator matrix_view() { return view(); }

 private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::vector<float> data_;
};

}  // namespace attn
