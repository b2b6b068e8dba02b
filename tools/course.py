"""The course's shared machinery: the manifest, building a step, running its tests and
classifying the result. Used by the student CLI (tools/attn.py); no third-party modules."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = ROOT / "course" / "steps.json"


@dataclass
class Step:
    number: int
    slug: str
    title: str
    file: str
    functions: list[str]
    points: float
    timeout: float
    core: bool
    hidden_points: float = 0.0  # what the step's hidden tests are worth, when graded with them

    @property
    def exercise(self) -> str:
        return f"exercises/{self.file}"

    @property
    def docs_page(self) -> str:
        return f"docs/step{self.number}_{self.slug}.md"

    @property
    def hints_file(self) -> Path:
        return ROOT / "course" / "hints" / f"step{self.number}.md"


def load_steps() -> list[Step]:
    data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return [Step(s["number"], s["slug"], s["title"], s["file"], s["functions"],
                 float(s["points"]), float(s["timeout"]), bool(s.get("core", True)),
                 float(s.get("hidden_points", 0)))
            for s in data["steps"]]


def find_step(steps: list[Step], text: str) -> Step:
    """The step numbered `text`; ValueError with a helpful message otherwise."""
    for s in steps:
        if str(s.number) == str(text).strip():
            return s
    valid = ", ".join(str(s.number) for s in steps)
    raise ValueError(f"unknown step '{text}'; expected one of {valid}")


def hints(step: Step) -> list[str]:
    """The step's hints in order, from a nudge to nearly the answer."""
    if not step.hints_file.exists():
        return []
    text = step.hints_file.read_text(encoding="utf-8")
    parts = re.split(r"^## Hint[^\n]*\n", text, flags=re.M)
    return [p.strip() for p in parts[1:] if p.strip()]


# ---------------------------------------------------------------------------- building


@dataclass
class BuildResult:
    ok: bool
    output: str


def run(cmd: list[str], cwd: Path = ROOT, timeout: float | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)


def configure(preset: str, extra: list[str] | None = None) -> BuildResult:
    """Configures build/<preset> once; later builds re-run CMake only when needed."""
    build_dir = ROOT / "build" / preset
    if (build_dir / "CMakeCache.txt").exists() and not extra:
        return BuildResult(True, "")
    proc = run(["cmake", "--preset", preset, *(extra or [])])
    return BuildResult(proc.returncode == 0, proc.stdout)


def build(preset: str, targets: list[str], jobs: int | None = None) -> BuildResult:
    return build_in(ROOT / "build" / preset, targets, jobs)


def build_in(build_dir: Path, targets: list[str], jobs: int | None = None) -> BuildResult:
    """Builds `targets` in any configured build directory (the grader's are not presets)."""
    cmd = ["cmake", "--build", str(build_dir), "--target", *targets]
    if jobs:
        cmd += ["-j", str(jobs)]
    proc = run(cmd)
    return BuildResult(proc.returncode == 0, proc.stdout)


UNDEFINED = re.compile(r"(?:undefined reference to|undefined symbol:?) [`'\"]?([^'`\"\n]+)")
STEP_OBJECT = re.compile(r"attn_\w+_step(\d+)\.dir/")


def link_errors(output: str, steps: list[Step]) -> dict[int, str]:
    """The linker's undefined references, in plain words, for each step file that has some
    (GNU ld names the object before the reference, lld after it). Step files link against
    the contract alone, so a call into attn::ref, the tests or the solutions shows up here."""
    by_number = {s.number: s for s in steps}
    found: dict[int, list[str]] = {}
    lines = output.splitlines()
    for i, line in enumerate(lines):
        m = UNDEFINED.search(line)
        if not m:
            continue
        context = [line] + lines[max(0, i - 1):i] + lines[i + 1:i + 4]
        step = next((int(o.group(1)) for l in context for o in [STEP_OBJECT.search(l)] if o), None)
        name = re.sub(r"\(.*", "", m.group(1).strip())  # the function, without its parameters
        if step in by_number and name not in found.setdefault(step, []):
            found[step].append(name)
    messages = {}
    for n, names in found.items():
        s = by_number[n]
        text = []
        for name in names:
            if name.startswith("attn::ref::"):
                text.append(f"step {n} calls {name}, the course's reference; the exercises must "
                            f"not use it: write the step yourself in {s.exercise}")
            else:
                text.append(f"step {n} uses {name}, which is not part of the contract: a step file "
                            f"may use the contract (contract/include/attn/) and the C++ standard "
                            f"library only")
        messages[n] = "\n".join(text)
    return messages


