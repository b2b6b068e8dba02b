# cmake -DSOURCE=<project> -DBINARY=<scratch dir> -DGENERATOR=<generator> -DCXX=<compiler>
#       "-DSETTINGS=<-D settings, |-separated>" -DOUTCOME=<stops|succeeds>
#       "-DEXPECT=<texts the output must hold, |-separated>" -P check_configure.cmake
# Configures the project in a scratch folder with SETTINGS, and passes when configuration
# stops or succeeds as OUTCOME says and its output holds every EXPECT text. The build.*
# tests use it: a missing required package stops configuration with its name and install
# command; a broken benchmark peer costs only itself, and configuration says why.
string(REPLACE "|" ";" settings "${SETTINGS}")
string(REPLACE "|" ";" expect "${EXPECT}")
file(REMOVE_RECURSE "${BINARY}")
execute_process(
  COMMAND ${CMAKE_COMMAND} -S "${SOURCE}" -B "${BINARY}" -G "${GENERATOR}"
          -DCMAKE_CXX_COMPILER=${CXX} ${settings}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE "${BINARY}")
string(REGEX REPLACE "[ \n]+" " " text "${out}${err}")  # CMake wraps long messages
if(rc EQUAL 0)
  set(outcome succeeds)
else()
  set(outcome stops)
endif()
if(NOT outcome STREQUAL OUTCOME)
  message(FATAL_ERROR "configuring with ${SETTINGS}: expected it to ${OUTCOME}, but it "
                      "${outcome}:\n${out}${err}")
endif()
foreach(expected IN LISTS expect)
  string(FIND "${text}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "configuring with ${SETTINGS} ${outcome} as expected, but the output "
                        "lacks '${expected}':\n${out}${err}")
  endif()
endforeach()
message(STATUS "configuring with ${SETTINGS} ${outcome} and says: ${EXPECT}")
