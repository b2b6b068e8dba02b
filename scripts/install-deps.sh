#!/usr/bin/env bash
# Installs the system packages the course needs. Safe to run twice: it installs only what
# is missing and says what it installs.
#
#   scripts/install-deps.sh [--check] [student|full|fuzz|widgets]
#
#   student  what './attn' needs: compiler, CMake, Ninja, Python 3, Catch2, xsimd, and on
#            Linux the grading sandbox: bubblewrap and libseccomp (default)
#   full     what './attn test' and './attn bench' need besides: Google Benchmark, the
#            benchmark peers OpenBLAS, Eigen, oneDNN (apt only; with the OpenCL headers
#            and loader its CMake config asks for) and PyTorch's C++ library (apt only),
#            Doxygen, MathJax, the docs theme,
#            matplotlib and Chromium (the docs, their pictures and their browser check),
#            xmllint (the check of the grader's JUnit reports)
#   fuzz     the student set and Clang with libFuzzer (the fuzzing run of .ci/run)
#   widgets  the full set and Emscripten: the docs' live widgets, the answer key compiled to
#            WebAssembly (without it the docs keep their static examples)
#   --check  install nothing; exit 0 when everything is there, 1 (listing what is
#            missing) otherwise
#
# Debian 12 / Ubuntu 24.04+ use apt-get (through sudo when not root); macOS uses Homebrew.
# Ubuntu 22.04 ships xsimd 7.6, older than the 8.1 the course needs: use vcpkg there
# (vcpkg.json at the top of the repository) or a newer Ubuntu.
set -euo pipefail

check_only=0
set_name=student
for arg in "$@"; do
  case "$arg" in
    --check) check_only=1 ;;
    student|full|fuzz|widgets) set_name=$arg ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps.sh: unknown argument '$arg'; expected --check, student, full, fuzz or widgets" >&2; exit 2 ;;
  esac
done

apt_student=(g++ cmake ninja-build python3 git catch2 libxsimd-dev bubblewrap libseccomp-dev)
apt_full=(libbenchmark-dev libopenblas-dev libeigen3-dev libdnnl-dev opencl-headers ocl-icd-opencl-dev libtorch-dev
          doxygen libjs-mathjax doxygen-awesome-css python3-matplotlib chromium libxml2-utils)
apt_fuzz=(clang libclang-rt-dev)
apt_widgets=(emscripten)
brew_student=(cmake ninja python catch2 xsimd)
brew_full=(google-benchmark openblas eigen doxygen python-matplotlib)
brew_fuzz=(llvm)
brew_widgets=(emscripten)

say() { printf 'install-deps: %s\n' "$*"; }

if [[ "$(uname -s)" == "Darwin" ]]; then
  command -v brew >/dev/null || { say "Homebrew is needed on macOS: see https://brew.sh"; exit 1; }
  wanted=("${brew_student[@]}")
  [[ $set_name == full ]] && wanted+=("${brew_full[@]}")
  [[ $set_name == fuzz ]] && wanted+=("${brew_fuzz[@]}")
  [[ $set_name == widgets ]] && wanted+=("${brew_full[@]}" "${brew_widgets[@]}")
  missing=()
  for p in "${wanted[@]}"; do brew list --versions "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]} == 0)); then exit 0; fi
  if ((check_only)); then say "missing: ${missing[*]}"; exit 1; fi
  say "installing with Homebrew: ${missing[*]}"
  brew install "${missing[@]}"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  say "no apt-get or Homebrew here. Install by hand: a C++20 compiler, CMake >= 3.22, Ninja,"
  say "Python 3, Catch2 (v2.13 or v3), xsimd >= 8.1 (and for 'full': Google Benchmark, Doxygen),"
  say "or use vcpkg with the vcpkg.json manifest."
  exit 1
fi

wanted=("${apt_student[@]}")
[[ $set_name == full ]] && wanted+=("${apt_full[@]}")
[[ $set_name == fuzz ]] && wanted+=("${apt_fuzz[@]}")
[[ $set_name == widgets ]] && wanted+=("${apt_full[@]}" "${apt_widgets[@]}")
# One dpkg-query for all of them: ./attn runs this check before every command.
installed=$'\n'"$(dpkg-query -W -f='${Package} ${Status}\n' "${wanted[@]}" 2>/dev/null || true)"$'\n'
missing=()
for p in "${wanted[@]}"; do
  [[ $installed == *$'\n'"$p install ok installed"$'\n'* ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi
if ((check_only)); then say "missing: ${missing[*]}"; exit 1; fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { say "not root and no sudo: install as root: apt-get install ${missing[*]}"; exit 1; }
  sudo=(sudo)
fi
say "installing with apt-get: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# chromium is only for the docs' browser check: a distribution without it still gets the rest.
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  rest=()
  for p in "${missing[@]}"; do [[ $p == chromium ]] || rest+=("$p"); done
  say "retrying without chromium (the docs browser check will be skipped)"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${rest[@]}"
fi

version=$(dpkg-query -W -f='${Version}' libxsimd-dev 2>/dev/null || true)
if [[ -n $version ]] && dpkg --compare-versions "$version" lt 8.1; then
  say "libxsimd-dev $version is older than 8.1 (Ubuntu 22.04): use vcpkg (vcpkg.json) or Ubuntu 24.04+"
  exit 1
fi
say "done"
