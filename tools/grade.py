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
import contextlib
import csv
import dataclasses
import fcntl
import functools
import json
import os
import random
import re
import shutil
import stat
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course  # noqa: E402

OUTPUT_LIMIT = 8000     # characters of one unit's output in results.json and junit.xml
DETAILS_LIMIT = 60000   # characters of report.txt's units after its table
COMPILER_LIMIT = 3000   # characters of a compiler's message in a report
STEP_FILE_LIMIT = 256 * 1024  # bytes: a larger step file is refused, not compiled
FAILURE_LIMIT = 1500    # characters of one failure message
FAILURES_SHOWN = 10     # failure messages shown per unit
ZERO_STATUSES = frozenset({course.Status.DOES_NOT_COMPILE, course.Status.REFUSED, course.Status.TIMED_OUT,
                           course.Status.CRASHED, course.Status.MEMORY_ERROR, course.Status.NO_TESTS,
                           course.Status.NOT_GRADED})
COMMAND_LINE = re.compile(r"^(: && )?(\S*attn_sandbox --compile -- )?\S*(c\+\+|g\+\+|clang\+\+|cc|ld)(-[\d.]+)?\s.*\s-o\s")  # a build command
SANITIZER_START = re.compile(r"^(==\d+==ERROR: \w+Sanitizer.*|.*: runtime error: .*)$", re.M)
# ASan reports a memory error and exits 1 (no core dump); UBSan stops at the first error.
SANITIZER_ENV = {"ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1:print_legend=0",
                 "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


def cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit - 60].rstrip() + f"\n... ({len(text) - limit + 60} more characters cut)"


def sanitizer_report(output: str) -> str:
    """The first sanitizer report in a test program's output, up to its SUMMARY line."""
    m = SANITIZER_START.search(output)
    if not m:
        return ""
    text = output[m.start():]
    summary = re.search(r"^SUMMARY: .*$", text, re.M)
    return cut(text[:summary.end()] if summary else text, 4000)


# ---------------------------------------------------------------------------- units


@dataclasses.dataclass
class Unit:
    """One graded unit: a step's shipped tests, or its hidden tests (worth hidden_points)."""
    step: course.Step
    hidden: bool = False
    result: course.StepResult | None = None
    exe: Path | None = None        # private link to the judge (the test program), once it builds
    runner: Path | None = None     # private copy of the runner holding the student's steps 1..n
    seconds: float = 0.0

    @property
    def key(self) -> str:
        return f"{'hidden' if self.hidden else 'step'}{self.step.number}"

    @property
    def number(self) -> str:
        return f"{self.step.number}.1" if self.hidden else str(self.step.number)

    @property
    def name(self) -> str:
        return f"Step {self.step.number}: {self.step.title}" + (" (hidden tests)" if self.hidden else "")

    @property
    def role(self) -> str:
        """Its program's role in the build's targets.json: "hidden" or "tests"."""
        return "hidden" if self.hidden else "tests"

    @property
    def score(self) -> float:
        return self.result.points if self.result else 0.0

    def describe(self, seed: int) -> str:
        """What the student (or, for hidden units, the instructor) reads about this unit."""
        r = self.result
        assert r is not None
        head = f"{r.status}: {r.tally()}" if r.status.counted else str(r.status)
        parts = [f"{head} ({self.score:g}/{self.step.points:g} points)"]
        if r.cases and r.status != "passed":
            parts[0] += "\n" + r.kind_summary()
        if r.detail:
            parts.append(r.detail.strip())
        if r.diagnoses:
            parts.append("What this looks like:\n" + "\n".join(f"  {l}" for l in r.diagnosis_lines()))
        # The failing test cases by name and kind first (short), then their failures in full.
        failing = r.failing_cases
        if failing:
            parts.append("Failing test cases:\n" + "\n".join(f"  [{c.kind}] {c.name}" for c in failing))
            for c in failing[:FAILURES_SHOWN]:
                parts.append(f"FAILED [{c.kind}] " + cut(f"{c.name}: " + "\n".join(c.failures).strip(), FAILURE_LIMIT))
        else:
            for f in r.failures[:FAILURES_SHOWN]:
                parts.append("FAILED " + cut(f.strip(), FAILURE_LIMIT))
        if len(r.failures) > FAILURES_SHOWN:
            parts.append(f"... and {len(r.failures) - FAILURES_SHOWN} more failing test cases")
        if r.status not in ("passed", "does not compile", "refused", "no tests", "not graded"):
            rerun = "" if self.hidden else f": rerun with ./attn step {self.step.number} --rng-seed {seed}"
            parts.append(f"Random seed {seed}{rerun}")
        return cut("\n\n".join(parts), OUTPUT_LIMIT)


