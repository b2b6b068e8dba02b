# attn_test_support: the header-only test-support library (support/close.hpp, oracle.hpp,
# tolerances.hpp, ...) that the tests, the fuzzers (fuzz/) and the benchmarks (bench/)
# share. Included from each of those folders, since any of them may be built without the
# others; defined once.
if(NOT TARGET attn_test_support)
  add_library(attn_test_support INTERFACE)
  target_include_directories(attn_test_support INTERFACE "${CMAKE_CURRENT_LIST_DIR}/..")
  target_link_libraries(attn_test_support INTERFACE attn::reference)
endif()
