#!/usr/bin/env python3
"""Tests of the grader (tools/grade.py) on fixture submissions, run by ctest (label grading).

Each submission is assembled at test time in a scratch folder from the course's own files:
  full    the answer key (solutions/), laid out as a clone holding exercises/
  stubs   the untouched stubs (exercises/)
  broken  the answer key with fixtures/broken/ on top: step 2 does not compile, step 4
          loops forever, step 6's entropy crashes
  divides the answer key with fixtures/divides_by_d/ on top: step 2 divides by d instead of
          sqrt(d), a mistake of the catalogue (course/mistakes/)
and graded as a class with the hidden tests of fixtures/hidden/ (steps 1 and 3), then once
more without the sandbox, and "divides" once more alone, whose step 2 judge then runs here
too: its score must be the one computed here from the kinds (tags) of the test cases passed
and the manifest's weights. Partial credit is always checked that way: each test case
weighs its kind's weight in course/steps.json. With --sanitize: the answer key with fixtures/overflow/ (step 4
writes past a matrix), steps 1 and 4 of it graded (--steps) under AddressSanitizer +
UndefinedBehaviorSanitizer. With
--hostile: the submissions of fixtures/hostile/ (README.md there), each of which attacks the
grader, graded as a class in the sandbox: each must score its honest score, with nothing
leaked into any report and nothing changed outside the runner.

With --ctest: "broken" graded with ./attn grade and with ctest (the grade presets), which
must agree unit by unit, in a JUnit file valid against junit.xsd.

  test_grader.py --work DIR [--sanitize | --hostile | --ctest]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = HERE / "fixtures"
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402
from grading import units as grading_units  # noqa: E402

SEED = 7
STEPS = course.load_steps()
POINTS = {f"step{s.number}": s.points for s in STEPS}
MANIFEST = json.loads((ROOT / "course" / "steps.json").read_text())
problems: list[str] = []


def weights(number: int) -> dict[str, float]:
    """Step `number`'s weight of each kind, read from the manifest here (not by the tools)."""
    found = {k: v["weight"] for k, v in MANIFEST["kinds"].items()}
    found.update(next(s for s in MANIFEST["steps"] if s["number"] == number).get("kinds", {}))
    return found


def kind_of(tags: list[str], number: int) -> str:
    return next((t for t in tags if t in weights(number)), "property")


def weighted(number: int, cases: list[tuple[str, bool]]) -> float:
    """Step `number`'s points for (kind, passed) test cases, by the manifest's weights."""
    w = weights(number)
    total = sum(w[k] for k, _ in cases)
    points = POINTS[f"step{number}"]
    return round(points * sum(w[k] for k, ok in cases if ok) / total, 1)


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


def attn(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "tools" / "attn.py"), *args]
    print("+ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env={**os.environ, **(env or {})})
    print(proc.stdout, flush=True)
    return proc


def load_results(path: Path) -> dict:
    data = json.loads(path.read_text())
    tests = data["tests"]
    check(all(set(t) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}
              for t in tests), f"{path}: every test has Gradescope's fields")
    check(all(t["status"] in ("passed", "failed") for t in tests), f"{path}: statuses are passed/failed")
    check(all(len(t["output"]) <= grading_units.OUTPUT_LIMIT for t in tests), f"{path}: outputs are cut to size")
    check(isinstance(data["execution_time"], int), f"{path}: execution_time is whole seconds")
    check(abs(data["score"] - sum(t["score"] for t in tests)) < 1e-6, f"{path}: score is the sum of the tests")
    return {("hidden" if t["number"].endswith(".1") else "step") + t["number"].split(".")[0]: t for t in tests}


