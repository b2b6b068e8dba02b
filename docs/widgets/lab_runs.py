#!/usr/bin/env python3
"""Writes the lab widget's built-in runs: lab_runs.py --out lab_runs.js [LABEL=run.csv ...]

Each CSV is one training run written by attn_lab (tools/lab/sweep.py at docs build); the
output defines window.ATTN_LAB_RUNS = {label: csv text}, which docs/widgets/widgets.js reads.
Without runs it writes an empty object: the widget then asks for a CSV of the reader's own.
"""
import argparse
import json
import sys
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("runs", nargs="*", help="LABEL=path/to/run.csv")
    args = ap.parse_args()
    runs = {}
    for spec in args.runs:
        label, sep, path = spec.partition("=")
        if not sep or not label:
            sys.exit(f"lab_runs.py: '{spec}' is not LABEL=path/to/run.csv")
        text = Path(path).read_text(encoding="utf-8")
        if not text.startswith("step,"):
            sys.exit(f"lab_runs.py: {path} does not start with the header of attn_lab --csv (step,...)")
        runs[label] = text
    args.out.write_text("// Written by docs/widgets/lab_runs.py at docs build: the lab widget's runs.\n"
                        f"window.ATTN_LAB_RUNS = {json.dumps(runs)};\n", encoding="utf-8")


if __name__ == "__main__":
    main()
