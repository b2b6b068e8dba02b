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
endif()

if(ATTN_BUILD_BENCHMARKS)
  find_package(benchmark CONFIG QUIET)
  attn_require("Google Benchmark" benchmark_FOUND libbenchmark-dev google-benchmark benchmark
               "the benchmarks need it; or configure with -DATTN_BUILD_BENCHMARKS=OFF")
  # Optional peers the reference is compared with, when installed.
  find_package(BLAS QUIET)
  find_path(ATTN_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas)
  find_library(ATTN_OPENBLAS_LIBRARY NAMES openblas)
  if(ATTN_CBLAS_INCLUDE_DIR AND ATTN_OPENBLAS_LIBRARY)
    set(ATTN_HAVE_OPENBLAS ON)
    message(STATUS "attn: benchmark peer OpenBLAS: ${ATTN_OPENBLAS_LIBRARY}")
  else()
    message(STATUS "attn: benchmark peer OpenBLAS not found (sudo apt-get install libopenblas-dev)")
  endif()
  find_package(Eigen3 3.3 CONFIG QUIET)
  if(Eigen3_FOUND)
    message(STATUS "attn: benchmark peer Eigen ${Eigen3_VERSION}")
  else()
    message(STATUS "attn: benchmark peer Eigen not found (sudo apt-get install libeigen3-dev)")
  endif()
  # oneDNN's softmax primitive; its threads are OpenMP's (Debian's build), set to one.
  find_package(dnnl CONFIG QUIET)
  find_package(OpenMP COMPONENTS CXX QUIET)
  if(dnnl_FOUND AND OpenMP_CXX_FOUND)
    set(ATTN_HAVE_DNNL ON)
    message(STATUS "attn: benchmark peer oneDNN ${dnnl_VERSION}")
  else()
    message(STATUS "attn: benchmark peer oneDNN not found (sudo apt-get install libdnnl-dev)")
  endif()
endif()

if(ATTN_BUILD_DOCS)
  find_package(Doxygen QUIET)
  attn_require(Doxygen DOXYGEN_FOUND doxygen doxygen doxygen "the docs need it; or configure with -DATTN_BUILD_DOCS=OFF")
endif()
