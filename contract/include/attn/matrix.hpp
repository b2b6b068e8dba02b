/// \file matrix.hpp
/// \brief Row-major matrices and views: the shapes every step of the course works on.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <new>  // std::align_val_t
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

namespace detail {

/// Storage that starts on a 64-byte boundary (a cache line, and one AVX-512 register), so
/// that a matrix's rows start where the SIMD kernels load and store fastest whenever its
/// row length is a multiple of 16. Plain `std::vector<float>` storage starts wherever the
/// allocator puts it (often 16 bytes past a page boundary), and a row straddling cache
/// lines costs a fused attention kernel up to a tenth of its time.
template <class T>
struct cache_aligned_allocator {
  using value_type = T;  ///< What it allocates.
  static constexpr std::align_val_t alignment{64};  ///< Bytes: a cache line.
  cache_aligned_allocator() = default;
  /// Stateless: one for any element type.
  template <class U>
  constexpr cache_aligned_allocator(const cache_aligned_allocator<U>&) noexcept {}
  /// `n` elements, uninitialised, at a multiple of `alignment`.
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), alignment)); }
  /// Frees what allocate() gave.
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, alignment); }
  /// Stateless: any two are equal.
  template <class U>
  bool operator==(const cache_aligned_allocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace detail

/// \brief An owning row-major matrix of floats, its storage starting on a 64-byte boundary.
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
  std::vector<float, detail::cache_aligned_allocator<float>> data_;
};

}  // namespace attn
