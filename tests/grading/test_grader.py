#!/usr/bin/env python3
"""Tests of the grader (tools/grade.py) on fixture submissions, run by ctest (label grading).

Each submission is assembled at test time in a scratch folder from the course's own files:
  full    the answer key (solutions/), laid out as a clone holding exercises/
  stubs   the untouched stubs (exercises/)
  broken  the answer key with fixtures/broken/ on top: step 2 does not compile, step 4
          loops forever, step 6 crashes
and graded as a class with the hidden tests of fixtures/hidden/ (steps 1 and 3).
With --sanitize: the answer key with fixtures/overflow/ (step 4 writes past a matrix),
graded under AddressSanitizer + UndefinedBehaviorSanitizer.

  test_grader.py --work DIR [--sanitize]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = HERE / "fixtures"
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402
import grade  # noqa: E402

SEED = 7
STEPS = course.load_steps()
POINTS = {f"step{s.number}": s.points for s in STEPS}
problems: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        problems.append(what)


def assemble(folder: Path, base: str, overlay: str | None = None) -> None:
    """An exercises folder: every step file of `base` (solutions or exercises), then the
    step files of fixtures/<overlay> in their place."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for s in STEPS:
        shutil.copyfile(ROOT / base / s.file, folder / s.file)
    if overlay:
        for f in (FIXTURES / overlay).glob("step*.cpp"):
            shutil.copyfile(f, folder / f.name)
    (folder / "NOTES.txt").write_text("not a step file: the grader ignores it\n")


def attn(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "tools" / "attn.py"), *args]
    print("+ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout, flush=True)
    return proc


def load_results(path: Path) -> dict:
    data = json.loads(path.read_text())
    tests = data["tests"]
    check(all(set(t) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}
              for t in tests), f"{path}: every test has Gradescope's fields")
    check(all(t["status"] in ("passed", "failed") for t in tests), f"{path}: statuses are passed/failed")
    check(all(len(t["output"]) <= grade.OUTPUT_LIMIT for t in tests), f"{path}: outputs are cut to size")
    check(isinstance(data["execution_time"], int), f"{path}: execution_time is whole seconds")
    check(abs(data["score"] - sum(t["score"] for t in tests)) < 1e-6, f"{path}: score is the sum of the tests")
    return {("hidden" if t["number"].endswith(".1") else "step") + t["number"].split(".")[0]: t for t in tests}


