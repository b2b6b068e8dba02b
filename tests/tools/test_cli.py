"""Tests of the command-line tools: attn_explain and the student CLI's hint, check, reset
and restore; the reading of Catch2's XML reports (v2 and v3) and the judge's diagnosis file,
the points weighted by test-case kind and the report of ./attn step N; and, in a clone with
a step 2 that divides by d, ./attn step 2 itself (it builds the clone's build/student first:
a few minutes; ATTN_SKIP_STUDENT_BUILD=1 skips it). Run by ctest (tests/CMakeLists.txt),
which skips that one, as:
    python3 tests/tools/test_cli.py <path of attn_explain>
and by CI (.ci/run), once, for that one alone:
    python3 tests/tools/test_cli.py <path of attn_explain> StudentStepTest
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPLAIN = None  # set from argv
sys.path.insert(0, str(ROOT / "tools"))
import attn  # noqa: E402
import course  # noqa: E402

MANIFEST = json.loads((ROOT / "course" / "steps.json").read_text())


def manifest_weights(number: int) -> dict[str, float]:
    """The kinds' weights for step `number`, read from the manifest here, not by the tools."""
    weights = {k: v["weight"] for k, v in MANIFEST["kinds"].items()}
    weights.update(next(s for s in MANIFEST["steps"] if s["number"] == number).get("kinds", {}))
    return weights


def run(cmd, cwd=ROOT, input_text=None):
    return subprocess.run(cmd, cwd=cwd, input=input_text, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)


class ExplainTest(unittest.TestCase):
    def test_the_cards_example_shows_the_score_minus_one_half_under_the_causal_mask(self):
        p = run([EXPLAIN])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("[2.0, 0.5, 1.0, -1.5]", p.stdout)
        self.assertIn("-1 / 2 = -0.5000", p.stdout)
        self.assertIn("-inf", p.stdout)  # the causal mask is shown
        for heading in ("raw scores", "scaled scores", "masked scores", "weights", "row sums"):
            self.assertIn(heading, p.stdout)

    def test_matrices_from_the_command_line_give_hand_checkable_weights(self):
        # q = [1, 0], keys [0, 0] and [2, 0]: scores 0 and 2 / sqrt(2), weights 1/(1+e^sqrt2), ...
        p = run([EXPLAIN, "--q", "1,0", "--k", "0,0; 2,0", "--no-causal", "--precision", "6"])
        self.assertEqual(p.returncode, 0, p.stderr)
        import math
        a1 = 1 / (1 + math.exp(-math.sqrt(2)))
        self.assertIn(f"{1 - a1:.6f}", p.stdout)
        self.assertIn(f"{a1:.6f}", p.stdout)

    def test_matrices_from_csv_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            q = Path(tmp, "q.csv"); q.write_text("# queries\n1, 0\n0, 1\n")
            k = Path(tmp, "k.csv"); k.write_text("1,0\n0,1\n")
            p = run([EXPLAIN, "--q-csv", str(q), "--k-csv", str(k)])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("1.0000", p.stdout)

    def test_bad_input_gets_a_clear_message_and_exit_status_2(self):
        cases = [
            ([EXPLAIN, "--q", "1,x"], "not a float"),
            ([EXPLAIN, "--q", "1,2;3"], "same length"),
            ([EXPLAIN, "--q", "1,2", "--k", "1,2,3"], "same dimension"),
            ([EXPLAIN, "--q-csv", "/nonexistent/q.csv"], "cannot open"),
            ([EXPLAIN, "--q"], "needs a value"),
            ([EXPLAIN, "--frobnicate"], "unknown option"),
            ([EXPLAIN, "--precision", "12"], "0 to 9"),
        ]
        for cmd, message in cases:
            with self.subTest(cmd=cmd[1:]):
                p = run(cmd)
                self.assertEqual(p.returncode, 2)
                self.assertIn(message, p.stderr)
                self.assertNotIn("Traceback", p.stderr)

    def test_help_documents_every_option(self):
        p = run([EXPLAIN, "--help"])
        self.assertEqual(p.returncode, 0)
        for option in ("--q", "--k", "--q-csv", "--k-csv", "--no-causal", "--precision"):
            self.assertIn(option, p.stdout)