def cases_calling(test_file: str, *calls: str, unaffected: tuple[str, ...] = ()) -> tuple[int, int, list[tuple[str, bool]]]:
    """(test cases whose body has any of `calls`, all test cases, and (kind, calls none of
    them) for each: its points if exactly those fail) in a test file of the course. The
    test cases named in `unaffected` count as passing whatever they call."""
    number = int(re.match(r"test_step(\d+)_", test_file).group(1))
    bodies = re.split(r"^TEST_CASE\(", (ROOT / "tests" / test_file).read_text(), flags=re.M)[1:]
    cases = []
    for body in bodies:
        header = body[:body.index("{")]
        tags = re.findall(r"\[([^\]\"]+)\]", "".join(re.findall(r'"((?:\[[^\]"]+\])+)"', header)))
        name = re.match(r'"((?:[^"\\]|\\.)*)"', header).group(1)
        cases.append((kind_of(tags, number), name in unaffected or not any(c in body for c in calls)))
    return sum(not ok for _, ok in cases), len(cases), cases


def judge_cases(judge: Path, runner: Path, number: int) -> list[tuple[str, bool]]:
    """(kind, passed) of each test case, from Catch2's XML report of running `judge` here."""
    report = judge.parent / f"check-step{number}.xml"
    subprocess.run([str(judge), "--reporter", "xml", "--out", str(report), "--rng-seed", str(SEED)],
                   env={**os.environ, "ATTN_RUNNER": str(runner)}, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)
    cases = []
    for case in ET.parse(report).getroot().iter("TestCase"):
        tags = re.findall(r"\[([^\]]+)\]", case.get("tags", ""))
        cases.append((kind_of(tags, number), case.find("OverallResult").get("success") == "true"))
    return cases


