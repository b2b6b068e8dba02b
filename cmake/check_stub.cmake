# cmake -DEXE=<test executable> -DSTEP=<n> -P check_stub.cmake
# Passes when the stubs of step <n> fail every test case of that step cleanly: a normal
# non-zero exit (no crash, no hang: ctest's timeout), no test case passing, and the
# not_implemented message naming the step.
execute_process(COMMAND "${EXE}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "step ${STEP}: the stub's tests crashed (${rc}); expected a clean failure.\n${all}")
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "step ${STEP}: the stub's tests passed; expected every test case to fail "
                      "with not_implemented (has the stub been filled in?)")
endif()
string(REGEX MATCH "test cases: *[0-9]+[^\n]*" summary "${all}")
if(summary MATCHES "passed")
  message(FATAL_ERROR "step ${STEP}: some test cases pass against the untouched stub (${summary}); "
                      "expected none to: a test that a stub passes checks nothing")
endif()
# The words of attn::not_implemented (contract/include/attn/errors.hpp), which tools/course.py
# (NOT_IMPLEMENTED) reads too. Catch2 wraps long messages at 80 columns, anywhere between words.
string(REGEX MATCHALL "not[ \n]+implemented:[ \n]+step[ \n]+${STEP}[ \n]" hits "${all}")
list(LENGTH hits nhits)
string(REGEX MATCH "([0-9]+) failed" _ "${summary}")
set(failed "${CMAKE_MATCH_1}")
if(nhits EQUAL 0 OR nhits LESS failed)
  message(FATAL_ERROR "step ${STEP}: ${failed} test cases failed but only ${nhits} name "
                      "'not implemented: step ${STEP}'; expected every failure to be the stub's.\n${all}")
endif()
message(STATUS "step ${STEP}: ${summary}, each with not_implemented")