def test_class(work: Path) -> None:
    subs = work / "submissions"
    assemble(subs / "full" / "exercises", "solutions")
    assemble(subs / "stubs", "exercises")
    assemble(subs / "broken", "solutions", "broken")
    out = work / "grades"
    shutil.rmtree(out, ignore_errors=True)
    proc = attn("grade-class", str(subs), "--hidden", str(FIXTURES / "hidden"), "--out", str(out),
                "--build-dir", str(work / "build"), "--seed", str(SEED), "--jobs", "3")
    check(proc.returncode == 0, "grade-class exits 0")

    with open(out / "gradebook.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    check(set(rows) == {"(maximum)", "full", "stubs", "broken"}, "the gradebook has a row per student")
    columns = [f"step{s.number}" for s in STEPS] + ["hidden1", "hidden3", "total"]
    check(all(c in rows["full"] for c in columns), f"the gradebook has the columns {columns}")
    maximum = sum(POINTS.values()) + 2 * 5
    check(float(rows["(maximum)"]["total"]) == maximum, f"the maximum is {maximum} with hidden tests")
    check(float(rows["full"]["total"]) == maximum, "the answer key scores full marks, hidden tests included")
    check(float(rows["stubs"]["total"]) == 0, "the untouched stubs score 0")

    results = {name: load_results(out / name / "results.json") for name in ("full", "stubs", "broken")}
    for name, units in results.items():
        check(sum(t["max_score"] for t in units.values()) == maximum,
              f"{name}: the maximum does not depend on what compiled")
        check(units["hidden1"]["visibility"] == "after_due_date" and units["step1"]["visibility"] == "visible",
              f"{name}: hidden tests are shown after the deadline only")
    check(all(t["status"] == "passed" for t in results["full"].values()), "full: every unit passes")
    check(all(t["output"].startswith("not started") for t in results["stubs"].values()),
          "stubs: every unit is 'not started'")

    broken = results["broken"]
    for key in ("step1", "step3", "step8", "step10", "hidden1", "hidden3"):
        check(broken[key]["score"] == broken[key]["max_score"], f"broken: {key} keeps its points")
    check(broken["step2"]["score"] == 0 and broken["step2"]["output"].startswith("does not compile"),
          "broken: step 2 does not compile and scores 0")
    check("step2_scaling.cpp" in broken["step2"]["output"] and "error" in broken["step2"]["output"]
          and "/submission/" not in broken["step2"]["output"],
          "broken: step 2's report shows the compiler's message, naming the student's file")
    check(broken["step4"]["score"] == 0 and broken["step4"]["output"].startswith("timed out"),
          "broken: step 4's endless loop times out and scores 0")
    check(broken["step6"]["score"] == 0 and broken["step6"]["output"].startswith("crashed"),
          "broken: step 6 crashes and scores 0")
    step5 = broken["step5"]
    check(0 < step5["score"] < step5["max_score"] and "step 2" in step5["output"],
          "broken: step 5 loses only its tests that call step 2 (attention_weights)")
    check(f"--rng-seed {SEED}" in step5["output"], "broken: a failing step prints the seed to rerun with")
    for key in ("step7", "step9"):  # their whole-attention tests call attention_weights, hence scores
        check(0 < broken[key]["score"] < broken[key]["max_score"],
              f"broken: {key} loses only its tests that need step 2")
    expected = sum(broken[k]["score"] for k in broken)
    check(float(rows["broken"]["total"]) == expected, "broken: the gradebook total matches results.json")

    junit = ET.parse(out / "broken" / "junit.xml").getroot()
    cases = junit.findall(".//testcase")
    check(len(cases) == len(STEPS) + 2, "broken: junit.xml has one test case per unit")
    failed = sorted(k for k, t in broken.items() if t["status"] == "failed")
    check(failed == ["step2", "step4", "step5", "step6", "step7", "step9"],
          f"broken: exactly steps 2, 4, 6 and the tests that need step 2 fail (failed: {failed})")
    check(sum(1 for c in cases if c.find("failure") is not None) == len(failed),
          "broken: junit.xml has one failure per failed unit")

    # One folder, no hidden tests: the same build, reconfigured; the maximum is the manifest's.
    single = work / "single"
    proc = attn("grade", str(subs / "broken"), "--out", str(single), "--build-dir", str(work / "build"),
                "--seed", str(SEED))
    check(proc.returncode == 0 and "step 2" in proc.stdout.lower(), "grade prints the table")
    units = load_results(single / "results.json")
    check(sum(t["max_score"] for t in units.values()) == sum(POINTS.values())
          and not any(k.startswith("hidden") for k in units), "grade without --hidden: no hidden units")


def test_sanitize(work: Path) -> None:
    sub = work / "overflow"
    assemble(sub, "solutions", "overflow")
    out = work / "grades-sanitize"
    proc = attn("grade", str(sub), "--sanitize", "--out", str(out), "--build-dir", str(work / "build-sanitize"),
                "--seed", str(SEED))
    check(proc.returncode == 0, "grade --sanitize exits 0")
    units = load_results(out / "results.json")
    step4 = units["step4"]
    check(step4["score"] == 0 and step4["output"].startswith("memory error")
          and "AddressSanitizer" in step4["output"] and f"{sub}/step4_softmax.cpp" in step4["output"],
          "overflow: step 4 fails with AddressSanitizer's report")
    check(all(units[k]["status"] == "passed" for k in units if k != "step4"),
          "overflow: every other step passes under the sanitizers")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="a scratch folder (builds are kept there and reused)")
    parser.add_argument("--sanitize", action="store_true", help="the sanitizer test instead of the class test")
    args = parser.parse_args()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    (test_sanitize if args.sanitize else test_class)(work)
    if problems:
        print(f"\n{len(problems)} check(s) failed:\n  " + "\n  ".join(problems))
        return 1
    print("\nall grader checks pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
