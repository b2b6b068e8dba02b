# cmake -DSOURCE=<project> -DBINARY=<scratch dir> -DGENERATOR=<generator> -DCXX=<compiler>
#       -DFIXTURE=<folder with a dnnl-config.cmake> -P check_broken_peer.cmake
# Passes when a benchmark peer whose own CMake config stops with an error (the fixture's
# oneDNN asks for a package that does not exist) costs only that peer: configuration
# succeeds and says the peer was not found, why, and what installs it.
file(REMOVE_RECURSE "${BINARY}")
execute_process(
  COMMAND ${CMAKE_COMMAND} -S "${SOURCE}" -B "${BINARY}" -G "${GENERATOR}"
          -DCMAKE_CXX_COMPILER=${CXX} -Ddnnl_DIR=${FIXTURE}
          -DATTN_BUILD_BENCHMARKS=ON -DATTN_BUILD_TESTS=OFF -DATTN_BUILD_DOCS=OFF -DATTN_BUILD_TOOLS=OFF
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE "${BINARY}")
string(REGEX REPLACE "[ \n]+" " " text "${out}${err}")  # CMake wraps long messages
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "a broken oneDNN config stopped configuration; expected it to cost "
                      "only the peer:\n${out}${err}")
endif()
foreach(expected "benchmark peer oneDNN not found (" "AttnNoSuchDependency"
                 "sudo apt-get install libdnnl-dev")
  string(FIND "${text}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "configuration went on without the broken oneDNN, but its output "
                        "lacks '${expected}':\n${out}${err}")
  endif()
endforeach()
message(STATUS "a broken oneDNN config costs only the peer, and configuration says why")
