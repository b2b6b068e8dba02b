#!/usr/bin/env bash
# Makes the Gradescope autograder zip: setup.sh and run_autograder at its root, the course
# (this repository's files, without build/ or anything .gitignore'd) in course/, and your
# hidden tests (hidden_step<n>_*.cpp) in hidden/.
#
#   tools/gradescope/make_autograder.sh [--hidden DIR] [OUT.zip]     (default: autograder.zip)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
top="$(cd "$here/../.." && pwd)"
hidden=""
out="autograder.zip"
while (($#)); do
  case "$1" in
    --hidden) hidden="$(cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) out="$1"; shift ;;
  esac
done
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/course"
git -C "$top" ls-files -z --cached --others --exclude-standard \
  | tar -C "$top" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$stage/course"
cp "$here/setup.sh" "$here/run_autograder" "$stage/"
parts=(setup.sh run_autograder course)
if [[ -n $hidden ]]; then
  mkdir "$stage/hidden"
  cp "$hidden"/hidden_step*_*.cpp "$stage/hidden/"
  parts+=(hidden)
fi
rm -f "$out"
(cd "$stage" && python3 -m zipfile -c "$out" "${parts[@]}")
echo "make_autograder: wrote $out (${parts[*]})"
