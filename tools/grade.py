#!/usr/bin/env python3
"""The instructor's grader: grades a student's exercises/ folder, or a whole class of them,
against the course manifest (course/steps.json: points, timeout and title of each step).

  ./attn grade <exercises-dir> [--hidden DIR] [--out DIR] [--sanitize] [--seed N] [--no-sandbox]
  ./attn grade-class <submissions-root> [--jobs N] [--hidden DIR] [--out DIR] [--sanitize] [--no-sandbox]

Each step's tests (and its hidden tests) are one graded unit: its own judge process, its own
time budget. The student's code never runs in the judge: it is compiled inside the sandbox
and runs in a runner process inside the sandbox (tests/support/sandbox.cpp), one per unit,
replaced after a crash. Reports: a console table, report.txt, junit.xml and Gradescope's
results.json per submission, and gradebook.csv and mistakes.csv (the catalogued mistakes the
judges recognised, with who made them) for a class. Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course  # noqa: E402

from grading import session
from grading.build import GradingBuild
from grading.reports import mistakes_report, table, write_gradebook, write_mistakes, write_reports
from grading.units import Submission, check_hidden, run_unit


def grade(submissions: list[tuple[str, Path, Path]], build: GradingBuild, seed: int,
          jobs: int, echo=print) -> list[Submission]:
    """Grades (name, exercises folder, report folder) in turn: builds one submission while
    the test programs of earlier ones run, at most `jobs` at a time. One submission's failure
    never stops the rest; every unit of every submission is reported."""
    subs: list[Submission] = []
    pending: list[tuple[Submission, list[concurrent.futures.Future], Path]] = []
    with build.locked(), tempfile.TemporaryDirectory(prefix="attn-grade-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        build.configure()
        build.check_sandbox()
        for i, (name, exercises, out) in enumerate(submissions):
            bin_dir = Path(tmp) / str(i)
            sub = build.submission(name, exercises, out, bin_dir)
            subs.append(sub)
            futures = [] if sub.error else [
                pool.submit(run_unit, u, seed, build.judging, build.staging, sub.exercises)
                for u in sub.units if u.exe]
            pending.append((sub, futures, bin_dir))
            echo(f"grade: built {name}; its tests are running")
        for sub, futures, bin_dir in pending:
            for fut in futures:
                if fut.exception() is not None and not sub.error:
                    sub.error = f"grading failed: {fut.exception()}"
            for u in sub.units:
                if u.result is None:
                    u.result = course.StepResult(u.step, "not graded", detail=sub.error)
            sub.finished = time.monotonic()
            write_reports(sub, seed)
            shutil.rmtree(bin_dir, ignore_errors=True)
            echo(f"grade: {sub.name}: {sub.score:g}/{sub.max_score:g} -> {sub.out}")
    return subs


def student_name(folder: Path) -> str:
    folder = folder.resolve()
    return folder.parent.name if folder.name == "exercises" else folder.name


def exercises_of(folder: Path) -> Path:
    """A submission is an exercises folder, a folder (a clone) that holds one, or an upload
    whose step files sit deeper down (a zipped folder)."""
    if (folder / "exercises").is_dir() and not (folder / "exercises").is_symlink():
        return folder / "exercises"
    steps = course.load_steps()
    if not any((folder / s.file).is_file() for s in steps):
        for s in steps:
            found = sorted(folder.rglob(s.file))
            if found:
                return found[0].parent
    return folder


def default_build_dir(sanitize: bool) -> Path:
    return course.ROOT / "build" / ("grade-sanitize" if sanitize else "grade")


def make_build(args: argparse.Namespace) -> GradingBuild:
    steps = course.load_steps()
    hidden = Path(args.hidden).resolve() if args.hidden else None
    if hidden:
        check_hidden(hidden, steps)
    build_dir = Path(args.build_dir).resolve() if args.build_dir else default_build_dir(args.sanitize)
    only = parse_steps(args.steps, steps) if args.steps else None
    return GradingBuild(build_dir, hidden, args.sanitize, os.cpu_count() or 2, sandbox=not args.no_sandbox,
                        only=only)


def parse_steps(text: str, steps: list[course.Step]) -> frozenset[int]:
    """--steps 4 or 4,7-9: the step numbers, each one of the manifest's."""
    known = [s.number for s in steps]
    chosen: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise SystemExit(f"grade: --steps {text}: '{part}' is not a step number or a range such as 7-9")
        if low > high or low not in known or high not in known:
            raise SystemExit(f"grade: --steps {text}: '{part}' names no step of the course; "
                             f"expected numbers from {known[0]} to {known[-1]}")
        chosen.update(range(low, high + 1))
    return frozenset(chosen)


