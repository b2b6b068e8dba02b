#!/usr/bin/env python3
"""The benchmark suite's one JSON -> table / chart script.

    report.py run [--quick] --bench EXE [--bench EXE ...] [--out FILE] [--markdown] [-- ARGS]
        Runs each benchmark executable (attn_bench, attn_bench_exercises) with Google
        Benchmark's JSON output, merges the results into FILE and prints the table.
        ARGS go to every executable (e.g. --benchmark_filter=^dot/). The exit status is 1
        when an executable fails (a wrong result, a crash).
    report.py table FILE [--markdown]
        The table of a JSON file: per kernel and size, the reference's GFLOP/s, its
        percentage of the FMA peak measured in the same run, and its speed-up over every
        other variant (their time divided by the reference's; above 1: the reference is faster).
    report.py chart FILE OUT.png
        Throughput against size for the kernels with one size parameter, a vector or row
        length (the docs' chart; needs matplotlib).

Benchmark names are kernel/size.../variant, e.g. attention_weights/n=1024/d=64/causal/eigen.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REFERENCE = "reference"
PEAK = "xsimd"  # the variant name of the fma_peak benchmark
# Columns in this order when present; any other variant follows.
VARIANT_ORDER = ["solution", "exercises", "openblas", "eigen", "onednn", "pytorch", "reference-threads"]
# Rows in this order (then by size), whatever order the benchmarks ran in
# (--benchmark_enable_random_interleaving shuffles it).
KERNEL_ORDER = ["fma_peak", "load_peak", "dot", "softmax", "stable_softmax", "softmax_rows", "scores",
                "attention_weights", "attention_output", "attention", "streaming_attention", "add_alibi_bias",
                "softmax_backward", "attention_backward", "layer_norm"]


# ---------------------------------------------------------------------------- reading


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load(path: str | Path) -> dict:
    with open(path) as f:
        return json.load(f)


# What Google Benchmark appends to a name: /min_time:0.010, /iterations:5, /real_time, ...
GB_SUFFIXES = ("min_time:", "min_warmup_time:", "iterations:", "repeats:", "threads:",
               "real_time", "manual_time", "process_time")


def split_name(name: str) -> tuple[str, str, str] | None:
    parts = [p for p in name.split("/") if not p.startswith(GB_SUFFIXES)]
    if len(parts) < 3:
        return None
    return parts[0], "/".join(parts[1:-1]), parts[-1]


def row_order(row: tuple[str, str]) -> tuple:
    """KERNEL_ORDER, then the size's numbers in order (n=256 before n=1024), then its words."""
    kernel, size = row
    rank = KERNEL_ORDER.index(kernel) if kernel in KERNEL_ORDER else len(KERNEL_ORDER)
    numbers = [int(x) for x in re.findall(r"=(\d+)", size)]
    return rank, kernel, numbers, size


class Results:
    """Medians over repetitions, per (kernel, size) and variant; errors and notes."""

    def __init__(self, report: dict):
        self.context = report.get("context", {})
        runs = report.get("attn_runs") or [{"context": self.context}]
        self.notes = [n for r in runs for n in r["context"].get("attn_notes", "").split("; ") if n]
        self.failed_runs = [r for r in runs if r.get("returncode", 0) != 0]
        self.peak = max((float(r["context"].get("attn_fma_peak_flops", 0)) for r in runs), default=0.0)
        self.peak_isa = next((r["context"]["attn_fma_peak_isa"] for r in runs if "attn_fma_peak_isa" in r["context"]), "?")
        # Each peer's own kernel choice, and why a peer's ratios do not compare (a generic
        # fallback on a CPU that has better), as the benchmark recorded them.
        self.peer_kernels = {k.removeprefix("attn_peer_kernel_"): v for r in runs for k, v in r["context"].items()
                             if k.startswith("attn_peer_kernel_")}
        self.not_comparable = {k.removeprefix("attn_peer_not_comparable_"): v for r in runs
                               for k, v in r["context"].items() if k.startswith("attn_peer_not_comparable_")}
        samples: dict = defaultdict(lambda: defaultdict(list))
        self.errors: dict = {}
        self.rows: list[tuple[str, str]] = []
        self.variants: list[str] = []
        for b in report.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            parsed = split_name(b.get("run_name", b["name"]))
            if parsed is None:
                continue
            kernel, size, variant = parsed
            if (kernel, size) not in self.rows:
                self.rows.append((kernel, size))
            if variant not in self.variants:
                self.variants.append(variant)
            if b.get("error_occurred"):
                self.errors[(kernel, size, variant)] = b.get("error_message", "error")
                continue
            for counter in ("FLOP/s", "elements/s", "%peak"):
                if counter in b:
                    samples[(kernel, size, variant)][counter].append(float(b[counter]))
        # "<variant> <kernel>: skipped (...)": a step the student has not done yet.
        self.skips = {tuple(n.split(":")[0].split(" ", 1)) for n in self.notes if ": skipped" in n}
        for variant, _ in sorted(self.skips):
            if variant not in self.variants:
                self.variants.append(variant)
        self.values = {key: {c: statistics.median(v) for c, v in counters.items()} for key, counters in samples.items()}
        self.rows.sort(key=row_order)

    def others(self) -> list[str]:
        known = [v for v in VARIANT_ORDER if v in self.variants]
        return known + [v for v in self.variants if v not in known and v not in (REFERENCE, PEAK)]

    def value(self, kernel: str, size: str, variant: str, counter: str) -> float | None:
        return self.values.get((kernel, size, variant), {}).get(counter)

    def skipped(self, kernel: str, variant: str) -> bool:
        return (variant, kernel) in self.skips


