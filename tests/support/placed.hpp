// A buffer of floats placed `offset` floats off alignment and fenced, for the reference tests
// (tests/reference/), the fuzzers (fuzz/) and the step tests' outputs (guarded_matrix,
// support/generators.hpp): code that writes outside its view changes
// a sentinel, and one that starts from an aligned address is exercised unaligned too.
// (The runner's guarded_floats, support/remote.hpp, guards the student's arguments on the
// other side of the pipe: canaries sized per row, poisoned under AddressSanitizer and
// reported over the wire; it is not this.)
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace attn::test {

/// Where the sentinels are. The `offset` floats in front of the buffer are sentinels either way.
enum class fences {
  /// kFence more sentinels in front and kFence behind the buffer: fences_intact() sees a
  /// write up to kFence floats outside, without a sanitizer (the reference tests).
  sentinels,
  /// None beyond the offset's: the allocation begins `offset` floats before the buffer and
  /// ends exactly where the buffer ends, so AddressSanitizer reports any access past the end
  /// or before the offset (the fuzzers).
  allocation,
};

class placed {
 public:
  static constexpr float kSentinel = -12345.678f;
  static constexpr std::size_t kFence = 16;

  // The storage is built front to back (sentinels, the buffer, sentinels) rather than filled
  // through data(): GCC 14 took std::fill(data(), data() + n, ...) for a write of 2^64 - 140
  // bytes and stopped the build (-Wstringop-overflow, a false positive).
  /// A copy of `values`.
  placed(std::span<const float> values, std::size_t offset, fences where = fences::sentinels)
      : begin_(front(offset, where)), n_(values.size()), storage_(begin_, kSentinel) {
    storage_.insert(storage_.end(), values.begin(), values.end());
    storage_.resize(begin_ + n_ + back(where), kSentinel);
  }
  /// `n` floats of `fill`.
  placed(std::size_t n, float fill, std::size_t offset, fences where = fences::sentinels)
      : begin_(front(offset, where)), n_(n), storage_(begin_, kSentinel) {
    storage_.resize(begin_ + n_, fill);
    storage_.resize(begin_ + n_ + back(where), kSentinel);
  }

  float* data() { return storage_.data() + begin_; }
  const float* data() const { return storage_.data() + begin_; }
  std::size_t size() const { return n_; }
  std::span<float> span() { return {data(), n_}; }
  std::span<const float> span() const { return {data(), n_}; }

  /// True when no sentinel changed: nothing was written just outside the buffer.
  bool fences_intact() const {
    for (std::size_t i = 0; i < storage_.size(); ++i) {
      if ((i < begin_ || i >= begin_ + n_) && std::bit_cast<std::uint32_t>(storage_[i]) != kSentinelBits) return false;
    }
    return true;
  }

 private:
  static std::size_t front(std::size_t offset, fences where) {
    return (where == fences::sentinels ? kFence : 0) + offset;
  }
  static std::size_t back(fences where) { return where == fences::sentinels ? kFence : 0; }
  static constexpr std::uint32_t kSentinelBits = std::bit_cast<std::uint32_t>(kSentinel);
  std::size_t begin_, n_;
  std::vector<float> storage_;
};

}  // namespace attn::test
