# Reads course/steps.json, the one manifest of the course's steps, into CMake variables:
#   ATTN_STEPS                 the step numbers, in course order
#   ATTN_STEP_<n>_SLUG         e.g. "dot"
#   ATTN_STEP_<n>_FILE         the exercise/solution file name, e.g. "step1_dot.cpp"
#   ATTN_STEP_<n>_TITLE        e.g. "dot product"
#   ATTN_STEP_<n>_POINTS       grading points
#   ATTN_STEP_<n>_TIMEOUT      seconds per graded unit
#   ATTN_STEP_<n>_FUNCTIONS    the contract functions the step's file defines
#   ATTN_STEP_<n>_CORE         ON for a core step, OFF for an extension
set(ATTN_MANIFEST "${PROJECT_SOURCE_DIR}/course/steps.json")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${ATTN_MANIFEST}")
file(READ "${ATTN_MANIFEST}" _attn_manifest)
string(JSON _attn_count LENGTH "${_attn_manifest}" steps)
math(EXPR _attn_last "${_attn_count} - 1")
set(ATTN_STEPS "")
foreach(_i RANGE ${_attn_last})
  string(JSON _n GET "${_attn_manifest}" steps ${_i} number)
  list(APPEND ATTN_STEPS ${_n})
  foreach(_field slug file title points timeout)
    string(TOUPPER ${_field} _FIELD)
    string(JSON ATTN_STEP_${_n}_${_FIELD} GET "${_attn_manifest}" steps ${_i} ${_field})
  endforeach()
  string(JSON _core ERROR_VARIABLE _no_core GET "${_attn_manifest}" steps ${_i} core)
  if(_no_core OR _core)
    set(ATTN_STEP_${_n}_CORE ON)
  else()
    set(ATTN_STEP_${_n}_CORE OFF)
  endif()
  string(JSON _nf LENGTH "${_attn_manifest}" steps ${_i} functions)
  math(EXPR _nf "${_nf} - 1")
  set(ATTN_STEP_${_n}_FUNCTIONS "")
  foreach(_j RANGE ${_nf})
    string(JSON _f GET "${_attn_manifest}" steps ${_i} functions ${_j})
    list(APPEND ATTN_STEP_${_n}_FUNCTIONS ${_f})
    string(APPEND _attn_functions " \\\n  X(${_f}, ${_n})")
  endforeach()
endforeach()

# The contract's functions and their steps, for the judge and the runner
# (tests/support/remote.hpp): <build>/generated/attn/contract_functions.hpp.
set(ATTN_GENERATED_INCLUDE "${PROJECT_BINARY_DIR}/generated")
file(CONFIGURE OUTPUT "${ATTN_GENERATED_INCLUDE}/attn/contract_functions.hpp" @ONLY
     CONTENT "// Generated from course/steps.json by cmake/AttnCourse.cmake: do not edit.\n\
// X(function, step) for every function of the contract, in course order.\n\
#pragma once\n#define ATTN_CONTRACT_FUNCTIONS(X)${_attn_functions}\n")

# attn_add_flavour(<name> <dir>): one OBJECT library per step (attn_<name>_step<n>) and a
# static library attn_<name> (alias attn::<name>) of them all. Steps are separate so a
# step that does not compile costs only the tests that link it.
function(attn_add_flavour name dir)
  set(objects "")
  foreach(n IN LISTS ATTN_STEPS)
    set(target attn_${name}_step${n})
    add_library(${target} OBJECT "${dir}/${ATTN_STEP_${n}_FILE}")
    # The contract alone: a step file cannot include or link the reference.
    target_link_libraries(${target} PUBLIC attn::contract)
    attn_use_compile_options(${target})
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    if(name STREQUAL "exercises" AND ATTN_SANDBOX_COMPILE)
      # Grading: the compiler sees the step file, the contract's headers and the toolchain,
      # nothing else (tests/support/sandbox.cpp), so an #include or .incbin of any other
      # file fails to compile instead of quoting it.
      if(NOT ATTN_HAVE_SANDBOX)
        message(FATAL_ERROR "attn: ATTN_SANDBOX_COMPILE needs the grading sandbox: "
                            "sudo apt-get install bubblewrap libseccomp-dev")
      endif()
      set_target_properties(${target} PROPERTIES
        CXX_COMPILER_LAUNCHER "${PROJECT_BINARY_DIR}/tests/attn_sandbox;--compile;--")
      add_dependencies(${target} attn_sandbox)
    endif()
    list(APPEND objects $<TARGET_OBJECTS:${target}>)
    attn_record_step_target(${n} ${name} object ${target})
  endforeach()
  add_library(attn_${name} STATIC ${objects})
  target_link_libraries(attn_${name} PUBLIC attn::contract)
  add_library(attn::${name} ALIAS attn_${name})
  if(name STREQUAL "exercises")
    _attn_exercises_pch()
  endif()
endfunction()

