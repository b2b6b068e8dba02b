"""The graded units of the grader (tools/grade.py): a step's shipped tests or its hidden
tests, one judge process each, what a submission is, and how one unit's judge is run and
its result read."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import course

OUTPUT_LIMIT = 8000     # characters of one unit's output in results.json and junit.xml
FAILURE_LIMIT = 1500    # characters of one failure message
FAILURES_SHOWN = 10     # failure messages shown per unit
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
    return [unit_of(s) for s in steps] + [unit_of(s, hidden=True) for s in steps if s.number in hidden]


def unit_of(step: course.Step, hidden: bool = False) -> Unit:
    """Step `step`'s unit: its shipped tests, worth its points, or its hidden tests, worth
    its hidden_points."""
    return Unit(dataclasses.replace(step, points=step.hidden_points), hidden=True) if hidden else Unit(step)


@dataclasses.dataclass(frozen=True)
class Judging:
    """How a unit's judge runs: under the sanitizers or not, and the sandbox program the
    runner goes through (None: --no-sandbox, unconfined)."""
    sanitize: bool
    sandbox: Path | None


def run_unit(unit: Unit, seed: int, judging: Judging, staging: Path, exercises: Path) -> None:
    """Runs one unit's judge, whose runner (inside the sandbox when grading with it) holds
    the student's code; staging/exercises: the paths to show the student."""
    started = time.monotonic()
    assert unit.exe is not None and unit.runner is not None
    env = {"ATTN_RUNNER": str(unit.runner), "ATTN_TIME_BUDGET": f"{unit.step.timeout:g}"}
    if judging.sanitize:
        env.update(SANITIZER_ENV)
    if judging.sandbox is not None:
        env["ATTN_SANDBOX"] = str(judging.sandbox)
        if judging.sanitize:
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
    others = sorted(set().union(*map(course.stubbed_steps, r.failures)) - {unit.step.number})
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