@dataclasses.dataclass
class Submission:
    name: str
    exercises: Path
    out: Path
    units: list[Unit]
    notes: list[str] = dataclasses.field(default_factory=list)
    error: str = ""
    started: float = dataclasses.field(default_factory=time.monotonic)
    finished: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(u.score for u in self.units), 1)

    @property
    def max_score(self) -> float:
        return sum(u.step.points for u in self.units)

    def credit(self) -> str:
        """'core x/100, extensions y/40': extension steps ("core": false) are extra credit."""
        parts = []
        for label, core in (("core", True), ("extensions", False)):
            units = [u for u in self.units if u.step.core == core]
            if units:
                parts.append(f"{label} {round(sum(u.score for u in units), 1):g}/"
                             f"{sum(u.step.points for u in units):g}")
        return ", ".join(parts)


def hidden_files(hidden_dir: Path | None) -> dict[int, list[Path]]:
    if hidden_dir is None:
        return {}
    found: dict[int, list[Path]] = {}
    for f in sorted(hidden_dir.glob("hidden_step*_*.cpp")):
        m = re.match(r"hidden_step(\d+)_", f.name)
        if m:
            found.setdefault(int(m.group(1)), []).append(f)
    return found


def check_hidden(hidden_dir: Path, steps: list[course.Step]) -> None:
    """Stops on a hidden-tests folder that would make the maximum score ambiguous."""
    if not hidden_dir.is_dir():
        raise SystemExit(f"grade: --hidden {hidden_dir}: no such folder")
    found = hidden_files(hidden_dir)
    if not found:
        raise SystemExit(f"grade: --hidden {hidden_dir}: no hidden_step<n>_*.cpp files in it")
    numbers = {s.number: s for s in steps}
    for n in found:
        if n not in numbers:
            raise SystemExit(f"grade: {found[n][0].name}: the course has no step {n}")
        if numbers[n].hidden_points <= 0:
            raise SystemExit(f"grade: {found[n][0].name}: step {n} has no hidden_points in "
                             f"course/steps.json, so its hidden tests would be worth nothing")


def make_units(steps: list[course.Step], hidden_dir: Path | None) -> list[Unit]:
    """The graded units: every step always (the maximum never depends on what compiled),
    then the hidden tests of each step that has some."""
    hidden = hidden_files(hidden_dir)
    units = [Unit(s) for s in steps]
    units += [Unit(dataclasses.replace(s, points=s.hidden_points), hidden=True)
              for s in steps if s.number in hidden]
    return units


# ---------------------------------------------------------------------------- the build


GRADING_PRESET = "grading"  # the configure preset in CMakePresets.json


def grading_preset() -> dict:
    """The grading configure preset, as CMakePresets.json has it."""
    presets = json.loads((course.ROOT / "CMakePresets.json").read_text())["configurePresets"]
    found = [p for p in presets if p["name"] == GRADING_PRESET]
    if not found:
        raise RuntimeError(f"CMakePresets.json has no configure preset \"{GRADING_PRESET}\"; "
                           f"the grader configures its build with it")
    return found[0]


