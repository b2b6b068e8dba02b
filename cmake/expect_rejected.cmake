# cmake -DEXE=<test executable> -DNAME=<mutant> -P expect_rejected.cmake
# Passes when the tests reject the mutant: the test program exits non-zero. A mutant that
# writes out of bounds may die of it before Catch2 reports (how it dies depends on the heap
# layout); that is a rejection too, and it is said so. Only a clean exit 0 means the tests
# accepted a wrong solution. (The shipped stubs, unlike mutants, must fail cleanly:
# check_stub.cmake.)
execute_process(COMMAND "${EXE}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc STREQUAL "0")
  message(FATAL_ERROR "mutant ${NAME}: the tests accepted this wrong solution; expected them to reject it.\n${out}")
endif()
string(REGEX MATCH "test cases: *[0-9]+[^\n]*" summary "${out}${err}")
if(NOT rc MATCHES "^[0-9]+$")
  message(STATUS "mutant ${NAME} rejected: the tests died (${rc}) after: ${summary}")
else()
  message(STATUS "mutant ${NAME} rejected: ${summary}")
endif()