def cmd_grade(args: argparse.Namespace) -> int:
    folder = Path(args.exercises)
    if not folder.is_dir():
        raise SystemExit(f"grade: {folder}: no such folder")
    exercises = exercises_of(folder)
    name = args.name or student_name(exercises)
    out = Path(args.out) if args.out else Path("grades") / name
    build = make_build(args)
    seed = args.seed if args.seed is not None else random.randrange(1, 2**31)
    started = time.monotonic()
    try:
        [sub] = grade([(name, exercises, out)], build, seed, jobs=2, echo=lambda m: None)
    except RuntimeError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 1
    print(table(sub, seed))
    print(f"\nreports: {out}/results.json, junit.xml, report.txt ({time.monotonic() - started:.0f} s)")
    return 0


def cmd_grade_class(args: argparse.Namespace) -> int:
    root = Path(args.submissions)
    if not root.is_dir():
        raise SystemExit(f"grade-class: {root}: no such folder")
    folders = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not folders:
        raise SystemExit(f"grade-class: {root} has no submission folders")
    out = Path(args.out) if args.out else Path("grades")
    build = make_build(args)
    seed = args.seed if args.seed is not None else random.randrange(1, 2**31)
    started = time.monotonic()
    print(f"grade-class: {len(folders)} submissions, random seed {seed}, {args.jobs} running at once")
    try:
        subs = grade([(d.name, exercises_of(d), out / d.name) for d in folders], build, seed,
                     args.jobs, echo=lambda m: print(m, flush=True))
    except RuntimeError as e:
        print(f"grade-class: {e}", file=sys.stderr)
        return 1
    write_gradebook(out / "gradebook.csv", subs)
    rows = write_mistakes(out / "mistakes.csv", subs)
    print("\n" + mistakes_report(rows, len(subs)))
    print(f"\ngradebook: {out / 'gradebook.csv'}, mistakes: {out / 'mistakes.csv'} "
          f"({time.monotonic() - started:.0f} s)")
    return 0


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hidden", metavar="DIR",
                   help="a folder of hidden tests, hidden_step<n>_*.cpp (keep it outside the students' "
                        "tree); worth each step's hidden_points, shown after the deadline only")
    p.add_argument("--sanitize", action="store_true",
                   help="build with AddressSanitizer + UndefinedBehaviorSanitizer: a memory error "
                        "fails its unit and the report shows the sanitizer's message")
    p.add_argument("--seed", type=int, help="seed for the randomised tests (default: a fresh one, printed)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="grade even where the sandbox cannot be set up (no bubblewrap or user "
                        "namespaces): student code then runs with your rights, and every report says so")
    p.add_argument("--build-dir", metavar="DIR",
                   help="the grading build (default: build/grade or build/grade-sanitize; reused)")
    p.add_argument("--steps", metavar="LIST",
                   help="grade only these steps, e.g. 4 or 4,7-9 (a regrade of one step, say): the "
                        "reports and the gradebook hold only them, and their maximum is theirs")


def register(sub: argparse._SubParsersAction) -> None:
    """Adds the grade and grade-class commands to a command-line parser (tools/attn.py)."""
    p = sub.add_parser("grade", help="grade one student's exercises folder (instructors)",
                       description="Grade one exercises folder (or a clone holding exercises/) "
                                   "against course/steps.json. Writes results.json (Gradescope), "
                                   "junit.xml and report.txt.")
    p.add_argument("exercises", help="the student's exercises/ folder, anywhere on disk")
    p.add_argument("--out", metavar="DIR", help="where the reports go (default: grades/<student>)")
    p.add_argument("--name", help="the student's name in the reports (default: the folder's name)")
    add_common(p)
    p.set_defaults(func=cmd_grade)
    p = sub.add_parser("grade-class", help="grade every submission under a folder into a gradebook (instructors)",
                       description="Grade every folder under SUBMISSIONS (each an exercises folder "
                                   "or a clone holding exercises/). Writes gradebook.csv (one row per "
                                   "student, one column per step, and the total), mistakes.csv (each "
                                   "catalogued mistake the tests recognised: how many students and "
                                   "who) and each student's reports in <out>/<student>/.")
    p.add_argument("submissions", help="a folder with one subfolder per student")
    p.add_argument("--jobs", type=int, default=2, metavar="N",
                   help="test programs running at once (default: 2); builds use every core")
    p.add_argument("--out", metavar="DIR", help="where the gradebook and reports go (default: grades)")
    add_common(p)
    p.set_defaults(func=cmd_grade_class)


# ---------------------------------------------------------------------------- ctest grading
# The same grading, one unit per ctest test (the `grade` presets; cmake/AttnGradeTests.cmake
# registers the tests): prepare, then each unit, then the report (grading/session.py).


def cmd_ctest_prepare(args: argparse.Namespace) -> int:
    folder = Path(args.exercises)
    if not folder.is_dir():
        raise SystemExit(f"grade: {folder}: no such folder; expected the submission's exercises folder "
                         f"(ATTN_EXERCISES_DIR)")
    exercises = exercises_of(folder)
    seed = args.seed if args.seed is not None else random.randrange(1, 2**31)
    try:
        sub = session.prepare(make_build(args), args.name or student_name(exercises), exercises,
                              Path(args.state), seed)
    except RuntimeError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 1
    print(f"grade: {sub.name} ({exercises}) compiled, random seed {seed}")
    for note in ([sub.error] if sub.error else []) + sub.notes:
        print(f"  note: {note}")
    return 0


def cmd_ctest_unit(args: argparse.Namespace) -> int:
    try:
        u = session.unit(Path(args.state), args.unit)
    except RuntimeError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 1
    seed = session.load_state(Path(args.state))["seed"]
    print(u.describe(seed))
    # The verdict and the points, in the output (what ctest's JUnit report keeps) and as
    # CTest measurements (what CDash shows).
    share = u.result.passed / u.result.total if u.result and u.result.total else 0.0  # test cases passed
    print(f"\nattn grade: {u.name}: {u.score:g} of {u.step.points:g} points ({u.result.status})")
    print(f'<DartMeasurement name="points" type="numeric/double">{u.score:g}</DartMeasurement>')
    print(f'<DartMeasurement name="max_points" type="numeric/double">{u.step.points:g}</DartMeasurement>')
    print(f'<DartMeasurement name="passed_share" type="numeric/double">{share:.4f}</DartMeasurement>')
    return 0 if u.result and u.result.status == course.Status.PASSED else 1


def cmd_ctest_report(args: argparse.Namespace) -> int:
    try:
        sub = session.report(Path(args.state), Path(args.out))
    except RuntimeError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 1
    print(table(sub, session.load_state(Path(args.state))["seed"]))
    print(f"\nreports: {sub.out}/results.json, junit.xml, report.txt")
    print(f'<DartMeasurement name="total" type="numeric/double">{sub.score:g}</DartMeasurement>')
    return 0


def register_ctest(sub: argparse._SubParsersAction) -> None:
    """The commands ctest grading runs (not for typing: cmake/AttnGradeTests.cmake calls them)."""
    p = sub.add_parser("ctest-prepare", help="ctest grading: compile a submission, store what each unit needs")
    p.add_argument("exercises", help="the submission's exercises folder")
    p.add_argument("--state", required=True, metavar="DIR", help="where the units' state goes")
    p.add_argument("--name", help="the student's name in the reports (default: the folder's name)")
    add_common(p)
    p.set_defaults(func=cmd_ctest_prepare)
    p = sub.add_parser("ctest-unit", help="ctest grading: run one prepared unit (step<n> or hidden<n>)")
    p.add_argument("unit", help="step<n> or hidden<n>")
    p.add_argument("--state", required=True, metavar="DIR")
    p.set_defaults(func=cmd_ctest_unit)
    p = sub.add_parser("ctest-report", help="ctest grading: the reports from the units run")
    p.add_argument("--state", required=True, metavar="DIR")
    p.add_argument("--out", required=True, metavar="DIR", help="where results.json, junit.xml and report.txt go")
    p.set_defaults(func=cmd_ctest_report)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="grade.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)
    register(commands)
    register_ctest(commands)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except course.ManifestError as e:
        raise SystemExit(f"grade: {e}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