class GradingBuild:
    """One configured build of the exercises flavour whose ATTN_EXERCISES_DIR is a staging
    folder, <build>/submission. Each submission's step files are copied there in turn (only
    the step files: the rest of the tree is the instructor's), so grading a class needs no
    reconfiguring and recompiles only the students' files. A step file that does not compile
    is replaced by its untouched stub: it costs that step, and only those tests of later
    steps that call it."""

    def __init__(self, build_dir: Path, hidden_dir: Path | None, sanitize: bool, jobs: int,
                 sandbox: bool = True, only: frozenset[int] | None = None):
        self.dir = build_dir
        self.staging = build_dir / "submission"
        self.hidden_dir = hidden_dir
        self.sanitize = sanitize
        self.jobs = jobs
        self.sandbox = sandbox
        self.steps = course.load_steps()
        # --steps: the steps graded (None: all). Every step file still goes into the build,
        # since a runner links them all; only the graded steps' judges are built and run.
        self.graded_steps = [s for s in self.steps if only is None or s.number in only]

    @functools.cached_property
    def targets(self) -> course.BuildTargets:
        """The build's targets (targets.json), once it is configured."""
        return course.load_targets(self.dir)

    @property
    def sandbox_program(self) -> Path:
        sandbox = self.targets.sandbox
        if sandbox is None:
            raise RuntimeError(NO_SANDBOX + " (this build has no sandbox program: "
                               "sudo apt-get install bubblewrap libseccomp-dev)")
        return sandbox.path

    def judge(self, unit: Unit) -> course.Program | None:
        """The unit's test program; None when the build has none for it."""
        return self.targets.program("exercises", unit.step.number, unit.role)

    def runner(self, number: int) -> course.Program:
        """The runner that holds the student's steps 1..number."""
        found = self.targets.program("exercises", number, "runner")
        if found is None:
            raise RuntimeError(f"the grading build in {self.dir} has no runner for step {number}")
        return found

    def settings(self) -> list[str]:
        """The configure command's arguments after `cmake`: the "grading" preset of
        CMakePresets.json (the fixed settings) and what this grading adds to it."""
        flags = ["--preset", GRADING_PRESET,
                 f"-DATTN_EXERCISES_DIR={self.staging}",
                 f"-DATTN_SANITIZE={'address,undefined' if self.sanitize else ''}",
                 f"-DATTN_HIDDEN_TESTS_DIR={self.hidden_dir or ''}",
                 f"-DATTN_SANDBOX_COMPILE={'ON' if self.sandbox else 'OFF'}"]
        if shutil.which("ccache"):
            flags.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        return flags

    @contextlib.contextmanager
    def locked(self):
        """One grader at a time per build directory."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".grade.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def configure(self) -> None:
        stamp = self.dir / ".grade-settings"
        settings = self.settings()
        # The build needs every step file before the first student, and a step the manifest
        # gained since this build was configured (a course update) needs one too: CMake
        # regenerates the build on its first use then.
        for step in self.steps:
            if not (self.staging / step.file).exists():
                write_if_changed(self.staging / step.file, self.stub(step.number))
        # The preset's own settings go into the stamp too: a change to it reconfigures.
        settings_text = "\n".join(settings + [json.dumps(grading_preset(), sort_keys=True)])
        if (self.dir / "CMakeCache.txt").exists() and stamp.exists() \
                and stamp.read_text() == settings_text:
            return
        for step in self.steps:
            write_if_changed(self.staging / step.file, self.stub(step.number))
        cmd = ["cmake", "-S", str(course.ROOT), "-B", str(self.dir), *settings]  # -S, -B: the preset has neither
        if not (self.dir / "CMakeCache.txt").exists() and shutil.which("ninja"):
            cmd += ["-G", "Ninja"]
        proc = course.run(cmd)
        if proc.returncode != 0:
            if self.sandbox and "ATTN_SANDBOX_COMPILE needs the grading sandbox" in proc.stdout:
                raise RuntimeError(NO_SANDBOX + " (bubblewrap or libseccomp is missing: "
                                   "sudo apt-get install bubblewrap libseccomp-dev)")
            raise RuntimeError(f"configuring the grading build failed:\n{proc.stdout[-4000:]}")
        stamp.write_text(settings_text)

    def check_sandbox(self) -> None:
        """Stops grading, saying why, unless the sandbox works here (or --no-sandbox)."""
        if not self.sandbox:
            return
        built = course.build_in(self.dir, [self.targets.sandbox.target] if self.targets.sandbox else [])
        if not built.ok:
            raise RuntimeError(f"building the grader's sandbox program in {self.dir} failed:\n"
                               f"{course.compiler_errors(built.output) or built.output[-3000:]}")
        check = course.run([str(self.sandbox_program), "--check"],
                           env=SANITIZER_ENV if self.sanitize else None)
        if check.returncode != 0:
            raise RuntimeError(f"{NO_SANDBOX}:\n{check.stdout.strip()}")

    @functools.cached_property
    def ninja(self) -> bool:
        return "CMAKE_GENERATOR:INTERNAL=Ninja" in (self.dir / "CMakeCache.txt").read_text()

    def build_all(self) -> course.BuildResult:
        """Builds everything that compiles (keep going past errors): every judge and runner,
        or with --steps those of the graded steps."""
        keep_going = ["--", "-k", "0"] if self.ninja else ["--", "-k"]
        targets: list[str] = []
        if len(self.graded_steps) < len(self.steps):
            targets = ["--target", *([self.targets.sandbox.target] if self.targets.sandbox else [])]
            for unit in make_units(self.graded_steps, self.hidden_dir):
                judge = self.judge(unit)
                targets += ([judge.target] if judge else []) + [self.runner(unit.step.number).target]
        proc = course.run(["cmake", "--build", str(self.dir), "-j", str(self.jobs), *targets, *keep_going])
        return course.BuildResult(proc.returncode == 0, proc.stdout)

    def failures(self, output: str, sub: Submission, known: dict[int, str]) -> dict[int, str] | None:
        """The step files to blame for a failed Ninja build, with what to tell the student:
        a step object that does not compile, or a runner that does not link (its undefined
        references name the step file). None when a failure is not the student's."""
        blamed: dict[int, str] = {}
        blocks = re.split(r"^FAILED: ", output, flags=re.M)[1:]
        for block in blocks:
            target, _, rest = block.partition("\n")
            text = re.split(r"^(\[\d+/\d+\] |ninja: build stopped)", rest, flags=re.M)[0]
            compiled = self.object_step(target)
            linked = self.runner_step(target)
            if compiled is not None:
                blamed.setdefault(compiled, self.compiler_message(text, sub))
            elif linked is not None:
                named = {n: m for n, m in course.link_errors(text, self.steps, self.targets).items()
                         if n not in known}
                if not named and linked not in known:
                    named = {linked: self.compiler_message(text, sub)}
                for n, message in named.items():
                    blamed.setdefault(n, message)
            else:
                return None
        return blamed

    def object_step(self, failed: str) -> int | None:
        """The step whose file Ninja's failed edge compiles ("<target>.dir/<file>.o"), if any."""
        for m in course.OBJECT_DIR.finditer(failed):
            n = self.targets.step_of(m.group(1))
            if n is not None and self.targets.object("exercises", n) == m.group(1):
                return n
        return None

    def runner_step(self, failed: str) -> int | None:
        """The step whose runner Ninja's failed edge links (the edge names the program), if any."""
        names = {Path(output).name for output in failed.split()}
        return next((s.number for s in self.steps if self.runner(s.number).path.name in names), None)

    def step_file(self, number: int) -> str:
        return next(s.file for s in self.steps if s.number == number)

    def find_broken_steps(self, sub: Submission, broken: dict[int, str]) -> None:
        """The slow path (any generator, or a failure the build's output does not pin on a
        step): each step's object, then each runner, target by target."""
        for step in self.steps:
            own = course.build_in(self.dir, [self.targets.object("exercises", step.number)])
            if not own.ok and step.number not in broken:
                broken[step.number] = self.compiler_message(own.output, sub)
                write_if_changed(self.staging / step.file, self.stub(step.number))
        for step in self.steps:
            runner = course.build_in(self.dir, [self.runner(step.number).target])
            if runner.ok:
                continue
            named = {n: m for n, m in course.link_errors(runner.output, self.steps, self.targets).items()
                     if n not in broken}
            if not named and step.number not in broken:
                named = {step.number: self.compiler_message(runner.output, sub)}
            for n, message in named.items():
                broken[n] = message
                write_if_changed(self.staging / self.step_file(n), self.stub(n))
        self.build_all()

    @functools.cache
    def stub(self, step_number: int) -> bytes:
        """The step's stub as shipped (from git when the instructor's exercises/ was edited)."""
        step = course.find_step(self.steps, str(step_number))
        shipped = course.shipped_stub(step)
        return shipped.encode() if shipped else (course.ROOT / step.exercise).read_bytes()

    def compiler_message(self, output: str, sub: Submission) -> str:
        """The compiler's first error, without the command line, naming the student's file."""
        output = "\n".join(l for l in output.splitlines() if not COMMAND_LINE.match(l))
        text = course.compiler_errors(output, limit=40).replace(str(self.staging), str(sub.exercises))
        return cut(text, COMPILER_LIMIT)

    def compile(self, sub: Submission, bin_dir: Path) -> None:
        """Builds the submission's units; sets each unit's result (when it cannot run) or its
        private judge and runner (bin_dir), which later builds cannot overwrite."""
        refused: dict[int, str] = {}
        for step in self.steps:
            data, why = read_step_file(sub.exercises, step.file)
            if data is None:
                data = self.stub(step.number)
                if why:
                    refused[step.number] = why
                else:
                    sub.notes.append(f"{step.file} is missing from the submission: graded the stub")
            write_if_changed(self.staging / step.file, data)
        broken: dict[int, str] = dict(refused)
        built = self.build_all()
        # One build tells which step files fail to compile, or to link into the runner (a
        # call into attn::ref, say); each is replaced by its stub and the build runs again.
        for _ in range(len(self.steps)):
            if built.ok or not self.ninja:
                break
            blamed = self.failures(built.output, sub, broken)
            if not blamed:
                break
            for n, message in blamed.items():
                broken.setdefault(n, message)
                write_if_changed(self.staging / self.step_file(n), self.stub(n))
            built = self.build_all()
        if not built.ok:
            self.find_broken_steps(sub, broken)
        if broken:
            names = ", ".join(str(n) for n in sorted(broken))
            sub.notes.append(f"step(s) {names} do not compile or were refused: later steps were tested "
                             f"with their stubs, so only the tests that call them fail")
        for unit in sub.units:
            n = unit.step.number
            if n in broken:
                status = "refused" if n in refused else "does not compile"
                unit.result = course.StepResult(unit.step, status, detail=broken[n])
                continue
            judge = self.judge(unit)
            if judge is None:
                unit.result = course.StepResult(unit.step, "no tests",
                                                detail=f"the course has no tests for step {n} yet "
                                                       f"({unit.step.tests_file})")
                continue
            runner = self.runner(n)
            if not built.ok:  # only then does each unit need a look of its own
                mine = course.build_in(self.dir, [judge.target, runner.target])
                if not mine.ok:
                    unit.result = course.StepResult(unit.step, "does not compile",
                                                    detail=self.compiler_message(mine.output, sub))
                    continue
            unit.exe = bin_dir / judge.path.name
            unit.runner = bin_dir / runner.path.name
            link_or_copy(judge.path, unit.exe)
            link_or_copy(runner.path, unit.runner)


