#!/usr/bin/env python3
"""Adding a step: in a scratch copy of the course, a new step 13, "total" (attn::total, the
sum of a row), is added the way docs/design.md says a lecturer adds one, and the tools are
expected to take it up with nothing else changed: no CMake file, no Python tool, no list.

What the copy gains:
  course/steps.json                one entry
  the step's own files             exercises/step13_total.cpp (the stub), solutions/,
                                   tests/test_step13_total.cpp, course/hints/step13.md,
                                   docs/step13_total.md
  the step's function in the three places that define the contract's functions: its
  declaration (contract/include/attn/contract.hpp), the reference's (reference.hpp and one
  existing reference source) and the judge's forwarder (tests/support/proxy.cpp)

What must follow (each a check below):
  listed        ./attn hint 13 shows the step's hints; ./attn check counts 13 steps
  self-checked  ./attn check passes: the step has a stub, solution, hints, docs page, tests
  built         the grading build builds step 13's judge and runner (its targets.json has them)
  graded        the untouched stubs score 0 on step 13 ("not started"), the answer key
                scores the manifest's points, and a wrong total (one element short) fails

One grading build (about 5 minutes on 2 cores), so CI runs it once (.ci/run), not in ctest.

  test_add_step.py --work DIR
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POINTS = 10

problems: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        problems.append(what)


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    print("+ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout[-6000:], flush=True)
    return proc


def copy_course(dest: Path) -> None:
    """The tracked files of the course as they are on disk, in a git repository of their own
    (the tools read the shipped stubs from git history)."""
    if dest.exists():
        shutil.rmtree(dest)
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True,
                           stdout=subprocess.PIPE).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git = ["git", "-C", str(dest), "-c", "user.name=attn", "-c", "user.email=attn@localhost"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "the course"], check=True)


def insert_before(path: Path, marker: str, text: str) -> None:
    """Puts `text` before the last `marker` of the file (a namespace's closing line)."""
    content = path.read_text(encoding="utf-8")
    at = content.rindex(marker)
    path.write_text(content[:at] + text + content[at:], encoding="utf-8")


STUB = '''// exercises/step13_total.cpp -- Step 13: the total of a row.
//
// TODO: write attn::total below. Test just this step with `./attn step 13`.
//
// total(x) = x_0 + x_1 + ... + x_{n-1}; 0 for an empty row; NaN in, NaN out.
#include <attn/contract.hpp>

#include <span>

namespace attn {

float total([[maybe_unused]] std::span<const float> x) {
  // TODO: return the sum of the elements of x.
  throw attn::not_implemented(13, "total", "attn::total", "exercises/step13_total.cpp");
}

}  // namespace attn
'''

SOLUTION = '''// solutions/step13_total.cpp -- Step 13: the total of a row.
#include <attn/contract.hpp>

#include <span>

namespace attn {

float total(std::span<const float> x) {
  double sum = 0.0;
  for (const float v : x) sum += v;
  return static_cast<float>(sum);
}

}  // namespace attn
'''

# One element short: the mistake the tests must catch.
WRONG = SOLUTION.replace("for (const float v : x) sum += v;",
                         "for (std::size_t i = 0; i + 1 < x.size(); ++i) sum += x[i];").replace(
                         "#include <span>", "#include <cstddef>\n#include <span>")

TESTS = '''// Step 13: the total of a row. Every sum here is of small integers: exact in float.
#include <attn/attn.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "support/catch.hpp"

TEST_CASE("the total of 1, 2, 3, 4 is 10", "[step13][card]") {
  const std::vector<float> x{1.0f, 2.0f, 3.0f, 4.0f};
  CHECK(attn::total(x) == 10.0f);
}

TEST_CASE("every element counts, the last one too", "[step13][property]") {
  const std::vector<float> x{0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 5.0f};
  CHECK(attn::total(x) == 5.0f);
}

TEST_CASE("the total of an empty row is 0", "[step13][special]") {
  CHECK(attn::total(std::vector<float>{}) == 0.0f);
}

TEST_CASE("NaN in, NaN out", "[step13][special]") {
  const std::vector<float> x{1.0f, std::numeric_limits<float>::quiet_NaN(), 2.0f};
  CHECK(std::isnan(attn::total(x)));
}
'''

HINTS = '''# Step 13: the total of a row

## Hint 1

Start an accumulator at zero and add each element.

## Hint 2

Loop over every element, the last one included: `for (float v : x)` cannot stop short.
'''

DOCS = '''# Step 13: the total of a row {#step13_total}

The total of a row is the sum of its elements; 0 for an empty row.
'''

DECLARATION = '''/// \\name Step 13: the total of a row
/// @{

/// \\brief The sum of the elements of `x`; 0 for an empty row; NaN in, NaN out.
float total(std::span<const float> x);

/// @}

'''


def add_step(course: Path) -> None:
    manifest = course / "course" / "steps.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["steps"].append({"number": 13, "slug": "total", "title": "the total of a row",
                          "file": "step13_total.cpp", "functions": ["total"], "points": POINTS,
                          "timeout": 30, "hidden_points": 0, "core": False})
    manifest.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    for path, text in (("exercises/step13_total.cpp", STUB), ("solutions/step13_total.cpp", SOLUTION),
                       ("tests/test_step13_total.cpp", TESTS), ("course/hints/step13.md", HINTS),
                       ("docs/step13_total.md", DOCS)):
        (course / path).write_text(text, encoding="utf-8")
    insert_before(course / "contract/include/attn/contract.hpp", "}  // namespace attn", DECLARATION)
    insert_before(course / "reference/include/attn/reference.hpp", "}  // namespace attn::ref",
                  "/// The attn::total() of the reference.\nfloat total(std::span<const float> x);\n\n")
    insert_before(course / "reference/src/instability.cpp", "}  // namespace attn::ref",
                  "float total(std::span<const float> x) {\n  double sum = 0.0;\n"
                  "  for (const float v : x) sum += v;\n  return static_cast<float>(sum);\n}\n\n")
    insert_before(course / "tests/support/proxy.cpp", "#undef ATTN_FORWARD",
                  "float total(std::span<const float> x) { return ATTN_FORWARD(total, x); }\n\n")