REFERENCE_INCLUDE = re.compile(r"attn/(attn|reference)\.hpp: No such file")


def compiler_errors(output: str, limit: int = 25) -> str:
    """The first compiler error and its context, without the build tool's noise (and, for
    an #include of the reference's headers, what to include instead)."""
    hint = ""
    if REFERENCE_INCLUDE.search(output):
        hint = ("a step file includes <attn/contract.hpp>, not <attn/attn.hpp> or "
                "<attn/reference.hpp> (those bring in the course's reference, attn::ref, which "
                "the exercises must not use): change that #include line\n\n")
    return hint + _first_error(output, limit)


def _first_error(output: str, limit: int) -> str:
    lines = output.splitlines()
    first = next((i for i, l in enumerate(lines) if re.search(r"\berror\b", l)), None)
    if first is None:
        return "\n".join(lines[-limit:])
    start = max(0, first - 2)
    while start < first and lines[start].startswith(("[", "FAILED:", "ninja:")):
        start += 1
    keep = [l for l in lines[start:] if not l.startswith(("ninja: build stopped", "[", "FAILED: "))]
    return "\n".join(keep[:limit])


# ---------------------------------------------------------------------------- running tests


@dataclass
class StepResult:
    step: Step
    status: str               # passed | failing | not started | does not compile | refused | blocked | timed out | crashed | memory error
    passed: int = 0
    total: int = 0
    detail: str = ""          # compiler message, crash description, ...
    failures: list[str] = field(default_factory=list)
    output: str = ""          # what the test program printed (its seed line, sanitizer reports)

    @property
    def points(self) -> float:
        if self.total == 0 or self.status in ("does not compile", "refused", "blocked", "timed out", "crashed"):
            return 0.0
        return round(self.step.points * self.passed / self.total, 1)


def test_executable(preset: str, flavour: str, step: Step) -> Path:
    return ROOT / "build" / preset / "tests" / f"attn_test_{flavour}_step{step.number}"


# The judge enforces the step's time budget on the student's code (tests/support/proxy.cpp);
# this margin is for the judge itself (the reference, the oracle) on a slow machine.
JUDGE_MARGIN = 60.0


def run_step_tests(exe: Path, step: Step, extra_args: list[str] | None = None,
                   env: dict[str, str] | None = None) -> StepResult:
    """Runs one step's test program in its own process and classifies the outcome from
    Catch2's JUnit report. For the exercises the program is the judge: the student's code
    runs in its runner, within the step's time budget; `env` sets the runner, its sandbox
    and that budget (tests/support/proxy.cpp)."""
    limit = step.timeout + JUDGE_MARGIN
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        cmd = [str(exe), "--reporter", "junit", "--out", str(report), *(extra_args or [])]
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=limit, env={**os.environ, **(env or {})},
                                  errors="replace")
        except subprocess.TimeoutExpired:
            return StepResult(step, "timed out", detail=f"no result after {limit:g} s")
        if proc.returncode < 0:
            name = signal.Signals(-proc.returncode).name
            return StepResult(step, "crashed", detail=f"the tests died with {name}\n{proc.stdout[-2000:]}",
                              output=proc.stdout)
        try:
            root = ET.parse(report).getroot()
        except (ET.ParseError, FileNotFoundError):
            return StepResult(step, "crashed", detail=f"no test report (exit code {proc.returncode})\n{proc.stdout[-2000:]}",
                              output=proc.stdout)
    cases = root.iter("testcase")
    passed = total = 0
    failures: list[str] = []
    for case in cases:
        total += 1
        bad = [c for c in case if c.tag in ("failure", "error")]
        if not bad:
            passed += 1
        else:
            msg = " ".join(((c.get("message") or "") + " " + (c.text or "")).strip() for c in bad)
            failures.append(f"{case.get('name')}: {msg}")
    stub_marker = f"not implemented: step {step.number} "
    if passed == total and total > 0:
        status = "passed"
    elif passed == 0 and failures and all(stub_marker in f for f in failures):
        status = "not started"
    else:
        status = "failing"
    return StepResult(step, status, passed, total, failures=failures, output=proc.stdout)