NO_SANDBOX = ("the grading sandbox cannot be set up here, so grading stops: student code would run "
              "with the grader's rights. Grade with --no-sandbox to run it unconfined anyway (every "
              "report then says so)")
NO_SANDBOX_NOTE = ("graded WITHOUT the sandbox (--no-sandbox): the student's code ran with the "
                   "grader's rights, so a hostile submission could have read or changed files")


def read_step_file(folder: Path, name: str) -> tuple[bytes | None, str]:
    """A submission's step file, read without following links: (its bytes, ""), or
    (None, why it is refused), or (None, "") when it is missing."""
    path = folder / name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, ""
    except OSError as e:
        if os.path.islink(path):
            return None, f"{name} is a symbolic link; refused (a step file must be a plain file)"
        return None, f"{name} cannot be read ({e.strerror}); refused"
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if stat.S_ISDIR(st.st_mode):
            return None, f"{name} is a folder; refused (a step file must be a plain file)"
        if not stat.S_ISREG(st.st_mode):
            return None, f"{name} is not a plain file (a device, pipe or socket); refused"
        data = f.read(STEP_FILE_LIMIT + 1)
    if len(data) > STEP_FILE_LIMIT:
        return None, (f"{name} is larger than {STEP_FILE_LIMIT // 1024} KiB; refused (a step file "
                      f"is a page or two of C++)")
    return data, ""


