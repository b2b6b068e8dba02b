#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, starting from its seed
# corpus in fuzz/corpus/<name>/. New inputs go to a scratch folder, never into the tree.
#
#   fuzz/run.sh BUILD_DIR [SECONDS] [NAME...]      e.g. fuzz/run.sh build/fuzz 25
#   fuzz/run.sh BUILD_DIR 3600 softmax             an hour on one target
#
# BUILD_DIR is a build of the `fuzz` preset (cmake --preset fuzz && cmake --build --preset fuzz).
# Exit status 0 when no target found anything; otherwise 1, and the input that broke the
# contract is in BUILD_DIR/fuzz/artifacts/ (replay it: BUILD_DIR/fuzz/attn_fuzz_<name> <file>).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if (($# < 1)); then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
build="$1"
seconds="${2:-25}"
shift $(($# >= 2 ? 2 : 1))
names=("$@")
if ((${#names[@]} == 0)); then
  for dir in "$here"/corpus/*/; do names+=("$(basename "$dir")"); done
fi

artifacts="$build/fuzz/artifacts"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"
failed=()
for name in "${names[@]}"; do
  exe="$build/fuzz/attn_fuzz_$name"
  if [[ ! -x "$exe" ]]; then
    echo "fuzz/run.sh: no fuzz target $exe; build the fuzz preset first" >&2
    exit 2
  fi
  mkdir -p "$scratch/$name"
  echo "== fuzz $name for ${seconds} s"
  if "$exe" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 \
      -artifact_prefix="$artifacts/$name-" "$scratch/$name" "$here/corpus/$name" \
      >"$scratch/$name.log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units)' "$scratch/$name.log" || true
  else
    grep -E -A12 'CONTRACT VIOLATION|ERROR: (AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error' \
      "$scratch/$name.log" | head -40 || tail -40 "$scratch/$name.log"
    echo "fuzz/run.sh: $name FAILED; the input is in $artifacts/ (replay: $exe <file>)" >&2
    failed+=("$name")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz/run.sh: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz/run.sh: ${#names[@]} targets, ${seconds} s each: nothing found"
