# Every dependency of the project is found here and nowhere else.
# A missing required package stops configuration with its name and install command.

# attn_require(<name> <found?> <apt> <brew> <vcpkg> [why])
function(attn_require name found apt brew vcpkg why)
  if(NOT ${found})
    message(FATAL_ERROR
      "attn: required package '${name}' was not found (${why}).\n"
      "Install it with one of:\n"
      "  Debian/Ubuntu:  sudo apt-get install ${apt}\n"
      "  macOS:          brew install ${brew}\n"
      "  vcpkg:          vcpkg install ${vcpkg}\n"
      "or run scripts/install-deps.sh, which installs everything the course needs.\n"
      "If it is installed in an unusual place, pass -DCMAKE_PREFIX_PATH=<prefix>.")
  endif()
endfunction()

# attn_probe_package(<name> [find_package arguments...]): find_package(<name> ... QUIET)
# for an optional package, tried first in a CMake process of its own (cmake/probe), since a
# package's config may stop configuration itself (Debian's oneDNN asks for OpenCL with
# REQUIRED). Only when the package is found there is it found here; otherwise <name>_FOUND
# is false and ATTN_PROBE_<name>_WHY holds the child's error (empty: nothing was found). The child gets this build's
# compiler, generator, prefix path and toolchain file (vcpkg), so it sees what this one sees.
function(attn_probe_package name)
  set(dir "${CMAKE_BINARY_DIR}/CMakeFiles/attn_probe_${name}")
  string(REPLACE ";" "|" args "${name};${ARGN}")
  string(REPLACE ";" "|" prefix "${CMAKE_PREFIX_PATH}")
  set(forwarded "-DATTN_PROBE_ARGS=${args}" "-DCMAKE_PREFIX_PATH=${prefix}"
                "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}")
  foreach(var CMAKE_TOOLCHAIN_FILE CMAKE_MAKE_PROGRAM VCPKG_TARGET_TRIPLET ${name}_DIR)
    if(DEFINED ${var} AND NOT "${${var}}" MATCHES "-NOTFOUND$")
      list(APPEND forwarded "-D${var}=${${var}}")
    endif()
  endforeach()
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S "${PROJECT_SOURCE_DIR}/cmake/probe" -B "${dir}" -G "${CMAKE_GENERATOR}"
            -Wno-dev ${forwarded}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 AND out MATCHES "attn-probe: found")
    find_package(${name} ${ARGN} QUIET)
    set(why "")
  else()
    set(${name}_FOUND FALSE PARENT_SCOPE)
    set(why "")
    # The first error's text, on one line: what the package's own config said.
    if(NOT rc EQUAL 0 AND err MATCHES "CMake Error[^\n]*:\n(.*)")
      string(REGEX REPLACE "(\n\n|\nCall Stack).*" "" why "${CMAKE_MATCH_1}")
      string(REGEX REPLACE "[ \n]+" " " why "${why}")
      string(STRIP "${why}" why)
    endif()
  endif()
  set(ATTN_PROBE_${name}_WHY "${why}" PARENT_SCOPE)
  foreach(var FOUND VERSION DIR)
    if(DEFINED ${name}_${var})
      set(${name}_${var} "${${name}_${var}}" PARENT_SCOPE)
    endif()
  endforeach()
endfunction()

# attn_report_peer(<name> <found?> <what was found> <apt packages> <why not, or "">): says
# whether a benchmark peer was found (and if not, why and how to install it), and notes it
# for attn_write_peers().
set(ATTN_PEERS "")
function(attn_report_peer name found what apt why)
  if(${found})
    message(STATUS "attn: benchmark peer ${name}: ${what}")
    set(state found)
  else()
    set(because "")
    if(why)
      set(because " (${why})")
    endif()
    message(STATUS "attn: benchmark peer ${name} not found${because}; "
                   "install it with: sudo apt-get install ${apt}")
    set(state "not found")
  endif()
  set(peers "${ATTN_PEERS}")
  string(REPLACE ";" "," why "${why}")
  list(APPEND peers "${name}|${state}|${apt}|${why}")
  set(ATTN_PEERS "${peers}" PARENT_SCOPE)
endfunction()

# attn_write_peers(<file>): one line per peer, "name|found or not found|apt packages|why",
# for the build.peers test (cmake/check_peers.cmake).
function(attn_write_peers file)
  string(REPLACE ";" "\n" lines "${ATTN_PEERS}")
  file(WRITE "${file}" "${lines}\n")
endfunction()

# xsimd 8.1 (Debian 12) up to the newest 13/14: the reference kernels.
find_package(xsimd CONFIG QUIET)
attn_require(xsimd xsimd_FOUND libxsimd-dev xsimd xsimd "the vectorised reference needs it")
if(xsimd_VERSION VERSION_LESS 8.1)
  message(FATAL_ERROR "attn: xsimd ${xsimd_VERSION} is too old; 8.1 or newer is needed "
                      "(sudo apt-get install libxsimd-dev, brew install xsimd).")
