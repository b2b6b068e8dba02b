#!/usr/bin/env python3
"""How well the judge names mistakes it was not built from.

tests/diagnosis/independent/ holds student-style step files written without seeing the
catalogue of mistakes (course/mistakes/): wrong ones, one mistake each, and correct ones
written differently from the answer key (cases.json describes each). expected.json says,
for each wrong case, which catalogued mistakes name it rightly ([] where the catalogue has
none). Each case is linked into a runner with the answer key's other steps (attn_case_<case>,
tests/CMakeLists.txt) and its step's judge is run against it.

A case is
  right      when its diagnoses name only expected mistakes, and at least one
  silent     when there is no diagnosis (a failing step, but no name)
  WRONG      when a diagnosis names a mistake that is not expected, or a correct case fails
             or gets any diagnosis.
The check fails on any WRONG case and when fewer than --minimum of the wrong cases are
right; it prints every case and the figures.

The course's own correct variants (tests/variants/, --variants) run as correct cases too.

  measure.py --cases DIR --bin DIR [--variants DIR] [--minimum 0.8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path


def run_case(case: dict, bin_dir: Path, tmp: Path) -> tuple[bool, set[str], str]:
    """(the step's tests all pass, the mistakes named, the output if something broke)."""
    name, step = case["case"], case["step"]
    diagnosis, report = tmp / f"{name}.json", tmp / f"{name}.xml"
    env = {**os.environ, "ATTN_RUNNER": str(bin_dir / f"attn_case_{name}"),
           "ATTN_DIAGNOSIS_FILE": str(diagnosis)}
    env.pop("ATTN_SANDBOX", None)
    proc = subprocess.run([str(bin_dir / f"attn_test_exercises_step{step}"), "--reporter", "xml",
                           "--out", str(report), "--rng-seed", "1"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace", timeout=300)
    if proc.returncode < 0 or not report.exists():
        return False, set(), proc.stdout[-3000:]
    root = ET.parse(report).getroot()
    passed = all(r.get("success") == "true" for r in root.iter("OverallResult"))
    named: set[str] = set()
    if diagnosis.exists():
        for d in json.loads(diagnosis.read_text())["diagnoses"]:
            named |= {f"{m['step']}.{m['id']}" for m in d["one_of"]}
    return passed, named, ""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=Path, required=True, help="tests/diagnosis/independent")
    p.add_argument("--bin", type=Path, required=True, help="the build's tests/ folder")
    p.add_argument("--minimum", type=float, default=0.8, help="the least share of wrong cases named rightly")
    p.add_argument("--variants", type=Path, help="tests/variants: correct step files, run as correct cases too")
    args = p.parse_args()
    cases = json.loads((args.cases / "cases.json").read_text())["cases"]
    wrong_cases = sum(not c["correct"] for c in cases)
    for variant in sorted(args.variants.glob("step*_*.cpp")) if args.variants else []:
        cases.append({"case": f"variant_{variant.stem}", "step": int(variant.stem[4:].split("_")[0]),
                      "correct": True, "mistake": ""})
    expected = json.loads((args.cases / "expected.json").read_text())["expected"]
    counts = {"right": 0, "silent": 0, "WRONG": 0}
    in_catalogue = right_in_catalogue = 0
    correct_ok = correct_total = 0
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            passed, named, broken = run_case(case, args.bin, Path(tmp))
            if case["correct"]:
                correct_total += 1
                ok = passed and not named and not broken
                correct_ok += ok
                verdict = "right" if ok else "WRONG"
                why = "" if ok else (broken or f"fails its tests (named: {sorted(named)})" if not passed
                                     else f"passes but is named {sorted(named)}")
            else:
                if case["case"] not in expected:
                    problems.append(f"{case['case']}: not in expected.json; expected every wrong case there")
                    continue
                want = set(expected[case["case"]])
                in_catalogue += bool(want)
                if broken:
                    verdict, why = "WRONG", broken
                elif passed:
                    verdict, why = "silent", "its step's tests all pass"
                elif not named:
                    verdict, why = "silent", ""
                elif named <= want:
                    verdict, why = "right", ""
                    right_in_catalogue += 1
                else:
                    verdict, why = "WRONG", f"named {sorted(named)}, expected {sorted(want) or 'nothing'}"
            counts[verdict] += 1
            print(f"{verdict:<7} {case['case']:<34} {', '.join(sorted(named)) or '-'}"
                  + (f"   ({why})" if why else ""), flush=True)
            if verdict == "WRONG":
                problems.append(f"{case['case']}: {why}")
    share = right_in_catalogue / wrong_cases if wrong_cases else 1.0
    print(f"\n{wrong_cases} wrong cases: {right_in_catalogue} named rightly ({share:.0%}), "
          f"{counts['silent']} without a name, {counts['WRONG'] - (correct_total - correct_ok)} named wrongly; "
          f"{in_catalogue} of them are mistakes the catalogue holds, {right_in_catalogue} of those named "
          f"({right_in_catalogue / in_catalogue:.0%})." if in_catalogue else "")
    print(f"{correct_total} correct cases (the course's variants among them): {correct_ok} pass with no diagnosis.")
    if share < args.minimum:
        problems.append(f"{share:.0%} of the wrong cases are named rightly; expected at least {args.minimum:.0%}")
    for line in problems:
        print("FAIL " + line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
