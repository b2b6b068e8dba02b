"""The grader's reports (tools/grade.py): the console table and report.txt, Gradescope's
results.json and junit.xml per submission; gradebook.csv and mistakes.csv per class."""

from __future__ import annotations

import csv
import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import course
from grading.units import Submission, cut

DETAILS_LIMIT = 60000   # characters of report.txt's units after its table
ZERO_STATUSES = frozenset({course.Status.DOES_NOT_COMPILE, course.Status.REFUSED, course.Status.TIMED_OUT,
                           course.Status.CRASHED, course.Status.MEMORY_ERROR, course.Status.NO_TESTS,
                           course.Status.NOT_GRADED})


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
