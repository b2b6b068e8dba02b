"""The training lab's programs (tools/lab/): attn_lab's --help, its refusals, its CSV (same
seed, same bytes) and tools/lab/sweep.py's files. Run by ctest (tests/CMakeLists.txt) as:
    python3 tests/lab/test_lab_cli.py <attn_lab>
"""

import csv
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB = None  # set from argv
CRASH_SIGNS = ("Traceback", "terminate called", "Segmentation fault", "core dumped", "runtime error")


def run(cmd, timeout=120):
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


class AttnLabTest(unittest.TestCase):
    def test_help_lists_every_option(self):
        p = run([LAB, "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        source = (ROOT / "tools" / "lab" / "main.cpp").read_text()
        options = set(re.findall(r'a == "(--[a-z-]+)"', source))
        self.assertGreater(len(options), 10, "expected attn_lab's options in tools/lab/main.cpp")
        for option in options:
            self.assertIn(option, p.stdout, f"attn_lab --help does not document {option}")

    def test_bad_options_are_refused_clearly(self):
        cases = [
            (["--bogus"], "unknown option '--bogus'"),
            (["--lr"], "--lr needs a value"),
            (["--lr", "fast"], "--lr: 'fast' is not a number"),
            (["--lr", "-1"], "--lr must be a positive number"),
            (["--d", "1"], "--d must be at least 2"),
            (["--d", "-3"], "--d: '-3' is not a whole number"),
            (["--queries", "40"], "--queries must be between 1 and --pairs"),
            (["--keys", "4"], "--keys must be at least --pairs"),
            (["--scaling", "half"], "expected scaled or unscaled"),
            (["--impl", "mine"], "expected reference, solutions or exercises"),
            (["--impl", "exercises"], "run attn_lab_exercises"),
            (["--steps", "0"], "--steps must be at least 1"),
            (["--csv", "/nonexistent-dir/x.csv"], "cannot write"),
        ]
        for args, message in cases:
            p = run([LAB, *args])
            self.assertEqual(p.returncode, 2, f"attn_lab {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
            self.assertIn(message, p.stderr, f"attn_lab {' '.join(args)}")
            for sign in CRASH_SIGNS:
                self.assertNotIn(sign, p.stderr)

    def test_same_seed_same_csv(self):
        with tempfile.TemporaryDirectory() as tmp:
            a, b, c = (Path(tmp, f"{x}.csv") for x in "abc")
            args = ["--scaling", "unscaled", "--lr", "0.05", "--steps", "40", "--seed", "3"]
            for path, seed in ((a, "3"), (b, "3"), (c, "4")):
                p = run([LAB, *args[:-1], seed, "--csv", path])
                self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(a.read_bytes(), b.read_bytes(), "same seed, different CSV")
            self.assertNotEqual(a.read_bytes(), c.read_bytes(), "another seed gave the same CSV")
            rows = list(csv.DictReader(a.open()))
            self.assertEqual(len(rows), 40)
            self.assertEqual(list(rows[0]), ["step", "loss", "entropy", "max_score", "grad_norm"])
            self.assertIn("final loss", p.stdout)  # the summary line

    def test_sweep_writes_its_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            p = run([sys.executable, ROOT / "tools" / "lab" / "sweep.py", "--exe", LAB, "--out", tmp,
                     "--rates", "0.01,0.05", "--high", "0.05", "--steps", "20"])
            self.assertEqual(p.returncode, 0, p.stderr)
            for name in ("unscaled", "scaled", "scaled+qk-layernorm"):
                for rate in ("0.01", "0.05"):
                    self.assertTrue(Path(tmp, f"{name}_lr{rate}.csv").is_file(), f"{name}_lr{rate}.csv")
            self.assertIn("final loss", Path(tmp, "summary.txt").read_text())
            p = run([sys.executable, ROOT / "tools" / "lab" / "sweep.py", "--exe", LAB, "--out", tmp,
                     "--rates", "0.01", "--high", "0.05"])
            self.assertEqual(p.returncode, 2)
            self.assertIn("--high 0.05 is not one of --rates", p.stderr)


if __name__ == "__main__":
    LAB = Path(sys.argv.pop(1)).resolve()
    unittest.main()