def step_status(preset: str, flavour: str, step: Step, steps: list[Step]) -> StepResult:
    """Builds step `step` of `flavour` (its own file first, then its test program, which for
    the exercises also builds the runner of steps 1..n) and runs its tests."""
    own = build(preset, [f"attn_{flavour}_step{step.number}"])
    if not own.ok:
        return StepResult(step, "does not compile", detail=compiler_errors(own.output))
    exe_target = f"attn_test_{flavour}_step{step.number}"
    linked = build(preset, [exe_target])
    if not linked.ok:
        for earlier in steps:
            if earlier.number < step.number and not build(preset, [f"attn_{flavour}_step{earlier.number}"]).ok:
                return StepResult(step, "blocked",
                                  detail=f"needs step {earlier.number} ({earlier.title}), which does not compile")
        unlinked = link_errors(linked.output, steps)
        if unlinked:
            return StepResult(step, "does not compile", detail="\n".join(unlinked.values()))
        return StepResult(step, "does not compile", detail=compiler_errors(linked.output))
    return run_step_tests(test_executable(preset, flavour, step), step)


def colour_enabled(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


# ---------------------------------------------------------------------------- the shipped stubs


STUB_MARKER = "throw attn::not_implemented("


def is_stub(text: str, step: Step) -> bool:
    """A file is the shipped stub when every function of the step still throws."""
    return text.count(STUB_MARKER) >= len(step.functions)


def shipped_stub(step: Step) -> str | None:
    """The newest committed version of the step's exercise file that is still a stub (so
    a student's own commits of their work are skipped); None without git history."""
    path = step.exercise
    log = run(["git", "log", "--format=%H", "--", path])
    if log.returncode != 0:
        return None
    for commit in log.stdout.split():
        shown = run(["git", "show", f"{commit}:{path}"])
        if shown.returncode == 0 and is_stub(shown.stdout, step):
            return shown.stdout
    return None


# ---------------------------------------------------------------------------- self-check


def self_check(steps: list[Step]) -> list[str]:
    """The course checks itself: every step has a stub that throws not_implemented for each
    of its functions, a solution, at least two hints, a docs page and a test file.
    Returns the problems found (empty when all is well)."""
    problems = []
    for s in steps:
        stub = ROOT / s.exercise
        if not stub.exists():
            problems.append(f"step {s.number}: the stub {s.exercise} is missing")
        else:
            text = stub.read_text(encoding="utf-8")
            for fn in s.functions:
                if f'"attn::{fn}"' not in text:
                    problems.append(f"step {s.number}: {s.exercise} has no not_implemented stub for attn::{fn}")
            if "TODO" not in text:
                problems.append(f"step {s.number}: {s.exercise} has no TODO telling the student what to write")
        if not (ROOT / "solutions" / s.file).exists():
            problems.append(f"step {s.number}: the solution solutions/{s.file} is missing")
        if len(hints(s)) < 2:
            problems.append(f"step {s.number}: {len(hints(s))} hints in {s.hints_file.relative_to(ROOT)}; expected at least 2")
        if not (ROOT / s.docs_page).exists():
            problems.append(f"step {s.number}: the docs page {s.docs_page} is missing")
        if not (ROOT / "tests" / f"test_step{s.number}_{s.slug}.cpp").exists():
            problems.append(f"step {s.number}: the tests tests/test_step{s.number}_{s.slug}.cpp are missing")
    return problems