def test_class(work: Path) -> None:
    subs = work / "submissions"
    assemble(subs / "full" / "exercises", "solutions")
    assemble(subs / "stubs", "exercises")
    assemble(subs / "broken", "solutions", "broken")
    assemble(subs / "divides", "solutions", "divides_by_d")
    out = work / "grades"
    shutil.rmtree(out, ignore_errors=True)
    proc = attn("grade-class", str(subs), "--hidden", str(FIXTURES / "hidden"), "--out", str(out),
                "--build-dir", str(work / "build"), "--seed", str(SEED), "--jobs", "3")
    check(proc.returncode == 0, "grade-class exits 0")

    with open(out / "gradebook.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    check(set(rows) == {"(maximum)", "full", "stubs", "broken", "divides"}, "the gradebook has a row per student")
    columns = [f"step{s.number}" for s in STEPS] + ["hidden1", "hidden3", "total"]
    check(all(c in rows["full"] for c in columns), f"the gradebook has the columns {columns}")
    maximum = sum(POINTS.values()) + 2 * 5
    check(float(rows["(maximum)"]["total"]) == maximum, f"the maximum is {maximum} with hidden tests")
    check(float(rows["full"]["total"]) == maximum, "the answer key scores full marks, hidden tests included")
    check(float(rows["stubs"]["total"]) == 0, "the untouched stubs score 0")

    results = {name: load_results(out / name / "results.json") for name in ("full", "stubs", "broken", "divides")}
    for name, units in results.items():
        check(sum(t["max_score"] for t in units.values()) == maximum,
              f"{name}: the maximum does not depend on what compiled")
        check(units["hidden1"]["visibility"] == "after_due_date" and units["step1"]["visibility"] == "visible",
              f"{name}: hidden tests are shown after the deadline only")
    check(all(t["status"] == "passed" for t in results["full"].values()), "full: every unit passes")
    check(all(t["output"].startswith("not started") for t in results["stubs"].values()),
          "stubs: every unit is 'not started'")

    broken = results["broken"]
    for key in ("step1", "step3", "step8", "step10", "step12", "hidden1", "hidden3"):
        check(broken[key]["score"] == broken[key]["max_score"], f"broken: {key} keeps its points")
    check(broken["step11"]["score"] < broken["step11"]["max_score"],
          "broken: step 11 loses the test cases that reach step 2 through attention_weights")
    check(broken["step2"]["score"] == 0 and broken["step2"]["output"].startswith("does not compile"),
          "broken: step 2 does not compile and scores 0")
    check("step2_scaling.cpp" in broken["step2"]["output"] and "error" in broken["step2"]["output"]
          and "/submission/" not in broken["step2"]["output"],
          "broken: step 2's report shows the compiler's message, naming the student's file")
    check(broken["step4"]["score"] == 0 and "did not return within the step's time budget" in broken["step4"]["output"],
          "broken: step 4's endless loop spends the step's time budget and scores 0")
    # entropy crashes: the test cases that call it fail, each with a fresh runner, and so do
    # those that call step 2's scaled_score (a stub here); the others pass. Which ones call
    # what is read from the tests' source.
    calling, total, kinds = cases_calling("test_step6_instability.cpp", "attn::entropy(", "attn::scaled_score(")
    expected6 = weighted(6, kinds)
    check(broken["step6"]["score"] == expected6 and "crashed: SIGSEGV" in broken["step6"]["output"],
          f"broken: step 6's crash costs only the {calling} of {total} test cases that call entropy (or step 2) "
          f"({broken['step6']['score']} points, expected {expected6})")
    step5 = broken["step5"]
    check(0 < step5["score"] < step5["max_score"] and "step 2" in step5["output"],
          "broken: step 5 loses only its tests that call step 2 (attention_weights)")
    check(f"--rng-seed {SEED}" in step5["output"], "broken: a failing step prints the seed to rerun with")
    for key in ("step7", "step9"):  # their whole-attention tests call attention_weights, hence scores
        check(0 < broken[key]["score"] < broken[key]["max_score"],
              f"broken: {key} loses only its tests that need step 2")
    expected = sum(broken[k]["score"] for k in broken)
    # Points are rounded to 0.1, so the sum of the units is compared to that precision
    # (10 + 16.9 + 10.9 + ... in binary floating point is not exactly 91.9).
    check(abs(float(rows["broken"]["total"]) - expected) < 1e-6, "broken: the gradebook total matches results.json")

    junit = ET.parse(out / "broken" / "junit.xml").getroot()
    cases = junit.findall(".//testcase")
    check(len(cases) == len(STEPS) + 2, "broken: junit.xml has one test case per unit")
    failed = sorted(k for k, t in broken.items() if t["status"] == "failed")
    check(failed == ["step11", "step2", "step4", "step5", "step6", "step7", "step9"],
          f"broken: exactly steps 2, 4, 6 and the tests that need step 2 fail (failed: {failed})")
    check(sum(1 for c in cases if c.find("failure") is not None) == len(failed),
          "broken: junit.xml has one failure per failed unit")

    # divides by d: the judge names the mistake in the report, and the class's mistakes.csv
    # counts it; step 2's points are those of its test cases passed, weighted by kind.
    divides = results["divides"]["step2"]
    report = (out / "divides" / "report.txt").read_text()
    check(divides["status"] == "failed" and 0 < divides["score"] < divides["max_score"],
          "divides: step 2 fails with partial credit")
    check("What this looks like:\n  divided by d instead of sqrt(d)." in divides["output"]
          and "This looks like: divided by d instead of sqrt(d)" in divides["output"]
          and "(./attn hint 2 1)" in divides["output"],
          "divides: results.json names the mistake (and the judge's failures say it too)")
    check("looks like: divided by d instead of sqrt(d) (./attn hint 2 1)" in report
          and "This looks like: divided by d instead of sqrt(d)" in report,
          "divides: report.txt names the mistake, in the table and in the failures")
    check(re.search(r"the cards' examples: 0 of \d+ passed", divides["output"]) is not None
          and "Failing test cases:\n  [card] the card's query and key have scaled score -0.5" in divides["output"],
          "divides: results.json gives the counts per kind and the failing cases with their kinds")
    check("FAILED [card] the card's query and key have scaled score -0.5" in report and "expected   -0.5" in report,
          "divides: report.txt has the failures in full")
    check(not any("looks like" in t["output"] for t in results["full"].values()),
          "full: no mistake is named for the answer key")
    with open(out / "mistakes.csv", newline="") as f:
        mistakes = list(csv.DictReader(f))
    check(bool(mistakes) and list(mistakes[0]) == ["step", "mistake", "name", "students", "who"],
          "mistakes.csv has the columns step, mistake, name, students, who")
    row = next((m for m in mistakes if (m["step"], m["mistake"]) == ("2", "divides_by_d")), None)
    check(row is not None and row["name"] == "divided by d instead of sqrt(d)" and "divides" in row["who"].split(";")
          and int(row["students"]) == len(row["who"].split(";")),
          f"mistakes.csv counts the divides-by-d student under step 2's divides_by_d (row: {row})")
    check(not any(n in m["who"].split(";") for m in mistakes for n in ("full", "stubs")),
          "mistakes.csv names no student whose code has no catalogued mistake")
    check([int(m["students"]) for m in mistakes] == sorted((int(m["students"]) for m in mistakes), reverse=True),
          "mistakes.csv: most common first")
    check("Mistakes in this class" in proc.stdout
          and re.search(r"^\s+1 of 4\s+step 2 divides_by_d: divided by d instead of sqrt\(d\) \(divides\)$",
                        proc.stdout, re.M) is not None,
          "grade-class's report has the section 'Mistakes in this class'")

    # One folder, no hidden tests: the same build, reconfigured; the maximum is the manifest's.
    single = work / "single"
    # Without the sandbox (which stops grading unless asked for): the same scores, and the
    # reports say how it was graded.
    shutil.rmtree(single, ignore_errors=True)
    proc = attn("grade", str(subs / "broken"), "--out", str(single), "--build-dir", str(work / "build"),
                "--seed", str(SEED), env={"ATTN_BWRAP": str(work / "no-such-bwrap")})
    check(proc.returncode == 1 and "the grading sandbox cannot be set up here" in proc.stdout
          and "--no-sandbox" in proc.stdout and not (single / "results.json").exists(),
          "grade refuses when the sandbox cannot be set up, and says what to do")
    proc = attn("grade", str(subs / "broken"), "--out", str(single), "--build-dir", str(work / "build"),
                "--seed", str(SEED), "--no-sandbox")
    check(proc.returncode == 0 and "step 2" in proc.stdout.lower(), "grade prints the table")
    units = load_results(single / "results.json")
    check(sum(t["max_score"] for t in units.values()) == sum(POINTS.values())
          and not any(k.startswith("hidden") for k in units), "grade without --hidden: no hidden units")
    check(all(units[k]["score"] == broken[k]["score"] for k in units),
          "broken: the same scores with and without the sandbox")
    check("WITHOUT the sandbox" in json.loads((single / "results.json").read_text())["output"]
          and "WITHOUT the sandbox" in (single / "report.txt").read_text(),
          "--no-sandbox: the reports say the code ran unconfined")

    # divides alone (in the sandbox): then the build's step 2 judge and runner are its own, and
    # its score is checked against the kinds of the test cases its judge passes here.
    shutil.rmtree(single, ignore_errors=True)
    proc = attn("grade", str(subs / "divides"), "--out", str(single), "--build-dir", str(work / "build"),
                "--seed", str(SEED))
    check(proc.returncode == 0 and "looks like: divided by d instead of sqrt(d)" in proc.stdout,
          "grade's table names the mistake under step 2")
    alone = load_results(single / "results.json")["step2"]
    tests = work / "build" / "tests"
    cases = judge_cases(tests / "attn_test_exercises_step2", tests / "attn_runner_exercises_step2", 2)
    expected2 = weighted(2, cases)
    unweighted = round(POINTS["step2"] * sum(ok for _, ok in cases) / len(cases), 1)
    check(alone["score"] == expected2 == divides["score"],
          f"divides: step 2 scores the weighted points of its passed test cases ({alone['score']} alone, "
          f"{divides['score']} in the class; expected {expected2} from the kinds, {unweighted} unweighted)")
    check(expected2 != unweighted, "divides: the weights matter here (weighted and unweighted points differ)")


def test_sanitize(work: Path) -> None:
    sub = work / "overflow"
    assemble(sub, "solutions", "overflow")
    out = work / "grades-sanitize"
    # Steps 1 and 4 only (--steps): the sanitized build of every judge would take minutes.
    proc = attn("grade", str(sub), "--sanitize", "--steps", "1,4", "--out", str(out),
                "--build-dir", str(work / "build-sanitize"), "--seed", str(SEED))
    check(proc.returncode == 0, "grade --sanitize exits 0")
    units = load_results(out / "results.json")
    check(sorted(units) == ["step1", "step4"], f"--steps 1,4 grades steps 1 and 4 only (graded: {sorted(units)})")
    step4 = units["step4"]
    # softmax_rows is called directly or through the file's check_softmax_rows; the fixture
    # writes past the end of non-empty matrices only, and the empty-row test's are empty.
    calling, total, kinds = cases_calling("test_step4_softmax.cpp", "attn::softmax_rows(", "check_softmax_rows(",
                                          unaffected=("an empty row of scores stays empty",))
    expected = weighted(4, kinds)
    check(step4["score"] == expected and step4["output"].startswith("memory error")
          and "AddressSanitizer" in step4["output"] and "step4_softmax.cpp" in step4["output"],
          f"overflow: step 4 fails with AddressSanitizer's report in the {calling} of {total} test "
          f"cases that call softmax_rows ({step4['score']} points, expected {expected})")
    check(all(units[k]["status"] == "passed" for k in units if k != "step4"),
          "overflow: the other step graded passes under the sanitizers")


# The hostile submissions and the base each is laid over: "solutions" when its honest
# score is full marks (the attack must change nothing), "exercises" when it is 0.
HOSTILE = {"calls_reference": "exercises", "forged_report": "exercises", "snoop": "solutions",
           "vandal": "solutions", "network": "solutions", "hog": "solutions",
           "fork_bomb": "solutions", "disk_filler": "solutions", "chatter": "exercises",
           "include_secret": "exercises", "incbin_secret": "exercises"}
SKIP = 77  # ctest's SKIP_RETURN_CODE: no sandbox here, and none required


def tree_digest(*folders: Path) -> dict[str, str]:
    digest = {}
    for folder in folders:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and not f.is_symlink():
                digest[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
    return digest


def test_hostile(work: Path) -> int:
    mark = secrets.token_hex(6)
    # The instructor's side: hidden tests, notes, an old gradebook, a classmate's work; each
    # holds a marker that must never reach a report.
    secret = work / "secrets"
    shutil.rmtree(secret, ignore_errors=True)
    (secret / "grades").mkdir(parents=True)
    (secret / "classmate").mkdir()
    shutil.copytree(FIXTURES / "hidden", secret / "hidden")
    for f in (secret / "hidden").glob("*.cpp"):
        f.write_text(f.read_text() + f"// SECRET-hidden-{mark}\n")
    (secret / "notes.txt").write_text(f"SECRET-notes-{mark} = 1;\n")
    (secret / "grades" / "gradebook.csv").write_text(f"student,total\nSECRET-gradebook-{mark},100\n")
    (secret / "classmate" / "step1_dot.cpp").write_text(
        (ROOT / "solutions" / "step1_dot.cpp").read_text() + f"// SECRET-classmate-{mark}\n")

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    heard: list[bytes] = []
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    heard.append(conn.recv(1000) or b"(connected)")
    threading.Thread(target=listen, daemon=True).start()

    values = {"@ROOT@": str(ROOT), "@SECRETS@": str(secret), "@MARK@": mark,
              "@PORT@": str(listener.getsockname()[1]),
              "@HONEST_DOT@": (FIXTURES / "hostile" / "honest_dot.inc").read_text()}
    subs = work / "hostile-class"
    for name, base in HOSTILE.items():
        folder = subs / name
        assemble(folder, base)
        for f in (FIXTURES / "hostile" / name).glob("step*.cpp"):
            text = f.read_text()
            for key, value in values.items():
                text = text.replace(key, value)
            (folder / f.name).write_text(text)
    assemble(subs / "symlink", "exercises")
    (subs / "symlink" / "step1_dot.cpp").unlink()
    (subs / "symlink" / "step1_dot.cpp").symlink_to(ROOT / "solutions" / "step1_dot.cpp")
    assemble(subs / "honest", "solutions")

    watched = [ROOT / d for d in ("course", "tests", "solutions", "exercises", "tools", "contract", "reference")]
    before = tree_digest(*watched, secret)
    kept = {f: f.read_bytes() for f in (ROOT / "tests" / "test_step1_dot.cpp", ROOT / "course" / "steps.json")}
    out = work / "hostile-grades"
    shutil.rmtree(out, ignore_errors=True)
    leftovers = [Path("/tmp") / f"attn-fill-{mark}", Path.home() / f"attn-fill-home-{mark}",
                 ROOT / f"attn-fill-{mark}", Path.cwd() / f"attn-fill-{mark}", ROOT / f"VANDALISED-{mark}",
                 secret / "grades" / f"VANDALISED-{mark}"]
    try:
        proc = attn("grade-class", str(subs), "--hidden", str(secret / "hidden"), "--out", str(out),
                    "--build-dir", str(work / "build"), "--seed", str(SEED), "--jobs", "2",
                    env={"ATTN_GRADER_SECRET": f"SECRET-environment-{mark}"})
    finally:
        stop.set()
        for f, data in kept.items():  # should the sandbox fail, leave the course as it was
            if f.read_bytes() != data:
                f.write_bytes(data)
    if proc.returncode != 0 and "the grading sandbox cannot be set up here" in proc.stdout:
        if os.environ.get("ATTN_REQUIRE_SANDBOX"):
            check(False, "the sandbox works here (ATTN_REQUIRE_SANDBOX is set)")
            return 1
        print("skipped: the grading sandbox cannot be set up on this machine (see above)")
        return SKIP
    check(proc.returncode == 0, "grade-class of the hostile submissions exits 0")

    with open(out / "gradebook.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    maximum = float(rows["(maximum)"]["total"])
    for name, base in [*HOSTILE.items(), ("symlink", "exercises"), ("honest", "solutions")]:
        honest = maximum if base == "solutions" else 0.0
        got = float(rows[name]["total"]) if name in rows else None
        check(got == honest, f"{name}: scores its honest score {honest:g} (got {got})")
    results = {name: load_results(out / name / "results.json") for name in rows if name != "(maximum)"}
    check("calls attn::ref::dot, the course's reference; the exercises must not use it"
          in results["calls_reference"]["step1"]["output"],
          "calls_reference: the report says step 1 calls the reference")
    check(results["calls_reference"]["step5"]["output"].startswith("does not compile")
          and "Every function has the meaning" not in results["calls_reference"]["step5"]["output"],
          "calls_reference: step 5 cannot include the reference's header, and nothing of it is quoted")
    check("symbolic link" in results["symlink"]["step1"]["output"], "symlink: step 1 is refused as a link")
    check("time budget" in results["chatter"]["step1"]["output"]
          and all((out / "chatter" / n).stat().st_size < 100_000 for n in ("results.json", "junit.xml", "report.txt")),
          "chatter: endless output is cut, and the reports stay small")
    for name in ("include_secret", "incbin_secret"):
        check(results[name]["step1"]["output"].startswith("does not compile"),
              f"{name}: the instructor's file is out of the compiler's reach")
    reports = [f for f in out.rglob("*") if f.is_file()]
    leaked = [str(f) for f in reports if "SECRET-" in f.read_text(errors="replace")]
    check(not leaked, f"no report holds anything of the instructor's (leaked into: {leaked})")
    after = tree_digest(*watched, secret)
    changed = sorted(set(before) ^ set(after) | {f for f in before if after.get(f) != before[f]})
    check(not changed, f"the course and the instructor's files are unchanged (changed: {changed[:5]})")
    found = [str(f) for f in leftovers if f.exists()]
    for f in found:
        f.unlink()
    check(not found, f"no file left behind by a submission (found: {found})")
    check(not heard, f"no submission reached the network (heard: {heard})")
    # The fork bomb's children name themselves after the marker (other grading tests may be
    # running runners of their own meanwhile, so a runner's name proves nothing).
    ps = subprocess.run(["ps", "-eo", "comm"], stdout=subprocess.PIPE, text=True).stdout
    check(f"bomb-{mark}"[:15] not in ps, "no process of a submission outlives grading")
    return 0


JUNIT_CASE_ATTRIBUTES = {"name", "classname", "time"}


JUNIT_SCHEMA = ROOT / "tests" / "grading" / "junit.xsd"


def schema_valid(path: Path) -> tuple[bool, str]:
    """xmllint's verdict on `path` against the JUnit schema the reporters read (junit.xsd)."""
    if shutil.which("xmllint") is None:
        return False, "xmllint is missing (sudo apt-get install libxml2-utils)"
    proc = subprocess.run(["xmllint", "--noout", "--schema", str(JUNIT_SCHEMA), str(path)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.returncode == 0, proc.stdout.strip()


def check_junit(path: Path) -> dict[str, ET.Element]:
    """The JUnit file as the common reporters (Jenkins, GitLab, the GitHub Actions test
    reporters) read it: valid against junit.xsd, and a <testsuite> (or <testsuites> of them)
    whose tests and failures count its <testcase>s. Returns the test cases by name."""
    valid, said = schema_valid(path)
    check(valid, f"{path}: valid against tests/grading/junit.xsd ({said[-500:]})")
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    check(root.tag in ("testsuite", "testsuites") and bool(suites), f"{path}: the root is a testsuite")
    cases: dict[str, ET.Element] = {}
    for suite in suites:
        mine = suite.findall("testcase")
        check({"name", "tests", "failures"} <= set(suite.attrib), f"{path}: the testsuite has name, tests, failures")
        check(suite.get("tests") == str(len(mine)), f"{path}: tests counts the test cases")
        failed = [c for c in mine if c.find("failure") is not None or c.find("error") is not None]
        check(int(suite.get("failures", "-1")) + int(suite.get("errors", "0")) == len(failed),
              f"{path}: failures (and errors) count the failed test cases")
        for case in mine:
            check(JUNIT_CASE_ATTRIBUTES <= set(case.attrib), f"{path}: {case.get('name')} has name, classname, time")
            try:
                float(case.get("time", "x"))
            except ValueError:
                check(False, f"{path}: {case.get('name')}'s time is a number")
            outcomes = [e for e in case if e.tag in ("failure", "error", "skipped")]
            check(len(outcomes) <= 1, f"{path}: {case.get('name')} has at most one outcome")
            cases[case.get("name")] = case
    return cases


POINTS_LINE = re.compile(r"^attn grade: .*: ([\d.]+) of ([\d.]+) points \(([^)]*)\)$", re.M)


def test_ctest(work: Path) -> None:
    """Grading with ctest gives what ./attn grade gives: the broken fixture submission (correct
    steps, steps that do not compile, loop forever or crash, and later steps that call them)
    is graded both ways with the same seed and hidden tests in the same grading build, and
    each unit's verdict and points, and the total, must agree; correct steps pass, broken
    ones fail."""
    # The schema check can fail: a test case without its time is refused.
    bad = work / "no-time.xml"
    bad.write_text('<testsuite name="x" tests="1" failures="0"><testcase name="a" classname="a"/></testsuite>\n')
    check(not schema_valid(bad)[0], "junit.xsd refuses a test case without a time")
    # A test case's properties before or after its outcome (ctest of CMake 3.31 writes them
    # after a <failure>), but not twice, nor two outcomes.
    props = '<properties><property name="points" value="2.5"/></properties>'
    fail = '<failure message="Failed"/>'
    for order, valid in (((props, fail), True), ((fail, props), True), ((props, fail, props), False),
                         ((fail, fail), False)):
        sample = work / "order.xml"
        sample.write_text('<testsuite name="x" tests="1" failures="1"><testcase name="a" classname="a" time="0.1">'
                          + "".join(order) + "<system-out>out</system-out></testcase></testsuite>\n")
        names = ", ".join(re.match(r"<(\w+)", part).group(1) for part in order)
        check(schema_valid(sample)[0] == valid,
              f"junit.xsd {'takes' if valid else 'refuses'} a test case holding {names}, then its output")
    subs = work / "submissions"
    assemble(subs / "broken", "solutions", "broken")
    for name in ("broken",):
        out = work / "grades-ctest" / name
        shutil.rmtree(out, ignore_errors=True)
        proc = attn("grade", str(subs / name), "--hidden", str(FIXTURES / "hidden"), "--out", str(out / "attn"),
                    "--build-dir", str(work / "build"), "--seed", str(SEED))
        check(proc.returncode == 0, f"{name}: ./attn grade exits 0")
        by_attn = load_results(out / "attn" / "results.json")
        build = out / "ctest-build"
        configure = subprocess.run(
            ["cmake", "--preset", "grade", "-S", str(ROOT), "-B", str(build), f"-DATTN_EXERCISES_DIR={subs / name}",
             f"-DATTN_HIDDEN_TESTS_DIR={FIXTURES / 'hidden'}", f"-DATTN_GRADE_BUILD_DIR={work / 'build'}",
             f"-DATTN_GRADE_SEED={SEED}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(configure.stdout[-2000:], flush=True)
        check(configure.returncode == 0, f"{name}: cmake --preset grade configures")
        junit = out / "grades.xml"
        tested = subprocess.run(["ctest", "--test-dir", str(build), "-j2", "--output-junit", str(junit)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(tested.stdout[-3000:], flush=True)
        cases = check_junit(junit)
        check_junit(build / "grades" / "junit.xml")  # the grader's own, as ./attn grade writes it
        ctest_results = load_results(build / "grades" / "results.json")
        check(abs(sum(t["score"] for t in ctest_results.values()) - sum(t["score"] for t in by_attn.values())) < 1e-6,
              f"{name}: the ctest report's total is ./attn grade's")
        for key, t in by_attn.items():
            test = f"grade.{key}" if key.startswith("step") else f"grade.hidden.step{key[len('hidden'):]}"
            case = cases.get(test)
            check(case is not None, f"{name}: the JUnit file has {test}")
            if case is None:
                continue
            passed = case.find("failure") is None and case.find("error") is None
            check(passed == (t["status"] == "passed"), f"{name}: {test} {'passes' if passed else 'fails'} as "
                                                       f"./attn grade's {key} ({t['status']})")
            m = POINTS_LINE.search(case.findtext("system-out") or "")
            check(m is not None and float(m.group(1)) == t["score"] and float(m.group(2)) == t["max_score"],
                  f"{name}: {test} says {m.group(1) if m else '?'} of {m.group(2) if m else '?'} points, "
                  f"./attn grade {t['score']:g} of {t['max_score']:g}")
            check(ctest_results.get(key, {}).get("score") == t["score"], f"{name}: the ctest report's {key} score")
        # The broken submission (above) has correct steps and broken ones.
        check(tested.returncode != 0, "broken: ctest fails")
        for key in ("step2", "step4", "step6"):
            case = cases.get(f"grade.{key}")
            check(case is not None and case.find("failure") is not None, f"broken: grade.{key} fails")
        for key in ("step1", "step3", "step8", "step12", "hidden1", "hidden3"):
            test = f"grade.{key}" if key.startswith("step") else f"grade.hidden.step{key[len('hidden'):]}"
            case = cases.get(test)
            check(case is not None and case.find("failure") is None, f"broken: {test}, a correct one, passes")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="a scratch folder (builds are kept there and reused)")
    parser.add_argument("--sanitize", action="store_true", help="the sanitizer test instead of the class test")
    parser.add_argument("--ctest", action="store_true",
                        help="grading with ctest (the grade presets) against ./attn grade, instead of the class test")
    parser.add_argument("--hostile", action="store_true",
                        help="the hostile submissions instead of the class test (exit 77: no sandbox here)")
    args = parser.parse_args()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.hostile:
        if test_hostile(work) == SKIP:
            return SKIP
    elif args.ctest:
        test_ctest(work)
    else:
        (test_sanitize if args.sanitize else test_class)(work)
    if problems:
        print(f"\n{len(problems)} check(s) failed:\n  " + "\n  ".join(problems))
        return 1
    print("\nall grader checks pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
