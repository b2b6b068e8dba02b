#!/usr/bin/env python3
"""attn: the one command of the course "Attention weights, step by step".

Run it as ./attn from the top of the repository (that wrapper installs what is missing
first). Commands:

  progress          build your exercises and show each step's status (the default)
  step N [--all]    run just step N's tests: what failed, what it looks like, the first failure
  hint N [K]        show step N's next hint (or hint K); hints go from a nudge to nearly the answer
  watch [N]         re-run step N (default: your current step) every time you save a file
  explain           print the whole computation for a small example (the cards' by default)
  lab [--sweep]     train a tiny attention model and watch it go unstable (docs/lab.md)
  reset N|all       put a step's stub back as shipped (your version is backed up first)
  restore N         put your newest backup of step N back
  check             the course checks itself (stubs, solutions, hints, docs pages, tests)
  test              the course's full test suite (answer key, stubs, reference, mutants, docs)
  bench [--quick]   benchmark the reference against the answer key, your code and peers

For instructors (see the README's instructor guide; ./attn grade --help):

  grade DIR         grade one student's exercises folder: results.json, junit.xml, report.txt
  grade-class DIR   grade every submission under DIR into gradebook.csv

Your progress uses build/student; the full suite uses build/dev; benchmarks build/bench.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course  # noqa: E402
import grade  # noqa: E402

STUDENT = "student"


class Style:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    @staticmethod
    def colour(status: course.Status) -> str:
        """The terminal colour of a status: green passed, yellow failing, dim not started, else red."""
        return {course.Status.PASSED: "32", course.Status.FAILING: "33", course.Status.NOT_STARTED: "2"}.get(status, "31")

    def status(self, result: course.StepResult) -> str:
        text = str(result.status)
        if result.status == course.Status.FAILING:
            text = f"failing ({result.tally()})"
        return self(text, self.colour(result.status))


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"attn: {message}", file=sys.stderr)
    sys.exit(code)


def step_arg(steps: list[course.Step], text: str) -> course.Step:
    """The step a command-line argument names, or a clear error and exit status 2."""
    try:
        return course.find_step(steps, text)
    except ValueError as e:
        fail(str(e))


def configure_student() -> None:
    result = course.configure(STUDENT)
    if not result.ok:
        print(result.output, file=sys.stderr)
        fail("configuring the student build failed (see above)", 1)


# ---------------------------------------------------------------------------- progress


def cmd_progress(args: argparse.Namespace) -> int:
    steps = course.load_steps()
    configure_student()
    style = Style(course.colour_enabled(sys.stdout))
    print(style("Attention weights, step by step: your progress", "1"))
    print("(building and testing exercises/; the first run compiles for a minute or two)\n")
    results = []
    width = max(len(s.title) for s in steps)
    print(f"  {'step':<5} {'title':<{width}}  {'status':<34} points")
    for step in steps:
        r = course.step_status(STUDENT, "exercises", step, steps)
        results.append(r)
        status = style.status(r)
        pad = 34 + len(status) - len(Style(False).status(r))  # colour codes take no columns
        print(f"  {step.number:<5} {step.title:<{width}}  {status:<{pad}} {r.points:g}/{step.points:g}")
        if r.detail and r.status in ("does not compile", "blocked", "timed out", "crashed"):
            for line in r.detail.splitlines()[:12]:
                print(f"        {style(line, '2')}")
        if r.status == "failing":
            for line in _wrap(r.kind_summary(), "        ", _width()):
                print(style(line, "2"))
            if r.diagnoses:
                print(f"        {r.diagnoses[0].short}")
    # Extension steps ("core": false in the manifest) are extra credit, counted apart.
    for label, core in (("core", True), ("extensions", False)):
        earned = sum(r.points for r in results if r.step.core == core)
        total = sum(s.points for s in steps if s.core == core)
        if total:
            print(f"  {'':<5} {label:<{width}}  {'':<34} {earned:g}/{total:g}")
    print()
    nxt = next((r for r in results if r.status != "passed"), None)
    if nxt is None:
        print(style("Every step passes. Well done!", "32;1"))
        return 0
    s = nxt.step
    print(style(f"Next: step {s.number}, {s.title}", "1"))
    print(f"  edit  {s.exercise}")
    print(f"  read  {s.docs_page}")
    print(f"  run   ./attn step {s.number}   (just this step: what fails, what it looks like, the first failure)")
    first = course.hints(s)
    if first:
        paragraph = first[0].split("\n\n")[0].splitlines()  # the first hint's first paragraph
        print(f"  hint  {paragraph[0]}")
        for line in paragraph[1:]:
            print(f"        {line}")
        print(f"        (./attn hint {s.number} for the next one)")
    return 0


# ---------------------------------------------------------------------------- the report

FIRST_FAILURE_LINES = 30  # lines of the first failure in ./attn step N's summary
CASES_SHOWN = 20          # failing test cases listed there
JUDGE_SEED = re.compile(r"^seed \d+ \(rerun with")
# Catch2 options that make its own output the point: ./attn step passes them through as is.
CATCH_OWN_OUTPUT = ("-r", "--reporter", "-o", "--out", "-l", "--list-tests", "--list-tags",
                    "--list-reporters", "--list-listeners", "--list-test-names-only", "-h", "-?", "--help")


def _width() -> int:
    return min(shutil.get_terminal_size((80, 24)).columns, 100)


def _wrap(text: str, indent: str, width: int) -> list[str]:
    """One paragraph wrapped to `width`, its continuation lines indented two more spaces (a
    hint command, "(./attn hint 2 1)", stays on one line)."""
    keep = re.sub(r"\(\./attn hint \d+ \d+\)", lambda m: m.group(0).replace(" ", "\0"), text)
    lines = textwrap.wrap(keep, width=max(40, width), initial_indent=indent,
                          subsequent_indent=indent + "  ", break_long_words=False,
                          break_on_hyphens=False)
    return [l.replace("\0", " ") for l in lines] or [indent.rstrip()]


def _without_judge_notes(text: str) -> list[str]:
    """A failure's lines without the judge's diagnosis ("This looks like ...") and seed
    lines: the report shows each once, apart."""
    kept, in_list = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("This looks like"):
            in_list = stripped.endswith("one of:")
            continue
        if in_list and stripped.startswith("- "):
            continue
        in_list = False
        if not JUDGE_SEED.match(stripped):
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


def _head(r: course.StepResult, style: Style, width: int, prefix: str = "") -> list[str]:
    s = r.step
    line = f"{prefix}Step {s.number} ({s.title}): {style(str(r.status), style.colour(r.status) + ';1')}"
    if r.status.counted:
        line += f", {r.tally()}"
    line += f", {r.points:g}/{s.points:g} points"
    lines = [line]
    if r.cases:
        lines += _wrap(r.kind_summary(), "  ", width)
    return lines


def _diagnosis(r: course.StepResult, width: int) -> list[str]:
    if not r.diagnoses:
        return []
    lines = ["What this looks like:"]
    for d in r.diagnoses:
        if len(d.one_of) == 1:
            lines += _wrap(d.one_of[0].text, "  ", width)
        else:
            lines.append("  one of (the failures cannot tell them apart):")
            for m in d.one_of:
                lines += _wrap("- " + m.text, "    ", width)
    return lines


def _first_failure(r: course.StepResult) -> tuple[str, list[str]]:
    case = r.failing_cases[0]
    return f"First failure, in \"{case.name}\":", _without_judge_notes(case.failures[0])


def step_report(r: course.StepResult, style: Style, width: int, max_lines: int | None = None,
                prefix: str = "", max_cases: int | None = None) -> list[str]:
    """What ./attn step N prints (max_lines None) and ./attn watch cuts to one screen: the
    head line and the counts per kind, the failing test cases, what the failures look like,
    the first failure; for ./attn step also how to see the rest and the seed line, last."""
    n = r.step.number
    lines = _head(r, style, width, prefix)
    if r.detail:
        lines += ["", *r.detail.splitlines()[:20]]
    failing = r.failing_cases
    if not failing:
        if max_lines is None and r.seed is not None and r.status != "passed":
            lines += ["", f"Random seed {r.seed}: rerun with ./attn step {n} --rng-seed {r.seed}"]
        return lines[:max_lines] if max_lines else lines
    tag_width = max(len(c.kind) for c in failing) + 2
    case_lines = [f"  {'[' + c.kind + ']':<{tag_width}} {c.name}" for c in failing]
    diagnosis = _diagnosis(r, width)
    title, failure = _first_failure(r)
    if max_lines is None:
        if len(case_lines) > CASES_SHOWN:
            case_lines = case_lines[:CASES_SHOWN] + [f"  ... and {len(failing) - CASES_SHOWN} more"]
        if len(failure) > FIRST_FAILURE_LINES:
            failure = failure[:FIRST_FAILURE_LINES] + [f"  ... ({len(failure) - FIRST_FAILURE_LINES} more lines)"]
    else:  # one screen: the head and the diagnosis whole, then the cases, then the failure
        room = max_lines - len(lines) - 3 - (len(diagnosis) + 1 if diagnosis else 0)
        shown = len(case_lines) if len(case_lines) <= max(room // 2, 1) else max(room // 2 - 1, 1)
        shown = min(shown, max_cases) if max_cases is not None else shown
        if shown < len(case_lines):
            case_lines = case_lines[:shown] + [f"  ... and {len(failing) - shown} more"]
        room -= len(case_lines) + 1
        failure = failure[:max(room, 0)]
    if r.status == "not started":  # every case stops at the stub: no list to read
        lines += ["", f"Every test case stops at the stub: write the step in {r.step.exercise}."]
    else:
        lines += ["", "Failing test cases:", *case_lines]
    if diagnosis:
        lines += ["", *diagnosis]
    if failure:
        lines += ["", title, *[f"  {l}" for l in failure]]
    if max_lines is not None:
        return lines[:max_lines]
    more = r.failed_checks - 1
    if more > 0:
        lines += ["", f"({more} more failing check{'s' if more != 1 else ''}: ./attn step {n} --all)"]
    if r.seed is not None:
        lines += ["", f"Random seed {r.seed}: rerun with ./attn step {n} --rng-seed {r.seed}"]
    return lines


# ---------------------------------------------------------------------------- one step


def cmd_step(args: argparse.Namespace) -> int:
    steps = course.load_steps()
    step = step_arg(steps, args.number)
    show_all = "--all" in args.catch_args
    catch_args = [a for a in args.catch_args if a != "--all"]
    configure_student()
    targets = course.load_targets(course.ROOT / "build" / STUDENT)
    tests = targets.program("exercises", step.number, "tests")
    if tests is None:
        fail(f"step {step.number} has no tests yet ({step.tests_file})")
    for target in (targets.object("exercises", step.number), tests.target):
        result = course.build(STUDENT, [target])
        if not result.ok:
            print(course.compiler_errors(result.output, limit=60))
            for message in course.link_errors(result.output, steps, targets).values():
                print("\n" + message)
            print(f"\nstep {step.number} does not compile yet: fix the first error above in {step.exercise}")
            return 1
    exe = tests.path
    limit = step.timeout + course.JUDGE_MARGIN
    if show_all or any(a.split("=")[0] in CATCH_OWN_OUTPUT for a in catch_args):
        # Every failure in full: Catch2's own console output, as it runs.
        colour = ["--use-colour", "yes"] if course.colour_enabled(sys.stdout) else []
        try:
            # The tests stop your code after the step's time budget themselves; the margin is theirs.
            proc = subprocess.run([str(exe), *colour, *catch_args], timeout=limit)
        except subprocess.TimeoutExpired:
            print(f"\nstep {step.number}: the tests gave no result after {limit:g} s")
            return 1
        if proc.returncode < 0:
            print(f"\nstep {step.number}: the tests crashed (signal {-proc.returncode})")
        return 0 if proc.returncode == 0 else 1
    r = course.run_step_tests(exe, step, catch_args)
    if r.status in ("passed", "failing", "not started") and r.total == 0:
        print(f"step {step.number}: no test case matches {' '.join(catch_args)}; "
              f"./attn step {step.number} --list-tests lists them")
        return 1
    style = Style(course.colour_enabled(sys.stdout))
    for line in step_report(r, style, _width()):
        print(line)
    return 0 if r.status == "passed" else 1


# ---------------------------------------------------------------------------- hints


def cmd_hint(args: argparse.Namespace) -> int:
    steps = course.load_steps()
    step = step_arg(steps, args.number)
    all_hints = course.hints(step)
    if not all_hints:
        fail(f"step {step.number} has no hints ({step.hints_file} is missing)", 1)
    state_file = course.ROOT / "build" / "hints-seen.json"
    seen = json.loads(state_file.read_text()) if state_file.exists() else {}
    if args.which is not None:
        k = args.which
    else:
        k = min(seen.get(str(step.number), 0) + 1, len(all_hints))
    if not 1 <= k <= len(all_hints):
        fail(f"step {step.number} has hints 1..{len(all_hints)}; there is no hint {k}")
    seen[str(step.number)] = max(seen.get(str(step.number), 0), k)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(seen, indent=1))
    print(f"Step {step.number} ({step.title}), hint {k} of {len(all_hints)}:\n")
    print(all_hints[k - 1])
    if k < len(all_hints):
        print(f"\n(./attn hint {step.number} again for hint {k + 1})")
    return 0


# ---------------------------------------------------------------------------- watch


def _exercise_mtimes() -> dict[str, float]:
    folder = course.ROOT / "exercises"
    return {p.name: p.stat().st_mtime for p in folder.glob("*.cpp")}


def _wait_for_save(previous: dict[str, float], poll: float) -> dict[str, float]:
    """Blocks until an exercise file changes. Uses inotifywait (inotify-tools) when it is
    installed, and polls the files' modification times otherwise."""
    inotify = shutil.which("inotifywait")
    while True:
        if inotify:
            subprocess.run([inotify, "-qq", "-t", "60", "-e", "close_write,moved_to,create",
                            str(course.ROOT / "exercises")])
        else:
            time.sleep(poll)
        now = _exercise_mtimes()
        if now != previous:
            return now