class StudentCliTest(unittest.TestCase):
    cli = [sys.executable, str(ROOT / "tools" / "attn.py")]

    def test_the_course_checks_itself(self):
        p = run(self.cli + ["check"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_hints_come_one_at_a_time_and_unknown_steps_are_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            clone = Path(tmp, "course")
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            cli = [sys.executable, str(clone / "tools" / "attn.py")]
            first = run(cli + ["hint", "1"], cwd=clone)
            second = run(cli + ["hint", "1"], cwd=clone)
            self.assertIn("hint 1 of", first.stdout)
            self.assertIn("hint 2 of", second.stdout)
            bad = run(cli + ["hint", "99"], cwd=clone)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn("unknown step '99'", bad.stderr)

    def test_reset_puts_the_stub_back_and_keeps_the_students_work(self):
        with tempfile.TemporaryDirectory() as tmp:
            clone = Path(tmp, "course")
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            cli = [sys.executable, str(clone / "tools" / "attn.py")]
            stub_path = clone / "exercises" / "step1_dot.cpp"
            shipped = stub_path.read_text()
            work = (clone / "solutions" / "step1_dot.cpp").read_text()
            stub_path.write_text(work)
            refused = run(cli + ["reset", "1"], cwd=clone, input_text="")
            self.assertNotEqual(refused.returncode, 0)  # no terminal, no --yes: nothing happens
            self.assertEqual(stub_path.read_text(), work)
            done = run(cli + ["reset", "1", "--yes"], cwd=clone)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(stub_path.read_text(), shipped)
            backups = list((clone / ".attn" / "backups").glob("step1_dot.cpp.*"))
            self.assertEqual(len(backups), 1)
            self.assertEqual(backups[0].read_text(), work)
            back = run(cli + ["restore", "1", "--yes"], cwd=clone)
            self.assertEqual(back.returncode, 0, back.stderr)
            self.assertEqual(stub_path.read_text(), work)


# Catch2's XML reports as v2 (root <Catch>) and v3 (root <Catch2TestRun>) write them: the
# same test cases, with a section, INFO, an exception, a crash and an untagged case.
CASES = """
    <TestCase name="the card's query and key have scaled score -0.5" tags="[card][step2]" filename="t.cpp" line="57">
      <Failure filename="t.cpp" line="61">
        scaled_score(q, k): element 0 is wrong (1 of 1 elements are)
    expected   -0.5
    actual     -0.25
  This looks like: divided by d instead of sqrt(d). Why. (./attn hint 2 1)
  seed 42 (rerun with --rng-seed 42)
      </Failure>
      <OverallResult success="false"/>
    </TestCase>
    <TestCase name="the card's vectors give the same score inside a score matrix" tags="[step2][card]" filename="t.cpp" line="87">
      <OverallResult success="true"/>
    </TestCase>
    <TestCase name="scaling divides by the square root of d, not by d" tags="[step2][property]" filename="t.cpp" line="65">
      <Section name="d = 4" filename="t.cpp" line="66">
        <Info>
          d := 4
        </Info>
        <Expression success="false" type="CHECK" filename="t.cpp" line="70">
          <Original>
            got == expected
          </Original>
          <Expanded>
            1.0f == 2.0f
          </Expanded>
        </Expression>
        <OverallResults successes="0" failures="1" expectedFailures="0"/>
      </Section>
      <Expression success="false" type="REQUIRE_NOTHROW" filename="t.cpp" line="72">
        <Original>
          attn::scores(Q, K, S)
        </Original>
        <Expanded>
          attn::scores(Q, K, S)
        </Expanded>
        <Exception filename="t.cpp" line="72">
          the runner ended
        </Exception>
      </Expression>
      <OverallResult success="false"/>
    </TestCase>
    <TestCase name="an untagged hidden test counts as a property" tags="[step2]" filename="t.cpp" line="90">
      <OverallResult success="true"/>
    </TestCase>
    <TestCase name="a NaN in one query makes that query's scores NaN and no others" tags="[step2][special]" filename="t.cpp" line="172">
      <Exception filename="t.cpp" line="172">
        std::bad_alloc
      </Exception>
      <OverallResult success="false"/>
    </TestCase>
    <TestCase name="an empty query or key set gives an empty score matrix" tags="[step2][special]" filename="t.cpp" line="125">
      <OverallResult success="true"/>
    </TestCase>
    <TestCase name="mismatched query and key lengths are refused" tags="[step2][input]" filename="t.cpp" line="138">
      <FatalErrorCondition filename="t.cpp" line="138">
        SIGFPE - Floating point error signal
      </FatalErrorCondition>
      <OverallResult success="false"/>
    </TestCase>
"""
REPORTS = {
    2: f'''<?xml version="1.0" encoding="UTF-8"?>
<Catch name="attn_test_exercises_step2">
  <Randomness seed="42"/>
  <Group name="attn_test_exercises_step2">{CASES}
    <OverallResults successes="3" failures="5" expectedFailures="0"/>
  </Group>
  <OverallResults successes="3" failures="5" expectedFailures="0"/>
</Catch>
''',
    3: f'''<?xml version="1.0" encoding="UTF-8"?>
<Catch2TestRun name="attn_test_exercises_step2" rng-seed="42" xml-format-version="3" catch2-version="3.4.0">{CASES}
  <OverallResults successes="3" failures="5" expectedFailures="0" skips="0"/>
  <OverallResultsCases successes="3" failures="4" expectedFailures="0" skips="0"/>
</Catch2TestRun>
'''}
DIAGNOSES = {"diagnoses": [
    {"checks": 2, "one_of": [{"step": 2, "id": "divides_by_d", "name": "divided by d instead of sqrt(d)",
                              "why": "Why.", "hint": 1,
                              "text": "divided by d instead of sqrt(d). Why. (./attn hint 2 1)"}]},
    {"checks": 1, "one_of": [{"step": 2, "id": "a", "name": "mistake a", "why": "A.", "hint": 2,
                              "text": "mistake a. A. (./attn hint 2 2)"},
                             {"step": 2, "id": "b", "name": "mistake b", "why": "B.", "hint": 3,
                              "text": "mistake b. B. (./attn hint 2 3)"}]}],
    "diagnosed_checks": 3}
# (name, kind, passed) of CASES, as written above.
EXPECTED_CASES = [("the card's query and key have scaled score -0.5", "card", False),
                  ("the card's vectors give the same score inside a score matrix", "card", True),
                  ("scaling divides by the square root of d, not by d", "property", False),
                  ("an untagged hidden test counts as a property", "property", True),
                  ("a NaN in one query makes that query's scores NaN and no others", "special", False),
                  ("an empty query or key set gives an empty score matrix", "special", True),
                  ("mismatched query and key lengths are refused", "input", False)]


def fake_judge(folder: Path, report: str, diagnoses: dict | None, exit_code: int = 1) -> Path:
    """A stand-in for a step's test program: it writes `report` where --out says, the
    diagnosis file where ATTN_DIAGNOSIS_FILE says, and the judge's seed line."""
    (folder / "report.xml").write_text(report)
    (folder / "diagnosis.json").write_text(json.dumps(diagnoses) if diagnoses is not None else "")
    judge = folder / "judge"
    judge.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import os, shutil, sys
        print("attn: random seed 42 (rerun with --rng-seed 42 to reproduce)", file=sys.stderr)
        shutil.copyfile({str(folder / "report.xml")!r}, sys.argv[sys.argv.index("--out") + 1])
        if {diagnoses is not None!r} and os.environ.get("ATTN_DIAGNOSIS_FILE"):
            shutil.copyfile({str(folder / "diagnosis.json")!r}, os.environ["ATTN_DIAGNOSIS_FILE"])
        sys.exit({exit_code})
        """))
    judge.chmod(0o755)
    return judge


class CatchReportTest(unittest.TestCase):
    step = course.find_step(course.load_steps(), "2")

    def run_fake(self, report: str, diagnoses: dict | None = DIAGNOSES) -> course.StepResult:
        with tempfile.TemporaryDirectory() as tmp:
            return course.run_step_tests(fake_judge(Path(tmp), report, diagnoses), self.step)

    def test_both_catch2_versions_give_each_case_its_kind_and_its_failure_texts(self):
        for version, report in REPORTS.items():
            with self.subTest(catch2=version):
                r = self.run_fake(report)
                self.assertEqual([(c.name, c.kind, c.passed) for c in r.cases], EXPECTED_CASES)
                self.assertEqual((r.status, r.passed, r.total, r.seed), ("failing", 3, 7, 42))
                by_name = {c.name: c for c in r.cases}
                card = by_name[EXPECTED_CASES[0][0]].failures
                self.assertEqual(len(card), 1)
                self.assertTrue(card[0].startswith("scaled_score(q, k): element 0 is wrong"), card[0])
                self.assertIn("    actual     -0.25", card[0])  # the message's own indentation is kept
                scaling = by_name[EXPECTED_CASES[2][0]].failures
                self.assertEqual(len(scaling), 2)  # the section's check and the exception
                self.assertIn("d := 4", scaling[0])  # its INFO
                self.assertIn("got == expected", scaling[0])
                self.assertIn("1.0f == 2.0f", scaling[0])  # the expansion
                self.assertIn("the runner ended", scaling[1])
                self.assertIn("std::bad_alloc", by_name[EXPECTED_CASES[4][0]].failures[0])
                self.assertIn("SIGFPE", by_name[EXPECTED_CASES[6][0]].failures[0])
                self.assertEqual(r.failed_checks, 5)
                self.assertEqual(len(r.failures), 4)  # one "<case>: <texts>" per failing case

    def test_points_follow_the_manifests_weights_of_the_kinds_passed(self):
        weights = manifest_weights(2)
        passed = sum(weights.get(kind, 1) for _, kind, ok in EXPECTED_CASES if ok)
        total = sum(weights.get(kind, 1) for _, kind, ok in EXPECTED_CASES)
        points = next(s for s in MANIFEST["steps"] if s["number"] == 2)["points"]
        r = self.run_fake(REPORTS[2])
        self.assertEqual(r.points, round(points * passed / total, 1))
        self.assertEqual(r.kind_counts(), [("card", 1, 2), ("property", 1, 2), ("special", 1, 2), ("input", 0, 1)])
        for kind, p, t in r.kind_counts():
            self.assertIn(f"{MANIFEST['kinds'][kind]['label']}: {p} of {t} passed", r.kind_summary())

    def test_the_diagnosis_file_is_read_and_a_missing_or_bad_one_is_no_diagnosis(self):
        r = self.run_fake(REPORTS[3])
        self.assertEqual([[m.id for m in d.one_of] for d in r.diagnoses], [["divides_by_d"], ["a", "b"]])
        self.assertEqual(r.diagnoses[0].short, "looks like: divided by d instead of sqrt(d) (./attn hint 2 1)")
        self.assertEqual(self.run_fake(REPORTS[3], None).diagnoses, [])
        self.assertEqual(self.run_fake(REPORTS[3], {"diagnoses": "garbage"}).diagnoses, [])

    def test_a_stub_is_not_started_and_a_missing_report_is_a_crash(self):
        stub = "".join(f'<TestCase name="{name}" tags="[step2][{kind}]"><Exception filename="t.cpp" line="1">'
                       f"not implemented: step 2 (scaling by 1/sqrt(d)): attn::scores -- edit exercises/"
                       f'step2_scaling.cpp</Exception><OverallResult success="false"/></TestCase>'
                       for name, kind, _ in EXPECTED_CASES)
        stub = f'<Catch2TestRun name="x" rng-seed="42">{stub}</Catch2TestRun>'
        r = self.run_fake(stub)
        self.assertEqual((r.status, r.passed, r.points), ("not started", 0, 0.0))
        with tempfile.TemporaryDirectory() as tmp:
            judge = Path(tmp, "judge")
            judge.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(3)\n")
            judge.chmod(0o755)
            r = course.run_step_tests(judge, self.step)
        self.assertEqual(r.status, "crashed")
        self.assertIn("no test report (exit code 3)", r.detail)

    def test_the_step_report_heads_lists_diagnoses_shows_one_failure_and_ends_with_the_seed(self):
        r = self.run_fake(REPORTS[2])
        lines = attn.step_report(r, attn.Style(False), 100)
        text = "\n".join(lines)
        self.assertTrue(lines[0].startswith("Step 2 (scaling by 1/sqrt(d)): failing, 3 of 7 test cases pass, "
                                            f"{r.points:g}/15 points"), lines[0])
        self.assertIn("the cards' examples: 1 of 2 passed", text)
        for name, kind, ok in EXPECTED_CASES:
            self.assertEqual(bool(re.search(rf"^  \[{kind}\] +{re.escape(name)}$", text, re.M)), not ok, name)
        self.assertIn("What this looks like:\n  divided by d instead of sqrt(d). Why. (./attn hint 2 1)", text)
        self.assertIn("  one of (the failures cannot tell them apart):\n    - mistake a. A. (./attn hint 2 2)\n"
                      "    - mistake b. B. (./attn hint 2 3)", text)
        first = text.index("First failure, in \"the card's query and key have scaled score -0.5\":")
        self.assertIn("expected   -0.5", text[first:])
        self.assertNotIn("seed 42 (rerun", text[first:])  # the judge's own lines are not repeated
        self.assertIn("(4 more failing checks: ./attn step 2 --all)", text)
        self.assertEqual(lines[-1], "Random seed 42: rerun with ./attn step 2 --rng-seed 42")

    def test_watch_cuts_the_report_to_one_screen(self):
        r = self.run_fake(REPORTS[2])
        lines = attn.step_report(r, attn.Style(False), 80, max_lines=12)
        self.assertLessEqual(len(lines), 12)
        self.assertTrue(lines[0].startswith("Step 2"))
        self.assertTrue(any(re.match(r"  \.\.\. and \d+ more$", l) for l in lines), lines)
        self.assertIn("What this looks like:", lines)



class WatchTest(unittest.TestCase):
    """./attn watch runs each step it needs once per save (no build: step_status is replaced
    by a recorder whose steps 1 and 2 pass)."""

    def watch_once(self, number):
        import argparse
        import contextlib
        import io
        calls = []

        def status(preset, flavour, step, steps):
            calls.append(step.number)
            return course.StepResult(step, "passed" if step.number <= 2 else "not started")

        saved = course.step_status, attn.configure_student
        course.step_status, attn.configure_student = status, lambda *a, **k: None
        try:
            with contextlib.redirect_stdout(io.StringIO()) as out:
                code = attn.cmd_watch(argparse.Namespace(number=number, poll=0.1, once=True, show=None))
        finally:
            course.step_status, attn.configure_student = saved
        return code, calls, out.getvalue()

    def test_the_current_step_runs_once_per_save(self):
        code, calls, out = self.watch_once(None)
        self.assertEqual(code, 0)
        self.assertEqual(calls, [1, 2, 3], "watch runs steps 1 and 2 (passing) and step 3 once each")
        self.assertIn("Step 3", out)

    def test_a_given_step_runs_once_per_save(self):
        code, calls, out = self.watch_once("2")
        self.assertEqual((code, calls), (0, [2]))
        self.assertIn("Step 2", out)

def divides_by_d() -> str:
    """Step 2 as a student who divides by d instead of sqrt(d) writes it."""
    right = (ROOT / "solutions" / "step2_scaling.cpp").read_text()
    wrong = right.replace("attn::dot(q, k) / std::sqrt(static_cast<float>(q.size()))",
                          "attn::dot(q, k) / static_cast<float>(q.size())")
    assert wrong != right, "solutions/step2_scaling.cpp no longer divides by std::sqrt(q.size())"
    return wrong


@unittest.skipIf(os.environ.get("ATTN_SKIP_STUDENT_BUILD"), "ATTN_SKIP_STUDENT_BUILD is set")
class StudentStepTest(unittest.TestCase):
    def test_a_student_who_divides_by_d_reads_a_short_report_naming_the_mistake(self):
        with tempfile.TemporaryDirectory() as tmp:
            clone = Path(tmp, "course")
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            tools = [p.relative_to(ROOT) for p in (ROOT / "tools").glob("**/*.py")]
            for path in [*tools, Path("course/steps.json")]:  # the working tree's, under test
                (clone / path).parent.mkdir(parents=True, exist_ok=True)
                (clone / path).write_text((ROOT / path).read_text())
            (clone / "exercises" / "step1_dot.cpp").write_text((ROOT / "solutions" / "step1_dot.cpp").read_text())
            (clone / "exercises" / "step2_scaling.cpp").write_text(divides_by_d())
            p = subprocess.run([sys.executable, str(clone / "tools" / "attn.py"), "step", "2"], cwd=clone,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900,
                               env={**os.environ, "COLUMNS": "100"})
            seeded = subprocess.run([sys.executable, str(clone / "tools" / "attn.py"), "step", "2",
                                     "--rng-seed", "5", "the card's*"], cwd=clone, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, timeout=300)
        lines = p.stdout.splitlines()
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertRegex(lines[0], r"^Step 2 \(scaling by 1/sqrt\(d\)\): failing, \d+ of \d+ test cases pass, ")
        self.assertIn("the cards' examples: 0 of 2 passed", p.stdout)
        self.assertIn("[card]     the card's query and key have scaled score -0.5", p.stdout)
        self.assertIn("What this looks like:\n  divided by d instead of sqrt(d).", p.stdout)
        self.assertIn("(./attn hint 2 1)", p.stdout)
        self.assertIn("expected   -0.5", p.stdout)
        self.assertRegex(p.stdout, r"\(\d+ more failing checks: \./attn step 2 --all\)")
        self.assertLess(len(lines), 60, p.stdout)
        self.assertRegex(lines[-1], r"^Random seed \d+: rerun with \./attn step 2 --rng-seed \d+$")
        # Catch2's own arguments still work: a seed and a test name.
        self.assertIn("0 of 2 test cases pass", seeded.stdout.splitlines()[0])
        self.assertEqual(seeded.stdout.splitlines()[-1], "Random seed 5: rerun with ./attn step 2 --rng-seed 5")


if __name__ == "__main__":
    EXPLAIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