def submission(course: Path, folder: Path, base: str, step13: str | None = None) -> Path:
    """An exercises folder: every step file of `base`, then step 13's text if given."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(course / base, folder)
    if step13 is not None:
        (folder / "step13_total.cpp").write_text(step13, encoding="utf-8")
    return folder


def unit(results: Path, number: str) -> dict:
    tests = json.loads(results.read_text(encoding="utf-8"))["tests"]
    return next((t for t in tests if t["number"] == number), {})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, help="a scratch folder (replaced)")
    args = parser.parse_args()
    work = Path(args.work).resolve()
    course = work / "course"
    copy_course(course)
    add_step(course)
    attn = [sys.executable, str(course / "tools" / "attn.py")]

    checked = run(attn + ["check"], course)
    check(checked.returncode == 0 and "all 13 steps" in checked.stdout,
          "self-checked: ./attn check passes and counts 13 steps")
    hint = run(attn + ["hint", "13"], course)
    check(hint.returncode == 0 and "accumulator" in hint.stdout, "listed: ./attn hint 13 shows the step's first hint")

    build = work / "grade-build"
    graded = {}
    for name, base, step13 in (("stubs", "exercises", None), ("key", "solutions", None),
                               ("short", "solutions", WRONG)):
        folder = submission(course, work / "submissions" / name, base, step13)
        out = work / "grades" / name
        proc = run(attn + ["grade", str(folder), "--steps", "13", "--out", str(out),
                           "--build-dir", str(build), "--seed", "1"], course)
        check(proc.returncode == 0, f"graded: ./attn grade --steps 13 of the {name} submission exits 0")
        graded[name] = unit(out / "results.json", "13") if (out / "results.json").exists() else {}

    targets = json.loads((build / "targets.json").read_text(encoding="utf-8"))["steps"].get("13", {})
    exercises = targets.get("exercises", {})
    check({"object", "tests", "runner"} <= set(exercises)
          and all(Path(exercises[r]["program"]).is_file() for r in ("tests", "runner")),
          "built: the grading build's targets.json has step 13's object, judge and runner, built")
    check(graded["stubs"].get("score") == 0 and "not started" in graded["stubs"].get("output", ""),
          f"graded: the untouched stub scores 0 of {POINTS}, not started ({graded['stubs']})")
    check(graded["key"].get("score") == POINTS and graded["key"].get("max_score") == POINTS,
          f"graded: the answer key scores {POINTS} of {POINTS} ({graded['key'].get('score')})")
    short = graded["short"]
    check(short.get("status") == "failed" and 0 < short.get("score", -1) < POINTS,
          f"graded: a total one element short fails with partial credit ({short.get('score')})")

    if problems:
        print(f"\n{len(problems)} problem(s):\n  " + "\n  ".join(problems))
        return 1
    print("\nadding a step: the manifest entry and the step's files were enough")
    return 0


if __name__ == "__main__":
    sys.exit(main())