def cmd_watch(args: argparse.Namespace) -> int:
    steps = course.load_steps()
    step = None
    if args.number is not None:
        step = step_arg(steps, args.number)
    configure_student()
    style = Style(course.colour_enabled(sys.stdout))
    mtimes = _exercise_mtimes()
    how = "file events (inotifywait)" if shutil.which("inotifywait") else f"polling every {args.poll:g} s"
    while True:
        # The given step, or the first that does not pass yet: each step runs once per save
        # (the verdict shown is the one that chose the step, not a second run of it).
        for s in [step] if step is not None else steps:
            started = time.monotonic()
            r = course.step_status(STUDENT, "exercises", s, steps)
            took = time.monotonic() - started
            if step is not None or r.status != "passed":
                current = s
                break
        else:
            print(style("Every step passes. Well done!", "32;1"))
            return 0
        terminal = sys.stdout.isatty()
        if terminal:
            print("\033[H\033[2J", end="")  # a fresh screen for each verdict
        else:
            print()
        size = shutil.get_terminal_size((80, 24))
        # One screen: the verdict, then the two lines below it (how to see more, the watch line).
        lines = step_report(r, style, min(size.columns, 100), max_lines=max(size.lines - 3, 8),
                            prefix=f"[{time.strftime('%H:%M:%S')}] ", max_cases=args.show)
        lines[0] += f"  ({took:.1f} s)"
        print("\n".join(lines))
        if r.failing_cases:
            print(style(f"(./attn step {current.number} for the report, --all for every failure)", "2"))
        print(style(f"watching exercises/ ({how}); save a file to re-run, Ctrl-C to stop", "2"), flush=True)
        if args.once:
            return 0
        mtimes = _wait_for_save(mtimes, args.poll)


