// The out-of-line parts of attn::matrix.
#include <initializer_list>
#include <string>

#include <attn/errors.hpp>
#include <attn/matrix.hpp>

namespace attn {

matrix::matrix(std::initializer_list<std::initializer_list<float>> rows_list)
    : rows_(rows_list.size()), cols_(rows_list.size() == 0 ? 0 : rows_list.begin()->size()) {
  data_.reserve(detail::checked_area("attn::matrix", rows_, cols_));
  std::size_t i = 0;
  for (const std::initializer_list<float>& row : rows_list) {
    if (row.size() != cols_) {
      invalid_input("attn::matrix", "row " + std::to_string(i) + " has " +
                                        std::to_string(row.size()) + " elements but row 0 has " +
                                        std::to_string(cols_) +
                                        "; expected every row to have the same length");
    }
    data_.insert(data_.end(), row.begin(), row.end());
    ++i;
  }
}

}  // namespace attn
