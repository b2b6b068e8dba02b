// How a function's time grows with its input: for the checks that a step has the order of
// time it promises (O(n), not O(n^2)) without any speed target. The time of one call is the
// least over a few batches of calls (each batch long enough to be far above the clock's
// resolution), so that a busy machine can only make a call look slower, never faster; the
// check then compares two sizes far apart, with a wide margin either way.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>

namespace attn::test {

/// Seconds per call of `call()`: the least, over batches of calls, of a batch's time over its
/// calls. A batch repeats the call until it takes at least `min_batch` seconds (calibrated
/// once, doubling the count; the calibration also warms caches and the runner up), so that
/// a fast call is timed far above the clock's resolution while a slow one (a call through
/// the judge's runner, tens of microseconds) is timed alone: the least of many single calls
/// sees past a busy machine's late wake-ups. Batches go on for `budget` seconds, and at
/// least `min_samples` of them.
template <class Call>
double seconds_per_call(Call&& call, int min_samples = 3, double min_batch = 20e-6, double budget = 20e-3) {
  using clock = std::chrono::steady_clock;
  const auto batch = [&](std::size_t reps) {
    const auto start = clock::now();
    for (std::size_t r = 0; r < reps; ++r) call();
    return std::chrono::duration<double>(clock::now() - start).count();
  };
  std::size_t reps = 1;
  while (batch(reps) < min_batch && reps < (std::size_t{1} << 24)) reps *= 2;
  double best = std::numeric_limits<double>::infinity(), spent = 0.0;
  for (int k = 0; k < min_samples || (spent < budget && k < 100000); ++k) {
    const double seconds = batch(reps);
    spent += seconds;
    best = std::min(best, seconds / static_cast<double>(reps));
  }
  return best;
}

}  // namespace attn::test
