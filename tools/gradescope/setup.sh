#!/usr/bin/env bash
# Gradescope: runs once, as root, when Gradescope builds the autograder image from
# autograder.zip (made by tools/gradescope/make_autograder.sh), unpacked in /autograder/source:
#   setup.sh  run_autograder  course/ (this repository)  hidden/ (your hidden tests, optional)
# Installs the compiler and libraries, then builds the grader once (grading the stubs), so
# that each submission compiles only its own step files.
set -euo pipefail
source_dir=/autograder/source
bash "$source_dir/course/scripts/install-deps.sh" student
hidden=()
[[ -d $source_dir/hidden ]] && hidden=(--hidden "$source_dir/hidden")
python3 "$source_dir/course/tools/attn.py" grade "$source_dir/course/exercises" --name warm-up \
  --out /tmp/attn-warm-up --build-dir /autograder/attn-build "${hidden[@]}" ||
  python3 "$source_dir/course/tools/attn.py" grade "$source_dir/course/exercises" --name warm-up \
    --out /tmp/attn-warm-up --build-dir /autograder/attn-build "${hidden[@]}" --no-sandbox