endif()
message(STATUS "attn: xsimd ${xsimd_VERSION}")
# Debian 12's xsimd 8.1 package exports INTERFACE_LINK_LIBRARIES "xtl" without finding
# xtl, so every link line would get -lxtl. xsimd is header-only and needs xtl only for
# its optional xtl::xcomplex support, which the course does not use: drop the stray name.
get_target_property(_attn_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
if(_attn_xsimd_links AND NOT TARGET xtl)
  list(REMOVE_ITEM _attn_xsimd_links xtl)
  set_property(TARGET xsimd PROPERTY INTERFACE_LINK_LIBRARIES "${_attn_xsimd_links}")
endif()

find_package(Threads REQUIRED)

if(ATTN_BUILD_TESTS)
  # Catch2 v3 (Ubuntu 24.04, Homebrew, vcpkg) or v2.13 (Debian 12, Ubuntu 22.04);
  # tests/support/catch.hpp hides the difference.
  find_package(Catch2 3 CONFIG QUIET)
  if(NOT Catch2_FOUND)
    find_package(Catch2 2.13 CONFIG QUIET)
  endif()
  attn_require(Catch2 Catch2_FOUND catch2 catch2 catch2 "the tests need it; or configure with -DATTN_BUILD_TESTS=OFF")
  string(REGEX MATCH "^[0-9]+" ATTN_CATCH2_MAJOR "${Catch2_VERSION}")
  message(STATUS "attn: Catch2 ${Catch2_VERSION}")
  # The course's own checks (self-check, command-line tools, grader) are Python 3 scripts.
  find_package(Python3 COMPONENTS Interpreter QUIET)
  attn_require("Python 3" Python3_FOUND python3 python python3 "the course's self-checks need it")

  # The grading sandbox (tests/support/sandbox.cpp), Linux only and optional: without it
  # students test as before, and the grader refuses to grade unless told --no-sandbox.
  find_program(ATTN_BWRAP bwrap)
  find_path(ATTN_SECCOMP_INCLUDE_DIR seccomp.h)
  find_library(ATTN_SECCOMP_LIBRARY seccomp)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND ATTN_BWRAP AND ATTN_SECCOMP_INCLUDE_DIR AND ATTN_SECCOMP_LIBRARY)
    set(ATTN_HAVE_SANDBOX ON)
    message(STATUS "attn: grading sandbox: bubblewrap (${ATTN_BWRAP}) and libseccomp")
  else()
    set(ATTN_HAVE_SANDBOX OFF)
    message(STATUS "attn: grading sandbox: not available (needs Linux, bubblewrap and libseccomp: "
                   "sudo apt-get install bubblewrap libseccomp-dev); grading then needs --no-sandbox")
  endif()
endif()

if(ATTN_BUILD_BENCHMARKS)
  find_package(benchmark CONFIG QUIET)
  attn_require("Google Benchmark" benchmark_FOUND libbenchmark-dev google-benchmark benchmark
               "the benchmarks need it; or configure with -DATTN_BUILD_BENCHMARKS=OFF")
  # Optional peers the reference is compared with, when installed. None of them can stop
  # configuration: a missing or broken one costs its benchmarks, never the build.
  find_path(ATTN_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas)
  find_library(ATTN_OPENBLAS_LIBRARY NAMES openblas)
  if(ATTN_CBLAS_INCLUDE_DIR AND ATTN_OPENBLAS_LIBRARY)
    set(ATTN_HAVE_OPENBLAS ON)
  endif()
  attn_report_peer(OpenBLAS ATTN_HAVE_OPENBLAS "${ATTN_OPENBLAS_LIBRARY}" libopenblas-dev "")
  attn_probe_package(Eigen3 3.3 CONFIG)
  attn_report_peer(Eigen Eigen3_FOUND "${Eigen3_VERSION}" libeigen3-dev "${ATTN_PROBE_Eigen3_WHY}")
  # oneDNN's softmax primitive; its threads are OpenMP's (Debian's build), set to one.
  # Debian's oneDNN config asks for OpenCL with REQUIRED, hence the probe.
  attn_probe_package(dnnl CONFIG)
  find_package(OpenMP COMPONENTS CXX QUIET)
  set(ATTN_HAVE_DNNL OFF)
  set(_attn_dnnl_why "${ATTN_PROBE_dnnl_WHY}")
  if(dnnl_FOUND AND OpenMP_CXX_FOUND)
    set(ATTN_HAVE_DNNL ON)
  elseif(dnnl_FOUND)
    set(_attn_dnnl_why "the compiler has no OpenMP, which Debian's oneDNN uses for its threads")
  endif()
  attn_report_peer(oneDNN ATTN_HAVE_DNNL "${dnnl_VERSION}"
                   "libdnnl-dev opencl-headers ocl-icd-opencl-dev" "${_attn_dnnl_why}")
  # PyTorch's C++ library (ATen), the tool most users would reach for: softmax, and attention
  # composed as a PyTorch user writes it. Its CMake config pulls in Caffe2's, hence the probe.
  attn_probe_package(Torch CONFIG)
  attn_report_peer(PyTorch Torch_FOUND "${Torch_VERSION}" libtorch-dev "${ATTN_PROBE_Torch_WHY}")
  attn_write_peers("${CMAKE_BINARY_DIR}/attn_peers.txt")
endif()

if(ATTN_BUILD_DOCS)
  find_package(Doxygen QUIET)
  attn_require(Doxygen DOXYGEN_FOUND doxygen doxygen doxygen "the docs need it; or configure with -DATTN_BUILD_DOCS=OFF")
endif()