# ---------------------------------------------------------------------------- explain


def cmd_explain(args: argparse.Namespace) -> int:
    configure_student()
    result = course.build(STUDENT, ["attn_explain"])
    if not result.ok:
        print(result.output, file=sys.stderr)
        fail("building attn_explain failed (see above)", 1)
    exe = course.ROOT / "build" / STUDENT / "tools" / "attn_explain"
    return subprocess.run([str(exe), *args.explain_args]).returncode


# ---------------------------------------------------------------------------- lab

LAB_HELP = """Trains the lab's tiny attention model (tools/lab/, docs/lab.md) with the course's
functions. Without --sweep: one run of attn_lab; every option below except --sweep, --out and
--jobs is attn_lab's (its --help lists them with their defaults):

  --scaling scaled|unscaled  --qk-layernorm  --lr X  --d N  --steps N  --seed N  --batch N
  --pairs N  --queries N  --keys N  --values N  --init-scale X  --csv FILE  --quiet
  --impl reference|solutions|exercises   whose functions train the model (default: the
                                         reference; exercises: your steps, 1 to 12)

With --sweep: the learning-rate sweep, 8 rates over 3 decades for three variants (unscaled,
scaled, scaled + QK-layernorm), two runs at a time, then two figures (matplotlib):
  --out DIR     where the CSVs, summary.txt, lab_sweep.png and lab_run.png go
                (default build/<preset>/lab)
  --jobs N      runs at a time (default 2)
  --rates LIST  --high RATE   the rates, and the one of the second figure
Other options (--d, --seed, --impl, ...) go to every run; --scaling, --qk-layernorm,
--lr and --csv are the sweep's own.
"""