def write_if_changed(path: Path, data: bytes) -> None:
    """Writes only new content: an unchanged file keeps its object, a changed one gets a
    fresh timestamp (newer than any object built from an earlier student's file)."""
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def link_or_copy(src: Path, dst: Path) -> None:
    # The linker writes a new file for the next student, so a hard link stays this one's.
    dst.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def run_unit(unit: Unit, seed: int, staging: Path, exercises: Path, build: GradingBuild) -> None:
    """Runs one unit's judge, whose runner (inside the sandbox when grading with it) holds
    the student's code; staging/exercises: the paths to show the student."""
    started = time.monotonic()
    assert unit.exe is not None and unit.runner is not None
    env = {"ATTN_RUNNER": str(unit.runner), "ATTN_TIME_BUDGET": f"{unit.step.timeout:g}"}
    if build.sanitize:
        env.update(SANITIZER_ENV)
    if build.sandbox:
        env["ATTN_SANDBOX"] = str(build.sandbox_program)
        if build.sanitize:
            env["ATTN_SANDBOX_MEMORY_MIB"] = "0"  # AddressSanitizer reserves terabytes
    r = course.run_step_tests(unit.exe, unit.step, ["--rng-seed", str(seed)], env=env)
    report = sanitizer_report(r.output + "\n" + "\n".join(r.failures))
    notes = []
    if report:
        notes.append("the sanitizer stopped the student's code:\n" + report)
        if r.status not in ("timed out", "crashed"):
            r.status = course.Status.MEMORY_ERROR
    crashes = sum("the student's code crashed" in f or "ended the runner" in f for f in r.failures)
    if crashes:
        notes.append(f"the student's code crashed or exited in {crashes} test case(s); each cost "
                     f"only its test case (a fresh runner took over)")
    if any("did not return within the step's time budget" in f for f in r.failures):
        notes.append(f"the student's code did not return within the step's time budget of "
                     f"{unit.step.timeout:g} s; the calls after it were not run")
    # Tests that call an earlier step which did not compile ran with its stub.
    others = sorted({int(k) for f in r.failures for k in re.findall(r"not implemented: step (\d+) ", f)}
                    - {unit.step.number})
    if others:
        names = ", ".join(str(k) for k in others)
        notes.append(f"some tests call step {names}, which does not compile (or is not written) "
                     f"in this submission: they fail with its stub")
    r.detail = "\n".join(notes + ([r.detail] if r.detail else [])).strip()
    for private, shown in ((str(unit.exe), unit.exe.name), (str(unit.runner), unit.runner.name),
                           (str(staging), str(exercises))):
        r.replace_text(private, shown)
    unit.result = r
    unit.seconds = time.monotonic() - started


