"""The course's shared machinery: the manifest, building a step, running its tests and
classifying the result. Used by the student CLI (tools/attn.py); no third-party modules."""

from __future__ import annotations

import enum
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

# A test case's kind is one of its Catch2 tags; a test case without one (an instructor's
# hidden test, say) counts as DEFAULT_KIND. The manifest's "kinds" give each its weight.
DEFAULT_KIND = "property"


class ManifestError(ValueError):
    """course/steps.json says something the tools cannot use; the message says what."""


@dataclass(frozen=True)
class Kind:
    name: str      # the tag without brackets: card, property, special, input
    weight: float  # what one passed test case of this kind is worth, relative to the others
    label: str     # how reports name it: "the cards' examples"


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
    kinds: dict[str, Kind] = field(default_factory=dict)  # the manifest's, with the step's own weights

    def kind_of(self, tags: list[str]) -> str:
        """The kind among a test case's tags; DEFAULT_KIND when it has none."""
        return next((t for t in tags if t in self.kinds), DEFAULT_KIND)

    def weight(self, kind: str) -> float:
        return self.kinds[kind].weight if kind in self.kinds else 1.0

    def label(self, kind: str) -> str:
        return self.kinds[kind].label if kind in self.kinds else kind

    @property
    def exercise(self) -> str:
        return f"exercises/{self.file}"

    @property
    def tests_file(self) -> str:
        """The step's shipped tests (tests/CMakeLists.txt builds the same name)."""
        return f"tests/test_step{self.number}_{self.slug}.cpp"

    @property
    def docs_page(self) -> str:
        return f"docs/step{self.number}_{self.slug}.md"

    @property
    def hints_file(self) -> Path:
        return ROOT / "course" / "hints" / f"step{self.number}.md"