def cmd_lab(args: argparse.Namespace) -> int:
    rest = list(args.lab_args)
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if "-h" in rest or "--help" in rest:
        print("usage: ./attn lab [--sweep] [options]\n\n" + LAB_HELP, end="")
        return 0
    sweep = "--sweep" in rest
    rest = [a for a in rest if a != "--sweep"]
    impl = "reference"
    for i, a in enumerate(rest):
        if a == "--impl":
            if i + 1 >= len(rest):
                fail("lab: --impl needs a value: reference, solutions or exercises")
            impl = rest[i + 1]
    if impl not in ("reference", "solutions", "exercises"):
        fail(f"lab: --impl '{impl}': expected reference, solutions or exercises")
    # The reference and your exercises build in build/student; the answer key in build/solutions.
    preset = "solutions" if impl == "solutions" else STUDENT
    target = "attn_lab" if impl == "reference" else f"attn_lab_{impl}"
    result = course.configure(preset)
    if result.ok:
        result = course.build(preset, [target])
    if not result.ok:
        if impl != "reference" and f"unknown target '{target}'" in result.output:
            fail(f"lab: there is no {target} yet: --impl {impl} needs steps 11 and 12 in the course", 1)
        print(result.output, file=sys.stderr)
        fail(f"building {target} failed (see above; --impl {impl} needs every step it uses to compile)", 1)
    exe = course.ROOT / "build" / preset / "tools" / target
    if not sweep:
        return subprocess.run([str(exe), *rest]).returncode
    own = {"--out": None, "--jobs": "2", "--rates": None, "--high": None}
    passed: list[str] = []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a in own:
            if i + 1 >= len(rest):
                fail(f"lab --sweep: {a} needs a value (./attn lab --help)")
            own[a] = rest[i + 1]
            i += 2
            continue
        if a in ("--scaling", "--lr", "--csv"):
            fail(f"lab --sweep: {a} is chosen by the sweep (it runs every variant and rate); "
                 "leave it out, or run without --sweep")
        if a == "--qk-layernorm":
            fail("lab --sweep: --qk-layernorm is chosen by the sweep (it runs every variant)")
        passed.append(a)
        i += 1
    out = own["--out"] or str(course.ROOT / "build" / preset / "lab")
    cmd = [str(course.ROOT / "tools" / "lab" / "sweep.py"), "--exe", str(exe), "--out", out,
           "--jobs", own["--jobs"]]
    for k in ("--rates", "--high"):
        if own[k]:
            cmd += [k, own[k]]
    steps = [passed[j + 1] for j in range(len(passed) - 1) if passed[j] == "--steps"]
    if steps:
        cmd += ["--steps", steps[-1]]
    python = sys.executable
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        if Path("/usr/bin/python3").exists():
            python = "/usr/bin/python3"  # Debian's python3-matplotlib
    return subprocess.run([python, *cmd, "--", *passed]).returncode


