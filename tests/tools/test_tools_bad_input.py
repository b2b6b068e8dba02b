"""Bad input to every command-line tool: a clear message on stderr and a non-zero exit
status, never a crash (a signal), a C++ terminate message or a Python traceback.
(tests/tools/test_cli.py covers attn_explain's first cases and the CLI's good paths.)
Run by ctest (tests/CMakeLists.txt) as:
    python3 tests/tools/test_tools_bad_input.py <attn_explain> <attn_instability_report>
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPLAIN = None  # set from argv
REPORT = None

CRASH_SIGNS = ("Traceback", "terminate called", "Segmentation fault", "core dumped", "AddressSanitizer",
               "runtime error", "Aborted")


def run(cmd, cwd=ROOT, timeout=120):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          errors="replace", timeout=timeout)


class RefusesCleanly:
    """Mixin: assert a refusal is clean."""

    def assert_refused(self, cmd, message, status=2, cwd=ROOT):
        p = run(cmd, cwd=cwd)
        self.assertGreater(p.returncode, 0, f"{cmd[1:]}: exit status {p.returncode} (negative: a signal)\n{p.stderr}")
        if status is not None:
            self.assertEqual(p.returncode, status, p.stderr)
        self.assertIn(message, p.stderr)
        for sign in CRASH_SIGNS:
            self.assertNotIn(sign, p.stderr)
        return p


class ExplainBadInputTest(unittest.TestCase, RefusesCleanly):
    def test_bad_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            empty = Path(tmp, "empty.csv")
            empty.write_text("# only a comment\n\n")
            binary = Path(tmp, "binary.csv")
            binary.write_bytes(bytes(range(256)) * 4)
            unreadable = Path(tmp, "secret.csv")
            unreadable.write_text("1,2\n")
            unreadable.chmod(0)
            cases = [
                ([EXPLAIN, "--q-csv", str(Path(tmp, "missing.csv"))], "cannot open"),
                ([EXPLAIN, "--k-csv", str(empty)], "has no rows"),
                ([EXPLAIN, "--q-csv", str(binary)], f"{binary}:1"),  # names the file and the line
                ([EXPLAIN, "--q-csv", tmp], "--q-csv"),  # a folder, not a file
            ]
            if os.geteuid() != 0:  # root reads anything
                cases.append(([EXPLAIN, "--q-csv", str(unreadable)], "cannot open"))
            for cmd, message in cases:
                with self.subTest(cmd=cmd[1:]):
                    self.assert_refused(cmd, message)

    def test_malformed_csv(self):
        with tempfile.TemporaryDirectory() as tmp:
            cases = {
                "ragged.csv": ("1,2\n3\n", "same length"),
                "semicolons.csv": ("1;2\n", "is not a float"),
                "word.csv": ("1,two\n", "is not a float"),
                "overflow.csv": ("1e39,1\n", "is not a float"),
                "trailing.csv": ("1,2x\n", "is not a float"),
            }
            for name, (text, message) in cases.items():
                path = Path(tmp, name)
                path.write_text(text)
                with self.subTest(file=name):
                    p = self.assert_refused([EXPLAIN, "--q-csv", str(path)], message)
                    self.assertIn(name, p.stderr)  # the message says which file

    def test_missing_and_bad_arguments(self):
        for cmd, message in [
            ([EXPLAIN, "--k-csv"], "needs a value"),
            ([EXPLAIN, "--precision"], "needs a value"),
            ([EXPLAIN, "--precision", "x"], "0 to 9"),
            ([EXPLAIN, "--precision", "-1"], "0 to 9"),
            ([EXPLAIN, "--q", ";;"], "has no rows"),
            ([EXPLAIN, "--q", "1e39"], "is not a float"),
            ([EXPLAIN, "positional"], "unknown option"),
        ]:
            with self.subTest(cmd=cmd[1:]):
                self.assert_refused(cmd, message)

    def test_special_values_are_shown_not_refused(self):
        # NaN and infinities are valid floats: the tool shows what the reference makes of them.
        p = run([EXPLAIN, "--q", "nan, 1; inf, 0; -inf, 0", "--k", "1, 1; 2, 0", "--no-causal"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("nan", p.stdout)
        self.assertIn("inf", p.stdout)


class InstabilityReportBadInputTest(unittest.TestCase, RefusesCleanly):
    def test_missing_and_bad_values(self):
        for cmd, message in [
            ([REPORT, "--n"], "missing value"),
            ([REPORT, "--d"], "missing value"),
            ([REPORT, "--frobnicate"], "--frobnicate"),
            ([REPORT, "--frobnicate", "1"], "unknown option"),
            ([REPORT, "--d", ""], "not a non-negative integer"),
            ([REPORT, "--d", "16,,64"], "not a non-negative integer"),
            ([REPORT, "--d", "0"], "at least 1"),
            ([REPORT, "--n", "1"], "at least 2"),
            ([REPORT, "--n", "-5"], "not a non-negative integer"),
            ([REPORT, "--n", "99999999999999999999999"], "not a non-negative integer"),
            ([REPORT, "--trials", "0"], "at least 1"),
            ([REPORT, "--samples", "0"], "at least 1"),
            ([REPORT, "--seed", "x"], "not a non-negative integer"),
            ([REPORT, "--format", "xml"], "table or csv"),
        ]:
            with self.subTest(cmd=cmd[1:]):
                self.assert_refused(cmd, message)

    def test_sizes_too_large_for_memory_are_refused_not_a_crash(self):
        # n * d floats overflow size_t: attn::matrix refuses with std::invalid_argument,
        # which the tool must turn into a message and an exit status, not std::terminate.
        p = run([REPORT, "--d", "16", "--n", str(2 ** 62), "--trials", "1", "--samples", "1"])
        self.assertGreater(p.returncode, 0, f"exit status {p.returncode} (negative: a signal)\n{p.stderr}")
        self.assertIn("attn_instability_report", p.stderr)
        for sign in CRASH_SIGNS:
            self.assertNotIn(sign, p.stderr)


class StudentCliBadInputTest(unittest.TestCase, RefusesCleanly):
    cli = [sys.executable, str(ROOT / "tools" / "attn.py")]

    def test_unknown_steps_are_refused_by_every_command_that_takes_one(self):
        # None of these touches the build or the exercises: the step is checked first.
        for args in (["step", "99"], ["step", "0"], ["step", "x"], ["hint", "99"], ["reset", "99"],
                     ["restore", "99"]):
            with self.subTest(args=args):
                self.assert_refused(self.cli + args, f"unknown step '{args[1]}'")

    def test_missing_arguments_and_unknown_commands_get_the_usage(self):
        for args, message in ((["step"], "required"), (["hint"], "required"), (["reset"], "required"),
                              (["restore"], "required"), (["hint", "1", "x"], "invalid int value"),
                              (["frobnicate"], "invalid choice")):
            with self.subTest(args=args):
                p = self.assert_refused(self.cli + args, message)
                self.assertIn("usage:", p.stderr)

    def test_grade_steps_that_do_not_exist_are_refused_before_any_build(self):
        last = len(json.loads((ROOT / "course" / "steps.json").read_text())["steps"])
        for steps, message in ((str(last + 1), "names no step of the course"), ("0", "names no step"),
                               ("3-1", "names no step"), ("x", "is not a step number"),
                               ("2,", "is not a step number")):
            with self.subTest(steps=steps):
                self.assert_refused(self.cli + ["grade", str(ROOT / "solutions"), "--steps", steps,
                                                "--build-dir", "/nonexistent/never-built"],
                                    f"--steps {steps}: ", status=1)

    def test_a_hint_that_does_not_exist_is_refused(self):
        self.assert_refused(self.cli + ["hint", "1", "99"], "there is no hint 99")

    def test_bad_kinds_in_the_manifest_are_named_not_a_traceback(self):
        # The tools and a manifest of the instructor's, with each mistake in turn.
        manifest = json.loads((ROOT / "course" / "steps.json").read_text())
        cases = [
            (lambda m: m["kinds"]["special"].update(weight=-1),
             'the weight of kind "special" is -1; expected a number >= 0'),
            (lambda m: m["kinds"]["card"].update(weight="two"),
             'the weight of kind "card" is "two"; expected a number >= 0'),
            (lambda m: m["kinds"].update(input=3), 'kind "input" is 3; expected an object with a "weight"'),
            (lambda m: m.update(kinds=[2, 1]), '"kinds" is [2, 1]; expected an object'),
            (lambda m: m["steps"][1].update(kinds={"cards": 2}),
             'step 2 weighs the kind "cards", which the top-level "kinds" do not define; expected one of card'),
            (lambda m: m["steps"][2].update(kinds={"special": None}),
             "step 3's weight of kind \"special\" is null; expected a number >= 0"),
        ]
        for change, message in cases:
            with self.subTest(message=message), tempfile.TemporaryDirectory() as tmp:
                shutil.copytree(ROOT / "tools", Path(tmp, "tools"), ignore=shutil.ignore_patterns("__pycache__"))
                broken = json.loads(json.dumps(manifest))
                change(broken)
                Path(tmp, "course").mkdir()
                Path(tmp, "course", "steps.json").write_text(json.dumps(broken))
                p = self.assert_refused([sys.executable, str(Path(tmp, "tools", "attn.py")), "check"], message)
                self.assertIn("course/steps.json", p.stderr)


if __name__ == "__main__":
    EXPLAIN = os.path.abspath(sys.argv.pop(1))
    REPORT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