# ---------------------------------------------------------------------------- table


def ratio(x: float) -> str:
    return f"{x:.2f}x" if x < 10 else f"{x:.1f}x" if x < 100 else f"{x:.0f}x"


def table_rows(res: Results, ratios_only: bool) -> tuple[list[str], list[list[str]]]:
    header = ["kernel", "size"] + ([] if ratios_only else ["reference GFLOP/s"]) + ["%peak"]
    header += [f"vs {v}" for v in res.others()]
    rows = []
    for kernel, size in res.rows:
        ref_rate = res.value(kernel, size, REFERENCE, "elements/s")
        ref_flops = res.value(kernel, size, REFERENCE, "FLOP/s")
        ref_peak = res.value(kernel, size, REFERENCE, "%peak")
        if kernel in ("fma_peak", "load_peak"):  # the machine's own limits have no reference
            ref_flops = res.value(kernel, size, PEAK, "FLOP/s")
            ref_peak = res.value(kernel, size, PEAK, "%peak")
        row = [kernel, size.replace("/", " ")]
        if not ratios_only:
            row.append("WRONG" if (kernel, size, REFERENCE) in res.errors
                       else f"{ref_flops / 1e9:.2f}" if ref_flops else "-")
        row.append(f"{ref_peak:.1f}%" if ref_peak is not None else "-")
        for v in res.others():
            rate = res.value(kernel, size, v, "elements/s")
            if (kernel, size, v) in res.errors:
                row.append("WRONG")
            elif res.skipped(kernel, v):
                row.append("not done")
            elif rate and ref_rate:
                row.append(ratio(ref_rate / rate) + (" (n/c)" if v in res.not_comparable else ""))
            else:
                row.append("-")
        rows.append(row)
    return header, rows


