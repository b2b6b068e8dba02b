#!/usr/bin/env python3
"""attn: the one command of the course "Attention weights, step by step".

Run it as ./attn from the top of the repository (that wrapper installs what is missing
first). Commands:

  progress          build your exercises and show each step's status (the default)
  step N            run just step N's tests, with full failure output
  hint N [K]        show step N's next hint (or hint K); hints go from a nudge to nearly the answer
  test              the course's full test suite (answer key, stubs, reference, mutants, docs)

Your progress uses build/student; the full suite uses build/dev.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course  # noqa: E402

STUDENT = "student"


class Style:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def status(self, result: course.StepResult) -> str:
        text = result.status
        if result.status == "failing":
            text = f"failing ({result.passed} of {result.total} checks pass)"
        code = {"passed": "32", "failing": "33", "not started": "2"}.get(result.status, "31")
        return self(text, code)


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"attn: {message}", file=sys.stderr)
    sys.exit(code)


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
    print(f"(building and testing {course.ROOT.name}/exercises; first run compiles for a minute or two)\n")
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
    earned = sum(r.points for r in results)
    total = sum(s.points for s in steps)
    print(f"  {'':<5} {'total':<{width}}  {'':<34} {earned:g}/{total:g}\n")
    nxt = next((r for r in results if r.status != "passed"), None)
    if nxt is None:
        print(style("Every step passes. Well done!", "32;1"))
        return 0
    s = nxt.step
    print(style(f"Next: step {s.number}, {s.title}", "1"))
    print(f"  edit  {s.exercise}")
    print(f"  read  {s.docs_page}")
    print(f"  run   ./attn step {s.number}   (just this step, with full failure output)")
    first = course.hints(s)
    if first:
        print(f"  hint  {first[0].splitlines()[0]}")
        print(f"        (./attn hint {s.number} for the next one)")
    return 0


# ---------------------------------------------------------------------------- one step


def cmd_step(args: argparse.Namespace) -> int:
    steps = course.load_steps()
    try:
        step = course.find_step(steps, args.number)
    except ValueError as e:
        fail(str(e))
    configure_student()
    for target in (f"attn_exercises_step{step.number}", f"attn_test_exercises_step{step.number}"):
        result = course.build(STUDENT, [target])
        if not result.ok:
            print(course.compiler_errors(result.output, limit=60))
            print(f"\nstep {step.number} does not compile yet: fix the first error above in {step.exercise}")
            return 1
    exe = course.test_executable(STUDENT, "exercises", step)
    colour = ["--use-colour", "yes"] if course.colour_enabled(sys.stdout) else []
    try:
        proc = subprocess.run([str(exe), *colour, *args.catch_args], timeout=step.timeout)
    except subprocess.TimeoutExpired:
        print(f"\nstep {step.number}: no result after {step.timeout:g} s: is there an endless loop?")
        return 1
    if proc.returncode < 0:
        print(f"\nstep {step.number}: the tests crashed (signal {-proc.returncode}); "
              f"look for out-of-bounds reads or writes in {step.exercise}")
    return 0 if proc.returncode == 0 else 1


# ---------------------------------------------------------------------------- hints


def cmd_hint(args: argparse.Namespace) -> int:
    steps = course.load_steps()
    try:
        step = course.find_step(steps, args.number)
    except ValueError as e:
        fail(str(e))
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./attn", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="command")
    p = sub.add_parser("progress", help="build your exercises and show each step's status (default)")
    p.set_defaults(func=cmd_progress)
    p = sub.add_parser("step", help="run just one step's tests, with full failure output")
    p.add_argument("number", help="the step number, e.g. 2")
    p.add_argument("catch_args", nargs=argparse.REMAINDER,
                   help="passed to the Catch2 test program, e.g. \"the card's*\" to pick tests")
    p.set_defaults(func=cmd_step)
    p = sub.add_parser("hint", help="show a step's next hint")
    p.add_argument("number", help="the step number")
    p.add_argument("which", nargs="?", type=int, help="show this hint (1 = gentlest)")
    p.set_defaults(func=cmd_hint)
    p = sub.add_parser("test", help="the course's full test suite (what CI runs)")
    p.add_argument("--preset", default="dev", help="CMake preset to build and test (default: dev)")
    p.add_argument("ctest_args", nargs=argparse.REMAINDER, help="passed to ctest, e.g. -L step2")
    p.set_defaults(func=cmd_test)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["progress"])
    return args.func(args)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
