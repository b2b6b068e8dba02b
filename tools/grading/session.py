"""One submission graded unit by unit, in separate processes: what ctest grading runs (the
`grade` presets: cmake/AttnGradeTests.cmake registers one ctest test per unit). It takes the
same steps as ./attn grade, with the same functions: the grading build compiles the
submission (GradingBuild.compile) into private copies of its judges and runners, each unit's
judge runs with the same settings (run_unit), and the reports are the same writers'
(write_reports). Only the order differs: `prepare` compiles and stores what each unit needs
in a state folder; `unit` runs one unit and stores its result; `report` writes the
submission's reports from the stored results.

The state folder holds the grader's own files only (the student's code runs in the sandbox,
which cannot write there); results are stored with pickle, read back by the same grader."""

from __future__ import annotations

import json
import pickle
import shutil
import time
from pathlib import Path

import course
from grading.build import GradingBuild
from grading.reports import write_reports
from grading.units import Judging, Submission, Unit, run_unit, unit_of

STATE = "prepared.json"  # what prepare found: the seed, the settings, each unit's programs


def prepare(build: GradingBuild, name: str, exercises: Path, state: Path, seed: int) -> Submission:
    """Compiles the submission in the grading build and stores what each unit needs."""
    shutil.rmtree(state, ignore_errors=True)
    (state / "units").mkdir(parents=True)
    started = time.monotonic()
    with build.locked():
        build.configure()
        build.check_sandbox()
        sub = build.submission(name, exercises, state, state / "bin")
    judging = build.judging
    units = {}
    for u in sub.units:
        units[u.key] = {"step": u.step.number, "hidden": u.hidden,
                        "exe": str(u.exe) if u.exe else None, "runner": str(u.runner) if u.runner else None}
        if u.result is not None or u.exe is None:
            unit_done(state, u if u.result else not_graded(u, sub.error))
    (state / STATE).write_text(json.dumps({
        "name": name, "exercises": str(sub.exercises), "seed": seed, "staging": str(build.staging),
        "sanitize": judging.sanitize, "sandbox": str(judging.sandbox) if judging.sandbox else None,
        "notes": sub.notes, "error": sub.error, "compile_seconds": time.monotonic() - started,
        "units": units}, indent=2) + "\n")
    return sub


def not_graded(u: Unit, why: str) -> Unit:
    u.result = course.StepResult(u.step, course.Status.NOT_GRADED, detail=why)
    return u


def unit_done(state: Path, u: Unit) -> None:
    with open(state / "units" / f"{u.key}.pickle", "wb") as f:
        pickle.dump(u, f)


def load_state(state: Path) -> dict:
    path = state / STATE
    if not path.exists():
        raise RuntimeError(f"{path} is missing: the submission was not prepared (the ctest test "
                           f"grade.prepare runs first; run ctest again)")
    return json.loads(path.read_text())


def stored_unit(state: Path, key: str) -> Unit | None:
    path = state / "units" / f"{key}.pickle"
    if not path.exists():
        return None
    with open(path, "rb") as f:
        return pickle.load(f)


def unit(state: Path, key: str) -> Unit:
    """Runs one prepared unit's judge (unless prepare already decided its result) and stores it."""
    data = load_state(state)
    if key not in data["units"]:
        raise RuntimeError(f"no unit {key} in {state / STATE}; expected one of {', '.join(data['units'])}")
    done = stored_unit(state, key)
    if done is not None and done.exe is None:
        return done  # does not compile, refused, no tests: decided when it was compiled
    entry = data["units"][key]
    step = course.find_step(course.load_steps(), str(entry["step"]))
    u = unit_of(step, entry["hidden"])
    u.exe, u.runner = Path(entry["exe"]), Path(entry["runner"])
    judging = Judging(data["sanitize"], Path(data["sandbox"]) if data["sandbox"] else None)
    run_unit(u, data["seed"], judging, Path(data["staging"]), Path(data["exercises"]))
    unit_done(state, u)
    return u


def report(state: Path, out: Path) -> Submission:
    """The submission's reports (results.json, junit.xml, report.txt) from the stored units,
    as ./attn grade writes them; a unit that did not run is "not graded"."""
    data = load_state(state)
    steps = {s.number: s for s in course.load_steps()}
    units = []
    for key, entry in data["units"].items():
        u = stored_unit(state, key)
        if u is None:
            u = not_graded(unit_of(steps[entry["step"]], entry["hidden"]),
                           "its ctest test did not run (or did not finish)")
        units.append(u)
    sub = Submission(data["name"], Path(data["exercises"]), out, units, notes=data["notes"], error=data["error"],
                     started=0.0)
    sub.finished = data["compile_seconds"] + sum(u.seconds for u in units)  # the time the work took
    write_reports(sub, data["seed"])
    return sub
