# cmake -DEXE=<test executable> -DNAME=<mutant> -P expect_rejected.cmake
# Passes when the tests reject the mutant with a clean test failure (not a crash).
execute_process(COMMAND "${EXE}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "mutant ${NAME}: the tests crashed (${rc}); expected a clean failure.\n${out}${err}")
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "mutant ${NAME}: the tests accepted this wrong solution; expected them to reject it.\n${out}")
endif()
string(REGEX MATCH "test cases: *[0-9]+[^\n]*" summary "${out}${err}")
message(STATUS "mutant ${NAME} rejected: ${summary}")