def format_table(res: Results, markdown: bool) -> str:
    header, rows = table_rows(res, ratios_only=markdown)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    fmt = lambda r: "  ".join(x.ljust(w) if i < 2 else x.rjust(w) for i, (x, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def summary(res: Results) -> str:
    ctx = res.context
    lines = [f"Machine: {ctx.get('attn_cpu_model', '?')}, {ctx.get('num_cpus', '?')} CPUs at "
             f"{ctx.get('mhz_per_cpu', '?')} MHz; reference ISA {ctx.get('attn_reference_isa', '?')}; "
             f"{ctx.get('attn_mode', '?')} mode",
             f"fp32 FMA peak measured in this run: {res.peak / 1e9:.1f} GFLOP/s per core ({res.peak_isa})",
             "vs X: X's time / the reference's time (above 1: the reference is faster); "
             "%peak: the reference's FLOP/s over that peak"]
    lines += [f"peer {name}: {kernel}" for name, kernel in sorted(res.peer_kernels.items()) if kernel]
    lines += [f"not comparable (n/c): {name}: {why}" for name, why in sorted(res.not_comparable.items())]
    lines += [f"note: {n}" for n in res.notes]
    for e in sorted(res.errors.values()):
        lines.append(f"error: {e}")
    for r in res.failed_runs:
        lines.append(f"error: {r['executable']} exited with {r['returncode']}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- targets


def targets(res: Results) -> list[tuple[str, float | None, float, str, str]]:
    """The reference's performance targets (README, Benchmarks), from this run's medians:
    (what, measured value or None when a benchmark is missing, goal, how it is computed,
    the peer it is measured against or ""). Ratios of times come from elements/s, which
    every kernel of a pair counts alike."""
    return [t[:5] for t in targets_with_ceilings(res)]


def targets_with_ceilings(res: Results) -> list[tuple[str, float | None, float, str, str, float | None]]:
    """targets(), each with the highest value it could have on this machine where that is
    known: for a ratio against a peer's time, the ratio the reference would reach at 100%
    of the FMA peak measured in this run (its value over the reference's share of the
    peak), since no kernel beats the peak; None elsewhere."""
    def rate(kernel: str, size: str, variant: str) -> float | None:
        return res.value(kernel, size, variant, "elements/s")

    def over(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    def vs(kernel: str, size: str, variant: str) -> float | None:
        return over(rate(kernel, size, REFERENCE), rate(kernel, size, variant))

    out = []
    n = 1024
    causal = rate("attention_weights", "n=1024/d=64/causal", REFERENCE)
    sgemm = rate("scores", "n=1024/d=64", "openblas")
    useful = n * (n + 1) / 2 / (n * n)  # the unmasked pairs' share of the full product
    share = res.value("attention_weights", "n=1024/d=64/causal", REFERENCE, "%peak")

    def ceiling(value: float | None) -> float | None:
        return value / (share / 100) if value and share else None

    vs_sgemm = over(causal, sgemm) and useful * over(causal, sgemm)
    out.append(("attention_weights n=1024 d=64 causal, useful GFLOP/s vs OpenBLAS sgemm of the full product",
                vs_sgemm, 1.0, "(n(n+1)/2 2d / t_reference) / (n^2 2d / t_sgemm)", "openblas", ceiling(vs_sgemm)))
    vs_composed = vs("attention_weights", "n=1024/d=64/causal", "openblas")
    out.append(("attention_weights n=1024 d=64 causal vs OpenBLAS sgemm + mask + softmax",
                vs_composed, 3.0, "time ratio", "openblas", ceiling(vs_composed)))
    vs_torch = vs("attention_weights", "n=1024/d=64/causal", "pytorch")
    out.append(("attention_weights n=1024 d=64 causal vs PyTorch matmul / sqrt(d) + masked_fill + softmax",
                vs_torch, 6.0, "time ratio", "pytorch", ceiling(vs_torch)))
    for d in (64, 128):
        size = f"n=1024/d={d}/noncausal"
        out.append((f"attention_weights n=1024 d={d} non-causal vs OpenBLAS sgemm + softmax",
                    vs("attention_weights", size, "openblas"), 1.2, "time ratio", "openblas"))
    out.append(("attention_weights n=4096 d=128 non-causal, %peak",
                res.value("attention_weights", "n=4096/d=128/noncausal", REFERENCE, "%peak"), 65.0,
                "FLOP/s as a percentage of the measured FMA peak", ""))
    # Both cores: every hardware thread (reference-threads) against one thread, side by side in
    # the same run; n = 256 must at least not lose.
    for size, goal in (("n=1024/d=64/causal", 1.9), ("n=1024/d=64/noncausal", 1.9), ("n=1024/d=128/noncausal", 1.9),
                       ("n=4096/d=64/causal", 1.9), ("n=4096/d=128/noncausal", 1.9), ("n=256/d=64/causal", 1.0)):
        out.append((f"attention_weights {size.replace('/', ' ')}: all threads vs one",
                    over(rate("attention_weights", size, "reference-threads"),
                         rate("attention_weights", size, REFERENCE)), goal, "time ratio", ""))
    out.append(("dot d=16 vs Eigen", vs("dot", "d=16", "eigen"), 1.0, "time ratio", "eigen"))
    for size in ("n=64", "n=1024", "n=4096"):
        out.append((f"stable_softmax {size} vs oneDNN", vs("stable_softmax", size, "onednn"), 1.2, "time ratio",
                    "onednn"))
    for size in ("n=1024/rows=16", "n=1024/rows=4096", "n=4096/rows=4", "n=4096/rows=1024"):
        where = "64 KiB" if size.endswith(("=16", "=4")) else "16 MiB"
        out.append((f"softmax_rows {size.replace('/', ' ')} ({where}) vs oneDNN",
                    vs("softmax_rows", size, "onednn"), 1.2, "time ratio", "onednn"))
    loads = next((v.get("elements/s") for (k, _, _), v in res.values.items() if k == "load_peak"), None)
    out.append(("dot d=1024 FLOP/s vs the measured load-bound limit", over(res.value("dot", "d=1024", REFERENCE, "FLOP/s"), loads),
                0.5, "FLOP/s / load_peak floats/s (2 loads per FMA)", ""))
    return [t if len(t) == 6 else (*t, None) for t in out]


def format_targets(res: Results) -> str:
    lines = ["Targets (medians of this run; 'met' needs value >= goal; n/c: against a peer that is not comparable):"]
    for what, value, goal, how, peer, most in targets_with_ceilings(res):
        shown = "missing" if value is None else f"{value:.3f}"
        verdict = ("-" if value is None else "n/c" if peer in res.not_comparable
                   else "met" if value >= goal else "NOT MET")
        lines.append(f"  {verdict:7}  {shown:>7} (goal {goal:g})  {what}   [{how}]")
        if verdict == "NOT MET" and most is not None and most < goal:
            lines.append(f"           out of reach on this machine: {most:.3f} with the reference at 100% of the "
                         f"FMA peak, against this run's peer")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- chart


def chart(src: str, out: str) -> None:
    """Throughput against length for each kernel with one size parameter (dot, the softmaxes,
    softmax_backward); add_alibi_bias has one too, but its n is the side of an n x n matrix."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    res = Results(load(src))
    series = defaultdict(list)  # (kernel, variant) -> [(size, G/s)]
    for (kernel, size, variant), values in res.values.items():
        key, _, number = size.partition("=")
        counter = "FLOP/s" if kernel == "dot" else "elements/s"
        if "/" in size or not number.isdigit() or counter not in values or kernel in ("fma_peak", "add_alibi_bias"):
            continue
        series[(kernel, variant)].append((int(number), values[counter] / 1e9))
    kernels = [k for k, _ in res.rows if any(s[0] == k for s in series)]
    kernels = sorted(set(kernels), key=kernels.index)
    if not kernels:
        sys.exit(f"report.py: no benchmark with one size parameter in {src}")
    fig, axes = plt.subplots(1, len(kernels), figsize=(5.5 * len(kernels), 3.8), squeeze=False)
    variants = [REFERENCE] + res.others()
    colour = {v: f"C{i}" for i, v in enumerate(variants)}  # one colour per variant in every panel
    for ax, kernel in zip(axes[0], kernels):
        for variant in variants:
            points = sorted(series.get((kernel, variant), []))
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], "o-", color=colour[variant], label=variant)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlabel("d" if kernel == "dot" else "row length n")
        ax.set_ylabel("GFLOP/s" if kernel == "dot" else "G elements/s")
        ax.set_title(kernel)
        ax.legend()
    ctx = res.context
    fig.suptitle(f"A quick run on {ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, one thread: "
                 "the xsimd reference, the scalar answer key and the installed peers (./attn bench for careful numbers)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(out, metadata={"Software": None})  # no timestamp: same numbers, same file
    plt.close(fig)


# ---------------------------------------------------------------------------- run


def run(benches: list[str], quick: bool, out: Path, extra: list[str]) -> dict:
    merged: dict = {"context": {}, "benchmarks": [], "attn_runs": []}
    out.parent.mkdir(parents=True, exist_ok=True)
    for exe in benches:
        part = out.with_name(f"{out.stem}.{Path(exe).stem}.json")
        part.unlink(missing_ok=True)
        cmd = [exe, "--quick" if quick else "--full", f"--benchmark_out={part}",
               "--benchmark_out_format=json", *extra]
        print("+ " + " ".join(cmd), flush=True)
        rc = subprocess.run(cmd).returncode
        try:
            report = load(part)
        except (OSError, json.JSONDecodeError):  # it crashed before writing its JSON out
            report = {"context": {}, "benchmarks": []}
        if not merged["context"]:
            merged["context"] = dict(report["context"])
        merged["benchmarks"] += report["benchmarks"]
        merged["attn_runs"].append({"executable": exe, "returncode": rc, "context": report["context"]})
    merged["context"]["attn_cpu_model"] = cpu_model()
    out.write_text(json.dumps(merged, indent=1) + "\n")
    return merged


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(prog="report.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the benchmark executables, merge their JSON, print the table")
    p.add_argument("--bench", action="append", required=True, help="a benchmark executable (repeatable)")
    p.add_argument("--quick", action="store_true", help="quick mode (CI): every benchmark runs, briefly")
    p.add_argument("--out", default="bench-results.json", help="the merged JSON (default: %(default)s)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown (ratios only)")
    p = sub.add_parser("table", help="print the table of a JSON file")
    p.add_argument("file")
    p.add_argument("--markdown", action="store_true", help="Markdown, ratios only (the README's table)")
    p = sub.add_parser("chart", help="draw the docs' chart of a JSON file")
    p.add_argument("file")
    p.add_argument("out")
    args = parser.parse_args(argv)

    if args.command == "chart":
        chart(args.file, args.out)
        return 0
    if args.command == "run":
        report = run(args.bench, args.quick, Path(args.out), extra)
        print(f"\nResults: {os.path.abspath(args.out)}\n")
    else:
        report = load(args.file)
    res = Results(report)
    print(format_table(res, args.markdown))
    print()
    print(summary(res))
    print()
    print(format_targets(res))
    return 1 if res.errors or res.failed_runs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
