"""The grader's environment: the variables a graded unit needs (its runner, its time budget,
the sanitizers' options) go to that unit's test program alone, and the grader's own
process environment is left as it was. No build: the test program is replaced by a
recorder of what it would have been given. Run by ctest (tests/CMakeLists.txt) as:
    python3 tests/grading/test_grader_env.py
"""

import os
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import course  # noqa: E402
from grading import build as grading_build, units  # noqa: E402


class UnitEnvironment(unittest.TestCase):
    def run_one(self, sanitize: bool) -> dict[str, str]:
        seen: dict[str, str] = {}

        def record(exe, step, extra_args=None, env=None):
            seen.update(env or {})
            return course.StepResult(step, "passed", passed=1, total=1)

        saved = course.run_step_tests
        course.run_step_tests = record
        try:
            with tempfile.TemporaryDirectory() as tmp:
                build = grading_build.GradingBuild(Path(tmp), None, sanitize, 1, sandbox=False)
                unit = units.Unit(build.steps[0], exe=Path(tmp) / "judge", runner=Path(tmp) / "runner")
                units.run_unit(unit, 1, build.judging, build.staging, Path(tmp) / "exercises")
        finally:
            course.run_step_tests = saved
        self.assertEqual(unit.result.status, "passed", "run_unit keeps the test program's outcome")
        return seen

    def test_sanitizer_options_reach_the_unit_only(self):
        before = dict(os.environ)
        env = self.run_one(sanitize=True)
        for name, value in units.SANITIZER_ENV.items():
            self.assertEqual(env.get(name), value, f"run_unit passes {name} to the sanitized unit's program")
        self.assertEqual(dict(os.environ), before, "grading under the sanitizers leaves os.environ unchanged")

    def test_no_sanitizer_options_without_sanitize(self):
        env = self.run_one(sanitize=False)
        for name in units.SANITIZER_ENV:
            self.assertNotIn(name, env, f"run_unit passes no {name} when not sanitizing")
        self.assertIn("ATTN_RUNNER", env, "run_unit names the unit's runner")


if __name__ == "__main__":
    unittest.main()
