// The Catch2 main shared by every test executable: it fixes the seed of the randomised
// tests and prints it, so that any failure can be reproduced with --rng-seed.
#define ATTN_CATCH_MAIN
#include "support/catch.hpp"
#include "support/diagnosis.hpp"
#include "support/seed.hpp"

#include <cstdio>
#include <random>

namespace {
std::uint64_t run_seed = 0;
}

std::uint64_t attn::test::seed() { return run_seed; }

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  // Catch2 v2 leaves the seed at 0 unless --rng-seed is given; v3 picks a random one.
  if (session.configData().rngSeed == 0) {
    session.configData().rngSeed = static_cast<unsigned>(std::random_device{}() | 1u);
  }
  run_seed = session.configData().rngSeed;
  std::fprintf(stderr, "attn: random seed %llu (rerun with --rng-seed %llu to reproduce)\n",
               static_cast<unsigned long long>(run_seed), static_cast<unsigned long long>(run_seed));
  const int failed = session.run();
  // The judge of the exercises names the mistakes it recognised (support/diagnosis.hpp).
  if (attn::test::diagnosis::on_finish) attn::test::diagnosis::on_finish();
  return failed;
}
