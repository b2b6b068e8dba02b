// The seed of this run's randomised tests: Catch2's --rng-seed, or a fresh one that main()
// prints at start-up. Rerun with `--rng-seed <seed>` to reproduce a failure.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace attn::test {

/// This run's seed (set once by main before any test runs).
std::uint64_t seed();

/// A generator for one test: the run's seed mixed with a per-test salt, so that tests do
/// not share streams but each still reproduces from the printed seed.
inline std::mt19937_64 rng(std::uint64_t salt = 0) {
  std::seed_seq seq{seed(), salt, std::uint64_t{0x5eed}};
  return std::mt19937_64(seq);
}

/// "seed 1234 (rerun with --rng-seed 1234)", for failure messages.
inline std::string seed_note() {
  return "seed " + std::to_string(seed()) + " (rerun with --rng-seed " + std::to_string(seed()) + ")";
}

}  // namespace attn::test