def _weight(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ManifestError(f"course/steps.json: {where} is {json.dumps(value)}; expected a "
                            f"number >= 0")
    return float(value)


def load_kinds(data: dict) -> dict[str, Kind]:
    """The manifest's top-level "kinds": {"card": {"weight": 2, "label": "..."}, ...}."""
    kinds = data.get("kinds", {})
    if not isinstance(kinds, dict):
        raise ManifestError(f"course/steps.json: \"kinds\" is {json.dumps(kinds)}; expected an "
                            f"object such as {{\"card\": {{\"weight\": 2, \"label\": \"the cards' examples\"}}}}")
    found = {}
    for name, entry in kinds.items():
        if not isinstance(entry, dict) or "weight" not in entry:
            raise ManifestError(f"course/steps.json: kind \"{name}\" is {json.dumps(entry)}; expected "
                                f"an object with a \"weight\" (and a \"label\")")
        label = entry.get("label", name)
        if not isinstance(label, str) or not label:
            raise ManifestError(f"course/steps.json: kind \"{name}\" has the label {json.dumps(label)}; "
                                f"expected a non-empty string")
        found[name] = Kind(name, _weight(entry["weight"], f"the weight of kind \"{name}\""), label)
    if DEFAULT_KIND not in found:
        found[DEFAULT_KIND] = Kind(DEFAULT_KIND, 1.0, DEFAULT_KIND)
    return found


def step_kinds(kinds: dict[str, Kind], entry: dict) -> dict[str, Kind]:
    """The manifest's kinds with a step's own weights ("kinds": {"special": 2} in its entry)."""
    own = entry.get("kinds", {})
    number = entry.get("number", "?")
    if not isinstance(own, dict):
        raise ManifestError(f"course/steps.json: step {number}'s \"kinds\" is {json.dumps(own)}; "
                            f"expected an object of weights such as {{\"special\": 2}}")
    merged = dict(kinds)
    for name, value in own.items():
        if name not in kinds:
            raise ManifestError(f"course/steps.json: step {number} weighs the kind \"{name}\", which the "
                                f"top-level \"kinds\" do not define; expected one of {', '.join(kinds)}")
        merged[name] = Kind(name, _weight(value, f"step {number}'s weight of kind \"{name}\""),
                            kinds[name].label)
    return merged


def load_steps() -> list[Step]:
    data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    kinds = load_kinds(data)
    return [Step(s["number"], s["slug"], s["title"], s["file"], s["functions"],
                 float(s["points"]), float(s["timeout"]), bool(s.get("core", True)),
                 float(s.get("hidden_points", 0)), step_kinds(kinds, s))
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


def run(cmd: list[str], cwd: Path = ROOT, timeout: float | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs cmd, its output and errors together; env: variables added to this process's."""
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, env={**os.environ, **env} if env else None)


def configure(preset: str, extra: list[str] | None = None) -> BuildResult:
    """Configures build/<preset> once; later builds re-run CMake only when needed."""
    build_dir = ROOT / "build" / preset
    if (build_dir / "CMakeCache.txt").exists() and not extra:
        return BuildResult(True, "")
    proc = run(["cmake", "--preset", preset, *(extra or [])])
    return BuildResult(proc.returncode == 0, proc.stdout)


@dataclass(frozen=True)
class Program:
    target: str  # the CMake target, for `cmake --build --target`
    path: Path   # the file it builds


class BuildTargets:
    """What a configured build calls each step's parts: <build>/targets.json, which the
    build writes (cmake/AttnCourse.cmake, attn_write_targets) from the targets as it makes
    them. So the tools never spell a target's name or a program's path themselves."""

    def __init__(self, build_dir: Path):
        path = build_dir / "targets.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ManifestError(f"{path}: cannot read the build's list of targets ({e}); expected the "
                                f"file CMake writes when it configures the build") from None
        self._steps = data.get("steps", {})
        self._other = data.get("other", {})
        # Which step a target belongs to, to blame a failed build on a step file.
        self._step_of = {part["target"]: int(n) for n, flavours in self._steps.items()
                         for roles in flavours.values() for part in roles.values()}

    def _part(self, flavour: str, number: int, role: str) -> dict | None:
        return self._steps.get(str(number), {}).get(flavour, {}).get(role)

    def object(self, flavour: str, number: int) -> str:
        """The object library of the step's file."""
        part = self._part(flavour, number, "object")
        if part is None:
            raise ManifestError(f"this build has no {flavour} step {number}; reconfigure it "
                                f"(the manifest may have gained a step since)")
        return part["target"]

    def program(self, flavour: str, number: int, role: str) -> Program | None:
        """The step's test program (role "tests"), hidden tests ("hidden") or runner
        ("runner"); None when the build has none (no tests for the step yet, no hidden tests)."""
        part = self._part(flavour, number, role)
        return Program(part["target"], Path(part["program"])) if part else None

    def tests(self, flavour: str, number: int) -> Program:
        found = self.program(flavour, number, "tests")
        if found is None:
            raise ManifestError(f"this build has no test program for {flavour} step {number}; expected "
                                f"one for every step with a test file (tests/test_step{number}_*.cpp)")
        return found

    @property
    def sandbox(self) -> Program | None:
        part = self._other.get("sandbox")
        return Program(part["target"], Path(part["program"])) if part else None

    def step_of(self, target: str) -> int | None:
        """The step whose object, test program or runner `target` is; None for any other."""
        return self._step_of.get(target)


def load_targets(build_dir: Path) -> BuildTargets:
    """The targets of a configured build. A build configured before the manifest last
    changed (or before the build wrote targets.json) is configured again first, since its
    list may lack a step."""
    path = build_dir / "targets.json"
    if not path.exists() or path.stat().st_mtime < MANIFEST_PATH.stat().st_mtime:
        proc = run(["cmake", "-S", str(ROOT), "-B", str(build_dir)])
        if proc.returncode != 0:
            raise ManifestError(f"configuring {build_dir} again failed:\n{proc.stdout[-3000:]}")
    return BuildTargets(build_dir)


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
OBJECT_DIR = re.compile(r"(\w+)\.dir/")  # CMake puts a target's objects in <target>.dir/


def link_errors(output: str, steps: list[Step], targets: BuildTargets) -> dict[int, str]:
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
        owners = (targets.step_of(o.group(1)) for l in context for o in OBJECT_DIR.finditer(l))
        step = next((n for n in owners if n is not None), None)
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
class CaseResult:
    """One Catch2 test case: its name (which reads as the rule it checks), its kind (a tag of
    the manifest's "kinds") and, when it failed, the full text of each failed check."""
    name: str
    kind: str
    passed: bool
    failures: list[str] = field(default_factory=list)


@dataclass
class Mistake:
    """A catalogued mistake (course/mistakes/) that the judge found reproducing the output."""
    step: int
    id: str
    name: str
    why: str
    hint: int
    text: str     # "<name>. <why> (./attn hint n k)", as the judge words it

    @property
    def hint_command(self) -> str:
        return f"./attn hint {self.step} {self.hint}"


@dataclass
class Diagnosis:
    """What a group of failed checks looks like: one mistake, or several that the judge
    cannot tell apart ("one of")."""
    checks: int
    one_of: list[Mistake]

    def lines(self) -> list[str]:
        if len(self.one_of) == 1:
            return [self.one_of[0].text]
        return ["one of:"] + [f"  - {m.text}" for m in self.one_of]

    @property
    def short(self) -> str:
        """The mistake's name and its hint command, in one line."""
        if len(self.one_of) == 1:
            m = self.one_of[0]
            return f"looks like: {m.name} ({m.hint_command})"
        return "looks like one of: " + "; ".join(f"{m.name} ({m.hint_command})" for m in self.one_of)


class Status(enum.StrEnum):
    """A step's (or a graded unit's) outcome. A str, so reports and JSON show its value."""
    PASSED = "passed"
    FAILING = "failing"
    NOT_STARTED = "not started"
    DOES_NOT_COMPILE = "does not compile"
    REFUSED = "refused"
    BLOCKED = "blocked"
    TIMED_OUT = "timed out"
    CRASHED = "crashed"
    MEMORY_ERROR = "memory error"
    NO_TESTS = "no tests"
    NOT_GRADED = "not graded"

    @property
    def counted(self) -> bool:
        """Whether the tests ran to the end, so that the passing ones can be counted."""
        return self in (Status.PASSED, Status.FAILING, Status.NOT_STARTED)


@dataclass
class StepResult:
    step: Step
    status: Status            # a Status value; a plain string is converted (and an unknown one refused)
    passed: int = 0           # test cases passed
    total: int = 0            # test cases run
    detail: str = ""          # compiler message, crash description, ...
    failures: list[str] = field(default_factory=list)  # "<test case>: <its failure texts>", per failing case
    output: str = ""          # what the test program printed (its seed line, sanitizer reports)
    cases: list[CaseResult] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)  # most important first
    seed: int | None = None

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    def tally(self) -> str:
        """How many test cases pass, said this one way in every report: "3 of 7 test cases pass"."""
        return f"{self.passed} of {self.total} test cases pass"

    @property
    def points(self) -> float:
        """The step's points times the weight of the test cases passed over the weight of
        all of them (each case weighs its kind's weight in the manifest)."""
        if self.total == 0 or self.status in ("does not compile", "refused", "blocked", "timed out", "crashed"):
            return 0.0
        if self.cases:
            total = sum(self.step.weight(c.kind) for c in self.cases)
            if total > 0:
                earned = sum(self.step.weight(c.kind) for c in self.cases if c.passed)
                return round(self.step.points * earned / total, 1)
        return round(self.step.points * self.passed / self.total, 1)

    @property
    def failing_cases(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.passed]

    @property
    def failed_checks(self) -> int:
        return sum(len(c.failures) for c in self.failing_cases)

    def kind_counts(self) -> list[tuple[str, int, int]]:
        """(kind, passed, total) for each kind among the test cases, in the manifest's order."""
        order = list(self.step.kinds) + sorted({c.kind for c in self.cases} - set(self.step.kinds))
        counts = []
        for kind in order:
            mine = [c for c in self.cases if c.kind == kind]
            if mine:
                counts.append((kind, sum(c.passed for c in mine), len(mine)))
        return counts

    def kind_summary(self) -> str:
        """"the cards' examples: 0 of 2 passed; core properties: 1 of 4 passed; ..." """
        return "; ".join(f"{self.step.label(k)}: {p} of {t} passed" for k, p, t in self.kind_counts())

    def diagnosis_lines(self) -> list[str]:
        return [line for d in self.diagnoses for line in d.lines()]

    def replace_text(self, old: str, new: str) -> None:
        """Replaces `old` in every text of the result (the grader hides its private paths)."""
        self.detail = self.detail.replace(old, new)
        self.failures = [f.replace(old, new) for f in self.failures]
        for c in self.cases:
            c.failures = [f.replace(old, new) for f in c.failures]


