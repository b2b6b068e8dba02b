"""Tests of the command-line tools: attn_explain and the student CLI's hint, check, reset
and restore. Run by ctest (tests/CMakeLists.txt) as:
    python3 tests/tools/test_cli.py <path of attn_explain>
"""

import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPLAIN = None  # set from argv


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


if __name__ == "__main__":
    EXPLAIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