# ---------------------------------------------------------------------------- reports


STATUS_WIDTH = 36  # "failing (nnn of nnn test cases pass)"


def table(sub: Submission, seed: int) -> str:
    width = max(len(u.name) for u in sub.units)
    lines = [f"Grading {sub.name} ({sub.exercises}), random seed {seed}", ""]
    lines.append(f"  {'unit':<{width}}  {'status':<{STATUS_WIDTH}} points")
    for u in sub.units:
        r = u.result
        status = str(r.status) if r else str(course.Status.NOT_GRADED)
        if r and r.status == course.Status.FAILING:
            status = f"failing ({r.tally()})"
        lines.append(f"  {u.name:<{width}}  {status:<{STATUS_WIDTH}} {u.score:g}/{u.step.points:g}")
        if r and r.status in ("failing", "memory error") and r.cases:
            lines += textwrap.wrap(r.kind_summary(), 100, initial_indent="      ", subsequent_indent="        ")
        if r and r.diagnoses:
            lines.append(f"      {r.diagnoses[0].short}")
    lines.append(f"  {'total':<{width}}  {'':<{STATUS_WIDTH}} {sub.score:g}/{sub.max_score:g} ({sub.credit()})")
    for note in ([sub.error] if sub.error else []) + sub.notes:
        lines.append(f"  note: {note}")
    details = [u for u in sub.units if u.result and u.result.status in ZERO_STATUSES and u.result.detail]
    for u in details:
        lines += ["", f"{u.name}: {u.result.status}"]
        lines += [f"    {l}" for l in u.result.detail.splitlines()[:20]]
    return "\n".join(lines)