# The judge enforces the step's time budget on the student's code (tests/support/proxy.cpp);
# this margin is for the judge itself (the reference, the oracle) on a slow machine.
JUDGE_MARGIN = 60.0
DIAGNOSIS_TEXT_LIMIT = 2000  # characters of one mistake's text read from the diagnosis file
SEED_LINE = re.compile(r"^attn: random seed (\d+)", re.M)


def _text(element: ET.Element) -> str:
    return (element.text or "").strip()


def _case_failures(element: ET.Element) -> list[str]:
    """The failed checks of a <TestCase> (or <Section>) of Catch2's XML report, v2 or v3, in
    order: an <Expression success="false"> as its macro, expression and expansion, and a
    <Failure>, <Exception> or <FatalErrorCondition> as its message; each with the <Info>
    (INFO, CAPTURE) written before it."""
    found: list[str] = []
    info: list[str] = []
    for child in element:
        if child.tag == "Info":
            info.append(_text(child))
        elif child.tag == "Section":
            found += _case_failures(child)
            info = []
        elif child.tag == "Expression":
            if child.get("success") == "false":
                original = _text(child.find("Original")) if child.find("Original") is not None else ""
                expanded = _text(child.find("Expanded")) if child.find("Expanded") is not None else ""
                text = f"{child.get('type') or 'CHECK'}( {original} )"
                if expanded and expanded != original:
                    text += f"\nwith expansion:\n  {expanded}"
                for inner in child:
                    if inner.tag in ("Exception", "FatalErrorCondition", "Failure"):
                        text += f"\n{inner.tag.lower()}: {_text(inner)}"
                found.append("\n".join(info + [text]))
            info = []
        elif child.tag in ("Failure", "Exception", "FatalErrorCondition"):
            found.append("\n".join(info + [_text(child)]))
            info = []
    return found