# A precompiled <attn/contract.hpp> for the student's step files, so that saving a step
# and seeing its verdict takes less: parsing the contract and the standard headers it
# includes is about half of a step file's compile time. GCC only: it finds
# <build>/pch/attn/contract.hpp.gch on its own when a file's first #include is
# <attn/contract.hpp>, and uses it only when it was built with the same options; otherwise
# (another first line, other flags) it reads the header as usual. So a file means exactly
# what it means without it: nothing is force-included. Not for grading builds (ATTN_SANDBOX_COMPILE).
option(ATTN_EXERCISES_PCH "Precompile the contract's header for the exercises (GCC)" ON)
function(_attn_exercises_pch)
  if(NOT ATTN_EXERCISES_PCH OR ATTN_SANDBOX_COMPILE OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU"
     OR CMAKE_CONFIGURATION_TYPES)
    return()
  endif()
  set(dir "${PROJECT_BINARY_DIR}/pch")
  set(gch "${dir}/attn/contract.hpp.gch")
  string(TOUPPER "${CMAKE_BUILD_TYPE}" config)
  separate_arguments(flags UNIX_COMMAND "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${config}}")
  if(CMAKE_CXX_EXTENSIONS)
    list(APPEND flags ${CMAKE_CXX20_EXTENSION_COMPILE_OPTION})
  else()
    list(APPEND flags ${CMAKE_CXX20_STANDARD_COMPILE_OPTION})
  endif()
  list(APPEND flags ${CMAKE_CXX_COMPILE_OPTIONS_PIC} -Wall -Wextra -Wpedantic)  # -Wpedantic changes macros
  if(ATTN_SANITIZE)
    list(APPEND flags -fsanitize=${ATTN_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer
                      -DATTN_SANITIZED=1)
  endif()
  file(GLOB headers "${PROJECT_SOURCE_DIR}/contract/include/attn/*.hpp")
  # Compiled from a file that includes the header (a header compiled as the main file warns
  # about its #pragma once); GCC checks the options, not the name.
  set(source "${dir}/contract_pch.hpp")
  file(CONFIGURE OUTPUT "${source}" CONTENT "#include <attn/contract.hpp>\n")
  add_custom_command(
    OUTPUT "${gch}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${dir}/attn"
    COMMAND ${CMAKE_CXX_COMPILER} ${flags} -I "${PROJECT_SOURCE_DIR}/contract/include"
            -x c++-header "${source}" -o "${gch}"
    DEPENDS ${headers}
    COMMENT "Precompiling <attn/contract.hpp> for the exercises"
    VERBATIM)
  add_custom_target(attn_exercises_pch DEPENDS "${gch}")
  foreach(n IN LISTS ATTN_STEPS)
    target_include_directories(attn_exercises_step${n} BEFORE PRIVATE "${dir}")
    add_dependencies(attn_exercises_step${n} attn_exercises_pch)
  endforeach()
endfunction()

# ---------------------------------------------------------------------------- targets.json
# What the build calls each step's parts, for the Python tools (tools/course.py,
# BuildTargets): every target that belongs to a step is recorded where it is created,
#   attn_record_step_target(<step> <flavour> <role> <target> [PROGRAM])
# (role: object, tests, runner or hidden; PROGRAM: also record the file it builds), and
# attn_write_targets() writes <build>/targets.json once the whole project is configured.
# So the names are spelled where the targets are made, and nowhere else.
function(attn_record_step_target step flavour role target)
  set(entry "\"target\": \"${target}\"")
  if(ARGN STREQUAL "PROGRAM")
    string(APPEND entry ", \"program\": \"$<TARGET_FILE:${target}>\"")
  endif()
  set_property(GLOBAL APPEND PROPERTY ATTN_TARGETS_${step}_${flavour} "\"${role}\": {${entry}}")
  set_property(GLOBAL APPEND PROPERTY ATTN_TARGET_FLAVOURS_${step} ${flavour})
endfunction()

# attn_record_target(<role> <target>): a program that belongs to no step (the sandbox).
function(attn_record_target role target)
  set_property(GLOBAL APPEND PROPERTY ATTN_TARGETS_OTHER
               "\"${role}\": {\"target\": \"${target}\", \"program\": \"$<TARGET_FILE:${target}>\"}")
endfunction()

function(attn_write_targets)
  set(steps "")
  foreach(n IN LISTS ATTN_STEPS)
    get_property(flavours GLOBAL PROPERTY ATTN_TARGET_FLAVOURS_${n})
    list(REMOVE_DUPLICATES flavours)
    set(parts "")
    foreach(flavour IN LISTS flavours)
      get_property(roles GLOBAL PROPERTY ATTN_TARGETS_${n}_${flavour})
      list(JOIN roles ", " roles)
      list(APPEND parts "\"${flavour}\": {${roles}}")
    endforeach()
    list(JOIN parts ",\n      " parts)
    list(APPEND steps "    \"${n}\": {\n      ${parts}}")
  endforeach()
  list(JOIN steps ",\n" steps)
  get_property(other GLOBAL PROPERTY ATTN_TARGETS_OTHER)
  list(JOIN other ", " other)
  file(GENERATE OUTPUT "${PROJECT_BINARY_DIR}/targets.json" CONTENT
"{
  \"comment\": \"Generated by cmake/AttnCourse.cmake (attn_write_targets): each step's targets in this build, by flavour, and where their programs are. tools/course.py reads it (BuildTargets). Do not edit.\",
  \"other\": {${other}},
  \"steps\": {
${steps}
  }
}
")
endfunction()