# ---------------------------------------------------------------------------- reset / restore

BACKUPS = course.ROOT / ".attn" / "backups"


def _confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        fail("not resetting without confirmation: run it in a terminal or add --yes")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def cmd_reset(args: argparse.Namespace) -> int:
    steps = course.load_steps()
    try:
        chosen = steps if args.which == "all" else [course.find_step(steps, args.which)]
    except ValueError as e:
        fail(f"{e} or 'all'")
    plans = []
    for step in chosen:
        stub = course.shipped_stub(step)
        if stub is None:
            fail(f"cannot find the shipped stub of step {step.number} in git history "
                 f"(is this a git clone?); nothing was changed")
        current = (course.ROOT / step.exercise).read_text(encoding="utf-8")
        if current != stub:
            plans.append((step, stub, current))
    if not plans:
        print("Nothing to reset: " + ("every stub is" if args.which == "all" else "the stub is") + " as shipped.")
        return 0
    names = ", ".join(p[0].exercise for p in plans)
    if not _confirm(f"Put back the shipped stub of {names}? Your version is kept in {BACKUPS.relative_to(course.ROOT)}/.",
                    args.yes):
        print("Nothing changed.")
        return 1
    stamp = time.strftime("%Y%m%d-%H%M%S")
    BACKUPS.mkdir(parents=True, exist_ok=True)
    for step, stub, current in plans:
        backup = BACKUPS / f"{step.file}.{stamp}"
        backup.write_text(current, encoding="utf-8")
        (course.ROOT / step.exercise).write_text(stub, encoding="utf-8")
        print(f"step {step.number}: {step.exercise} is the shipped stub again; your version: "
              f"{backup.relative_to(course.ROOT)} (./attn restore {step.number} brings it back)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    steps = course.load_steps()
    step = step_arg(steps, args.number)
    backups = sorted(BACKUPS.glob(f"{step.file}.*")) if BACKUPS.exists() else []
    if not backups:
        fail(f"no backup of step {step.number} in {BACKUPS.relative_to(course.ROOT)}/", 1)
    newest = backups[-1]
    target = course.ROOT / step.exercise
    if not _confirm(f"Replace {step.exercise} with your backup {newest.name}?", args.yes):
        print("Nothing changed.")
        return 1
    current = target.read_text(encoding="utf-8")
    if not course.is_stub(current, step):  # keep work that is not a stub, too
        (BACKUPS / f"{step.file}.{time.strftime('%Y%m%d-%H%M%S')}.before-restore").write_text(current, encoding="utf-8")
    target.write_text(newest.read_text(encoding="utf-8"), encoding="utf-8")
    newest.unlink()
    print(f"step {step.number}: {step.exercise} restored from {newest.name}")
    return 0


# ---------------------------------------------------------------------------- self-check


def cmd_check(args: argparse.Namespace) -> int:
    steps = course.load_steps()
    problems = course.self_check(steps)
    for p in problems:
        print(f"attn check: {p}")
    if not problems:
        print(f"attn check: all {len(steps)} steps have a stub, a solution, hints, a docs page and tests")
    return 1 if problems else 0


# ---------------------------------------------------------------------------- full suite


def cmd_test(args: argparse.Namespace) -> int:
    preset = args.preset
    for cmd in (["cmake", "--preset", preset],
                ["cmake", "--build", "--preset", preset],
                ["ctest", "--preset", preset, *args.ctest_args]):
        print("+ " + " ".join(cmd), flush=True)
        if subprocess.run(cmd, cwd=course.ROOT).returncode != 0:
            return 1
    return 0


# ---------------------------------------------------------------------------- benchmarks


def cmd_bench(args: argparse.Namespace) -> int:
    """Builds the benchmark preset and runs bench/report.py: the reference's speed-ups and %peak."""
    preset, build = "bench", course.ROOT / "build" / "bench" / "bench"
    for cmd in (["cmake", "--preset", preset], ["cmake", "--build", "--preset", preset, "--target", "attn_bench"]):
        print("+ " + " ".join(cmd), flush=True)
        if subprocess.run(cmd, cwd=course.ROOT).returncode != 0:
            return 1
    benches = [build / "attn_bench"]
    # Your exercises get their own program (they define the same functions as the answer key);
    # if they do not compile yet, the suite runs without them.
    cmd = ["cmake", "--build", "--preset", preset, "--target", "attn_bench_exercises"]
    print("+ " + " ".join(cmd), flush=True)
    if subprocess.run(cmd, cwd=course.ROOT).returncode == 0:
        benches.append(build / "attn_bench_exercises")
    else:
        print("attn bench: your exercises do not compile yet (see above); benchmarking without them")
    extra = args.benchmark_args[1:] if args.benchmark_args[:1] == ["--"] else args.benchmark_args
    cmd = [sys.executable, str(course.ROOT / "bench" / "report.py"), "run", "--out", str(build / "bench-results.json")]
    cmd += ["--quick"] if args.quick else []
    for b in benches:
        cmd += ["--bench", str(b)]
    return subprocess.run(cmd + ["--", *extra], cwd=course.ROOT).returncode


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./attn", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="command")
    p = sub.add_parser("progress", help="build your exercises and show each step's status (default)")
    p.set_defaults(func=cmd_progress)
    p = sub.add_parser("step", help="run just one step's tests: what fails, what it looks like, the first failure",
                       description="Runs one step's tests and prints a summary: the test cases that "
                                   "fail, by kind, what the failures look like (a catalogued mistake, "
                                   "with its hint) and the first failure in full. --all prints every "
                                   "failure in full (Catch2's own output).")
    p.add_argument("number", help="the step number, e.g. 2")
    p.add_argument("catch_args", nargs=argparse.REMAINDER,
                   help="--all for every failure in full; the rest is passed to the Catch2 test "
                        "program, e.g. \"the card's*\" to pick tests or --rng-seed N")
    p.set_defaults(func=cmd_step)
    p = sub.add_parser("hint", help="show a step's next hint")
    p.add_argument("number", help="the step number")
    p.add_argument("which", nargs="?", type=int, help="show this hint (1 = gentlest)")
    p.set_defaults(func=cmd_hint)
    p = sub.add_parser("watch", help="re-run a step every time you save an exercise file")
    p.add_argument("number", nargs="?", help="the step (default: the first one not passing)")
    p.add_argument("--poll", type=float, default=0.5, help="seconds between checks without file events")
    p.add_argument("--show", type=int, metavar="N",
                   help="list at most N failing test cases (default: what fits the screen)")
    p.add_argument("--once", action="store_true", help="run once and stop (for scripts)")
    p.set_defaults(func=cmd_watch)
    p = sub.add_parser("explain", help="print the whole computation for a small example",
                       add_help=False)
    p.add_argument("explain_args", nargs=argparse.REMAINDER,
                   help="options of attn_explain (./attn explain --help lists them)")
    p.set_defaults(func=cmd_explain)
    p = sub.add_parser("lab", help="train a tiny attention model and watch it go unstable (docs/lab.md)",
                       add_help=False)
    p.add_argument("lab_args", nargs=argparse.REMAINDER,
                   help="--sweep, and the options of attn_lab (./attn lab --help lists them)")
    p.set_defaults(func=cmd_lab)
    p = sub.add_parser("reset", help="put a step's stub back as shipped (your version is backed up)")
    p.add_argument("which", help="a step number, or 'all'")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(func=cmd_reset)
    p = sub.add_parser("restore", help="put your newest backup of a step back")
    p.add_argument("number", help="the step number")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(func=cmd_restore)
    p = sub.add_parser("check", help="the course checks itself")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("test", help="the course's full test suite (what CI runs)")
    p.add_argument("--preset", default="dev", help="CMake preset to build and test (default: dev)")
    p.add_argument("ctest_args", nargs=argparse.REMAINDER, help="passed to ctest, e.g. -L step2")
    p.set_defaults(func=cmd_test)
    grade.register(sub)
    p = sub.add_parser("bench", help="benchmark the reference against the answer key, your exercises and peers")
    p.add_argument("--quick", action="store_true", help="every benchmark briefly (what CI runs)")
    p.add_argument("benchmark_args", nargs=argparse.REMAINDER,
                   help="passed to the benchmark programs, e.g. -- --benchmark_filter=^dot/")
    p.set_defaults(func=cmd_bench)
    # explain and lab pass everything after them to their program: argparse's REMAINDER does
    # not take a first argument that starts with '-' (./attn lab --help) on every Python.
    if argv[:1] == ["explain"]:
        return cmd_explain(argparse.Namespace(explain_args=argv[1:]))
    if argv[:1] == ["lab"]:
        return cmd_lab(argparse.Namespace(lab_args=argv[1:]))
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["progress"])
    return args.func(args)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except course.ManifestError as e:
        fail(str(e))
    except KeyboardInterrupt:
        sys.exit(130)
