// One include for Catch2 v2 (Debian 12, Ubuntu 22.04) and v3 (Ubuntu 24.04, Homebrew,
// vcpkg). Tests use only what both versions share: TEST_CASE, SECTION, CHECK, REQUIRE,
// REQUIRE_THROWS_AS, REQUIRE_THROWS_WITH (with a plain string), INFO, CAPTURE, FAIL,
// FAIL_CHECK, SUCCEED. ATTN_CATCH2_MAJOR comes from CMake (the version it found).
#pragma once

#if !defined(ATTN_CATCH2_MAJOR)
#error "ATTN_CATCH2_MAJOR must be defined by the build (2 or 3)"
#elif ATTN_CATCH2_MAJOR >= 3
#include <catch2/catch_message.hpp>
#include <catch2/catch_test_macros.hpp>
#if defined(ATTN_CATCH_MAIN)
#include <catch2/catch_session.hpp>
#endif
#else
#if defined(ATTN_CATCH_MAIN)
#define CATCH_CONFIG_RUNNER
#endif
#include <catch2/catch.hpp>
#endif
