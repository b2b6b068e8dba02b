#!/usr/bin/env python3
"""The catalogue of typical mistakes checks itself, one step at a time: every entry of the
step (course/mistakes/) must fail the step's tests, and the judge must name it, and only it,
as what the failures look like. A failure names the entry that breaks a rule.

  check_mistakes.py --step N --list PROGRAM --judge PROGRAM --runner PROGRAM

--list is attn_mistakes, --judge the step's test program of the exercises (the judge, which
diagnoses), --runner the mistakes runner (the answer key with one entry's functions wrong,
chosen by ATTN_MISTAKE). That correct solutions get no diagnosis is checked apart: the
course's variants and independently written ones go through the judge in
diagnosis.independent (tests/diagnosis/measure.py)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path


# Seconds the judge may take beyond its budget to write its report (tools/course.py's margin).
JUDGE_MARGIN = 60.0


def check(key: str, args: argparse.Namespace, tmp: Path) -> list[str]:
    diagnosis = tmp / f"{key}.json"
    report = tmp / f"{key}.xml"
    # The judge's own time budget for all calls (ATTN_TIME_BUDGET) is the entry's time, not
    # the one compiled in for an optimised build: a sanitized build's is longer, and a judge
    # whose budget runs out fails the rest of its calls as "not run", which names no mistake.
    env = {**os.environ, "ATTN_RUNNER": args.runner, "ATTN_MISTAKE": key,
           "ATTN_DIAGNOSIS_FILE": str(diagnosis), "ATTN_TIME_BUDGET": f"{args.timeout:g}"}
    env.pop("ATTN_SANDBOX", None)
    proc = subprocess.run([args.judge, "--reporter", "junit", "--out", str(report)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", timeout=args.timeout + JUDGE_MARGIN)
    where = f"mistake {key} (course/mistakes/step{key.split('.')[0]}_*.cpp)"
    if proc.returncode < 0 or not report.exists():
        return [f"{where}: the step's tests did not finish (exit {proc.returncode}):\n{proc.stdout[-2000:]}"]
    cases = list(ET.parse(report).getroot().iter("testcase"))
    failed = [c for c in cases if any(x.tag in ("failure", "error") for x in c)]
    if not failed:
        return [f"{where}: all {len(cases)} test cases of step {args.step} pass; expected at least one "
                f"to fail (the tests do not catch this mistake, or the entry is not a mistake)"]
    try:
        found = json.loads(diagnosis.read_text())["diagnoses"]
    except (OSError, ValueError, KeyError):
        return [f"{where}: the judge wrote no diagnosis file:\n{proc.stdout[-2000:]}"]
    step, ident = key.split(".", 1)
    named = [{f"{m['step']}.{m['id']}" for m in d["one_of"]} for d in found]
    said = " ".join(x.get("message", "") + " " + (x.text or "") for c in failed for x in c)
    if not named and "within the step's time budget" in said:
        return [f"{where}: the judge's time budget of {args.timeout:g} s ran out, so {len(failed)} test cases "
                f"failed as not run and none was diagnosed; expected the entry to finish within it "
                f"(make its inputs smaller, or raise --timeout for this build)"]
    if not named:
        return [f"{where}: {len(failed)} test cases fail but no failure was diagnosed as it; expected "
                f"its name in the failure messages (is the failing output one the judge can see, "
                f"checked with ATTN_CHECK_* or ATTN_REQUIRE_INVALID?)"]
    others = [sorted(n) for n in named if key not in n]
    if others:
        return [f"{where}: the failures were also diagnosed as {others}; expected only this entry "
                f"(make the entries' behaviour differ, or the tests tell them apart)"]
    return []


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--step", type=int, required=True)
    p.add_argument("--list", required=True)
    p.add_argument("--judge", required=True)
    p.add_argument("--runner", required=True)
    p.add_argument("--timeout", type=float, default=120,
                   help="seconds each entry's calls may take together (the judge's budget)")
    p.add_argument("--minimum", type=int, default=0, help="the fewest entries the step may have")
    args = p.parse_args()
    keys = subprocess.run([args.list, "--list", str(args.step)], stdout=subprocess.PIPE, text=True,
                          check=True).stdout.split()
    problems: list[str] = []
    if len(keys) < args.minimum:
        problems.append(f"step {args.step}: {len(keys)} catalogued mistakes; expected at least {args.minimum} "
                        f"(course/mistakes/step{args.step}_*.cpp)")
    slowest = (0.0, "")
    with tempfile.TemporaryDirectory() as tmp:
        for key in keys:
            start = time.monotonic()
            problems += check(key, args, Path(tmp))
            slowest = max(slowest, (time.monotonic() - start, key))
    for p_ in problems:
        print(p_, file=sys.stderr)
    print(f"step {args.step}: {len(keys)} catalogued mistakes, {len(keys) - len(problems)} fail the tests "
          f"and are diagnosed as themselves; the slowest, {slowest[1] or 'none'}, took {slowest[0]:.1f} s "
          f"of the {args.timeout:g} s each may take")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