def results_json(sub: Submission, seed: int) -> dict:
    summary = [f"Random seed {seed}. Score {sub.score:g}/{sub.max_score:g} ({sub.credit()})."]
    summary += ([sub.error] if sub.error else []) + sub.notes
    return {
        "score": sub.score,
        "execution_time": round(sub.finished - sub.started),
        "output": "\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{"name": u.name,
                   "number": u.number,
                   "score": u.score,
                   "max_score": u.step.points,
                   "status": "passed" if u.result and u.result.status == "passed" else "failed",
                   "output": u.describe(seed),
                   "visibility": "after_due_date" if u.hidden else "visible"}
                  for u in sub.units],
    }


def junit_xml(sub: Submission, seed: int) -> ET.ElementTree:
    failures = sum(1 for u in sub.units if u.result is None or u.result.status != "passed")
    suites = ET.Element("testsuites")
    suite = ET.SubElement(suites, "testsuite", name=f"attn grade {sub.name}", tests=str(len(sub.units)),
                          failures=str(failures), errors="0",
                          time=f"{sub.finished - sub.started:.1f}")
    props = ET.SubElement(suite, "properties")
    for name, value in (("seed", seed), ("score", sub.score), ("max_score", sub.max_score)):
        ET.SubElement(props, "property", name=name, value=f"{value:g}" if isinstance(value, float) else str(value))
    for u in sub.units:
        case = ET.SubElement(suite, "testcase", classname=f"attn.{u.key}", name=u.name, time=f"{u.seconds:.2f}")
        if u.hidden:
            ET.SubElement(ET.SubElement(case, "properties"), "property", name="visibility", value="after_due_date")
        text = u.describe(seed)
        if u.result is None or u.result.status != "passed":
            status = u.result.status if u.result else "not graded"
            fail = ET.SubElement(case, "failure", type=status,
                                 message=f"{status}: {u.score:g}/{u.step.points:g} points")
            fail.text = text
        else:
            ET.SubElement(case, "system-out").text = text
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_reports(sub: Submission, seed: int) -> None:
    sub.out.mkdir(parents=True, exist_ok=True)
    (sub.out / "results.json").write_text(json.dumps(results_json(sub, seed), indent=2) + "\n")
    junit_xml(sub, seed).write(sub.out / "junit.xml", encoding="utf-8", xml_declaration=True)
    (sub.out / "report.txt").write_text(table(sub, seed) + "\n" + unit_details(sub, seed))