def parse_catch_xml(root: ET.Element, step: Step) -> list[CaseResult]:
    """The test cases of Catch2's XML report (root <Catch> in v2, <Catch2TestRun> in v3)."""
    cases = []
    for case in root.iter("TestCase"):
        tags = re.findall(r"\[([^\]]+)\]", case.get("tags") or "")
        result = case.find("OverallResult")
        failures = _case_failures(case)
        passed = result.get("success") == "true" if result is not None else not failures
        if not passed and not failures:
            failures = ["the test case failed without a message (Catch2 reported no failed check)"]
        cases.append(CaseResult(case.get("name") or "(unnamed test case)", step.kind_of(tags), passed,
                                failures if not passed else []))
    return cases


def _diagnosis_text(value: object) -> str:
    return str(value)[:DIAGNOSIS_TEXT_LIMIT] if isinstance(value, (str, int)) else ""


def read_diagnoses(path: Path) -> list[Diagnosis]:
    """The judge's diagnosis file (tests/support/diagnosis.cpp); [] when there is none or it
    is not what the judge writes."""
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return []
    found = []
    for entry in data.get("diagnoses", []) if isinstance(data, dict) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("one_of"), list):
            continue
        mistakes = []
        for m in entry["one_of"]:
            if not isinstance(m, dict):
                continue
            try:
                step, hint = int(m.get("step", 0)), int(m.get("hint", 0))
            except (TypeError, ValueError):
                continue
            name = _diagnosis_text(m.get("name"))
            text = _diagnosis_text(m.get("text")) or f"{name} (./attn hint {step} {hint})"
            mistakes.append(Mistake(step, _diagnosis_text(m.get("id")), name, _diagnosis_text(m.get("why")),
                                    hint, text))
        if mistakes:
            checks = entry.get("checks")
            found.append(Diagnosis(checks if isinstance(checks, int) else 0, mistakes))
    return found


