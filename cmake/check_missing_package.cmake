# cmake -DSOURCE=<project> -DBINARY=<scratch dir> -DGENERATOR=<generator> -DCXX=<compiler>
#       -DPACKAGE=<find_package name> -DINSTALL=<expected install command> -P check_missing_package.cmake
# Passes when configuring the project without PACKAGE stops with a message that names the
# package and the command that installs it.
file(REMOVE_RECURSE "${BINARY}")
execute_process(
  COMMAND ${CMAKE_COMMAND} -S "${SOURCE}" -B "${BINARY}" -G "${GENERATOR}"
          -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_DISABLE_FIND_PACKAGE_${PACKAGE}=ON
          -DATTN_BUILD_DOCS=OFF -DATTN_BUILD_BENCHMARKS=OFF
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE "${BINARY}")
string(REGEX REPLACE "[ \n]+" " " text "${out}${err}")  # CMake wraps long messages
if(rc EQUAL 0)
  message(FATAL_ERROR "configuring without ${PACKAGE} succeeded; expected it to stop")
endif()
foreach(expected "required package '${PACKAGE}' was not found" "${INSTALL}")
  string(FIND "${text}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "configuring without ${PACKAGE} stopped, but the message lacks "
                        "'${expected}':\n${out}${err}")
  endif()
endforeach()
message(STATUS "without ${PACKAGE}: configuration stops and says '${INSTALL}'")