def unit_details(sub: Submission, seed: int) -> str:
    """report.txt after the table: each unit that did not pass, as results.json describes it
    (the counts per kind, what the failures look like, the failures)."""
    text = ""
    for u in sub.units:
        if u.result is not None and u.result.status != "passed":
            body = "\n".join(f"    {l}" if l else "" for l in u.describe(seed).splitlines())
            text += f"\n{u.name}\n{body}\n"
    return cut(text, DETAILS_LIMIT)


def class_mistakes(subs: list[Submission]) -> list[tuple[int, str, str, list[str]]]:
    """(step, mistake id, name, the students whose submission got it) for every mistake the
    judges diagnosed, most common first. A "one of" diagnosis counts for each of its
    candidates; a student counts once per mistake, whatever the number of units."""
    found: dict[tuple[int, str], tuple[str, list[str]]] = {}
    for sub in subs:
        for u in sub.units:
            for d in u.result.diagnoses if u.result else []:
                for m in d.one_of:
                    name, who = found.setdefault((m.step, m.id), (m.name, []))
                    if sub.name not in who:
                        who.append(sub.name)
    rows = [(step, mid, name, who) for (step, mid), (name, who) in found.items()]
    return sorted(rows, key=lambda row: (-len(row[3]), row[0], row[1]))


def write_mistakes(path: Path, subs: list[Submission]) -> list[tuple[int, str, str, list[str]]]:
    rows = class_mistakes(subs)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "mistake", "name", "students", "who"])
        for step, mid, name, who in rows:
            w.writerow([step, mid, name, len(who), ";".join(who)])
    return rows


def mistakes_report(rows: list[tuple[int, str, str, list[str]]], students: int) -> str:
    lines = ["Mistakes in this class (course/mistakes/; most common first):"]
    if not rows:
        lines.append("  none of the catalogued mistakes was recognised")
    for step, mid, name, who in rows:
        lines.append(f"  {len(who):>3} of {students}  step {step} {mid}: {name} ({', '.join(who)})")
    return "\n".join(lines)


def write_gradebook(path: Path, subs: list[Submission]) -> None:
    keys = [u.key for u in subs[0].units] if subs else []
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", *keys, "total", "note"])
        w.writerow(["(maximum)", *(f"{u.step.points:g}" for u in subs[0].units),
                    f"{subs[0].max_score:g}", ""] if subs else [])
        for sub in subs:
            scores = {u.key: f"{u.score:g}" for u in sub.units}
            w.writerow([sub.name, *(scores.get(k, "0") for k in keys), f"{sub.score:g}", sub.error])


# ---------------------------------------------------------------------------- grading


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
            sub = Submission(name, exercises.absolute(), out, make_units(build.graded_steps, build.hidden_dir))
            if not build.sandbox:
                sub.notes.append(NO_SANDBOX_NOTE)
            subs.append(sub)
            bin_dir = Path(tmp) / str(i)
            try:
                if exercises.is_symlink() or not exercises.is_dir():
                    raise RuntimeError(f"{exercises} is not a folder (a symbolic link is refused)")
                build.compile(sub, bin_dir)
                futures = [pool.submit(run_unit, u, seed, build.staging, sub.exercises, build)
                           for u in sub.units if u.exe]
            except Exception as e:  # a submission the grader cannot handle costs only itself
                sub.error = f"grading failed: {e}"
                futures = []
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="grade.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    register(parser.add_subparsers(dest="command", metavar="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except course.ManifestError as e:
        raise SystemExit(f"grade: {e}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