def run_step_tests(exe: Path, step: Step, extra_args: list[str] | None = None,
                   env: dict[str, str] | None = None) -> StepResult:
    """Runs one step's test program in its own process and classifies the outcome from
    Catch2's XML report (each test case with its tags, hence its kind) and the judge's
    diagnosis file (ATTN_DIAGNOSIS_FILE: the catalogued mistakes it recognised). For the
    exercises the program is the judge: the student's code runs in its runner, within the
    step's time budget; `env` sets the runner, its sandbox and that budget
    (tests/support/proxy.cpp). Only the judge writes the two files: the runner, in the
    sandbox, cannot reach this temporary folder."""
    limit = step.timeout + JUDGE_MARGIN
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        diagnosis = Path(tmp) / "diagnosis.json"
        cmd = [str(exe), "--reporter", "xml", "--out", str(report), *(extra_args or [])]
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=limit, errors="replace",
                                  env={**os.environ, **(env or {}), "ATTN_DIAGNOSIS_FILE": str(diagnosis)})
        except subprocess.TimeoutExpired:
            return StepResult(step, "timed out", detail=f"no result after {limit:g} s")
        seed_line = SEED_LINE.search(proc.stdout)
        seed = int(seed_line.group(1)) if seed_line else None
        if proc.returncode < 0:
            name = signal.Signals(-proc.returncode).name
            return StepResult(step, "crashed", detail=f"the tests died with {name}\n{proc.stdout[-2000:]}",
                              output=proc.stdout, seed=seed)
        try:
            root = ET.parse(report).getroot()
        except (ET.ParseError, FileNotFoundError):
            return StepResult(step, "crashed", detail=f"no test report (exit code {proc.returncode})\n{proc.stdout[-2000:]}",
                              output=proc.stdout, seed=seed)
        diagnoses = read_diagnoses(diagnosis)
    if seed is None:  # v2 writes <Randomness seed=...>, v3 the root's rng-seed
        randomness = root.find(".//Randomness")
        text = randomness.get("seed") if randomness is not None else root.get("rng-seed")
        seed = int(text) if text and text.isdigit() else None
    # What Catch2 captured of the judge's own output goes with its output (sanitizer reports).
    captured = "\n".join(_text(e) for tag in ("StdOut", "StdErr") for e in root.iter(tag) if _text(e))
    output = proc.stdout + ("\n" + captured if captured else "")
    cases = parse_catch_xml(root, step)
    passed = sum(c.passed for c in cases)
    total = len(cases)
    failures = [f"{c.name}: " + "\n".join(c.failures) for c in cases if not c.passed]
    if passed == total and total > 0:
        status = "passed"
    elif passed == 0 and failures and all(step.number in stubbed_steps(f) for f in failures):
        status = "not started"
    else:
        status = "failing"
    return StepResult(step, status, passed, total, failures=failures, output=output, cases=cases,
                      diagnoses=diagnoses, seed=seed)


def step_status(preset: str, flavour: str, step: Step, steps: list[Step]) -> StepResult:
    """Builds step `step` of `flavour` (its own file first, then its test program, which for
    the exercises also builds the runner of steps 1..n) and runs its tests."""
    targets = load_targets(ROOT / "build" / preset)
    own = build(preset, [targets.object(flavour, step.number)])
    if not own.ok:
        return StepResult(step, "does not compile", detail=compiler_errors(own.output))
    program = targets.program(flavour, step.number, "tests")
    if program is None:
        return StepResult(step, "no tests", detail=f"the course has no tests for step {step.number} "
                                                   f"yet ({step.tests_file})")
    linked = build(preset, [program.target])
    if not linked.ok:
        for earlier in steps:
            if earlier.number < step.number and \
                    not build(preset, [targets.object(flavour, earlier.number)]).ok:
                return StepResult(step, "blocked",
                                  detail=f"needs step {earlier.number} ({earlier.title}), which does not compile")
        unlinked = link_errors(linked.output, steps, targets)
        if unlinked:
            return StepResult(step, "does not compile", detail="\n".join(unlinked.values()))
        return StepResult(step, "does not compile", detail=compiler_errors(linked.output))
    return run_step_tests(program.path, step)


def colour_enabled(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


# ---------------------------------------------------------------------------- the shipped stubs


STUB_MARKER = "throw attn::not_implemented("
# What attn::not_implemented says (contract/include/attn/errors.hpp): "not implemented:
# step <n> (<title>): attn::<function> -- edit exercises/<file>". cmake/check_stub.cmake
# reads the same words in the stubs' ctest checks.
NOT_IMPLEMENTED = re.compile(r"not implemented: step (\d+) ")


def stubbed_steps(text: str) -> set[int]:
    """The steps whose stub a failure message shows was called."""
    return {int(n) for n in NOT_IMPLEMENTED.findall(text)}
TEST_CASE = re.compile(r'^TEST_CASE\("((?:[^"\\]|\\.)*)",\s*"([^"]*)"\)', re.M)


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
        tests = ROOT / s.tests_file
        if not tests.exists():
            problems.append(f"step {s.number}: the tests {s.tests_file} are missing")
        else:
            # Every test case weighs its kind's weight (the manifest's "kinds"): one tag of them each.
            for name, tags in TEST_CASE.findall(tests.read_text(encoding="utf-8")):
                kinds = [t for t in re.findall(r"\[([^\]]+)\]", tags) if t in s.kinds]
                if len(kinds) != 1:
                    problems.append(f"step {s.number}: the test case \"{name}\" in {tests.relative_to(ROOT)} has "
                                    f"{len(kinds)} kind tags; expected exactly one of "
                                    + ", ".join(f"[{k}]" for k in s.kinds))
    return problems
