#!/usr/bin/env python3
"""The training lab's learning-rate sweep: attn_lab for every rate and three variants
(unscaled, scaled, scaled + QK-layernorm), two runs at a time, then two figures.

    sweep.py --exe build/student/tools/attn_lab --out DIR [--jobs 2] [--rates 0.001,...]
             [--high 0.05] [-- extra attn_lab options]

Writes DIR/<variant>_lr<rate>.csv (one per run), DIR/summary.txt (final loss per rate and
variant; the high rate's entropies), DIR/lab_sweep.png (final loss against learning rate)
and DIR/lab_run.png (entropy and loss against step at the high rate). The figures need
matplotlib (Debian: python3-matplotlib); without it the CSVs and the summary are still written.
./attn lab --sweep runs it; docs/CMakeLists.txt runs it for docs/lab.md.
"""
import argparse
import csv
import math
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

VARIANTS = [  # name, attn_lab options, colour
    ("unscaled", ["--scaling", "unscaled"], "#d62728"),
    ("scaled", ["--scaling", "scaled"], "#1f77b4"),
    ("scaled+qk-layernorm", ["--scaling", "scaled", "--qk-layernorm"], "#2ca02c"),
]
RATES = "0.001,0.003,0.01,0.02,0.05,0.1,0.3,1"
HIGH = "0.05"


def fail(message):
    print(f"attn lab --sweep: {message}", file=sys.stderr)
    sys.exit(2)


def read(path):
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def final(rows, key, steps):
    """The mean over the last tenth of the steps, as attn_lab's summary; None if it stopped."""
    if len(rows) < steps or not math.isfinite(rows[-1]["loss"]):
        return None
    k = max(1, len(rows) // 10)
    return sum(r[key] for r in rows[-k:]) / k


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exe", required=True, help="the attn_lab program")
    p.add_argument("--out", required=True, help="directory for the CSVs, the summary and the PNGs")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    p.add_argument("--rates", default=RATES, help=f"comma-separated learning rates (default {RATES})")
    p.add_argument("--high", default=HIGH, help=f"the rate of the second figure, one of --rates (default {HIGH})")
    p.add_argument("--steps", type=int, default=600, help="steps per run (default 600, attn_lab's default)")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="after --: more attn_lab options (--d, --seed, --impl, ...)")
    a = p.parse_args(argv)
    extra = a.extra[1:] if a.extra[:1] == ["--"] else a.extra
    try:
        rates = [float(r) for r in a.rates.split(",")]
        high = float(a.high)
    except ValueError:
        fail(f"--rates '{a.rates}' / --high '{a.high}': expected numbers such as 0.001,0.01,0.1")
    if not rates or any(not (r > 0) for r in rates):
        fail("--rates: every rate must be a positive number")
    if high not in rates:
        fail(f"--high {a.high} is not one of --rates {a.rates}")
    if a.jobs < 1:
        fail("--jobs must be at least 1")
    if a.steps < 1:
        fail("--steps must be at least 1")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    def run(job):
        name, opts, rate = job
        path = out / f"{name}_lr{rate:g}.csv"
        cmd = [a.exe, *opts, "--lr", f"{rate:g}", "--steps", str(a.steps), "--csv", str(path), "--quiet", *extra]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"{' '.join(cmd)} failed:\n{r.stderr.strip()}")
        return name, rate, path, r.stdout.strip()

    jobs = [(name, opts, rate) for name, opts, _ in VARIANTS for rate in rates]
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        results = list(pool.map(run, jobs))
    took = time.monotonic() - t0
    data = {(name, rate): read(path) for name, rate, path, _ in results}

    lines = [f"final loss (mean over the last tenth of {a.steps} steps; 'stopped' = loss not finite)",
             "lr        " + "".join(f"{n:>22}" for n, _, _ in VARIANTS)]
    for rate in rates:
        cells = []
        for n, _, _ in VARIANTS:
            v = final(data[(n, rate)], "loss", a.steps)
            cells.append(f"{'stopped' if v is None else f'{v:.4f}':>22}")
        lines.append(f"{rate:<10g}" + "".join(cells))
    lines.append("")
    lines.append(f"at lr {high:g}: final entropy (nats) and largest |score|")
    for n, _, _ in VARIANTS:
        rows = data[(n, high)]
        h = final(rows, "entropy", a.steps)
        lines.append(f"  {n:<22} entropy {'stopped' if h is None else f'{h:.4f}':>8}"
                     f"   max|score| {max(r['max_score'] for r in rows):.1f}")
    summary = "\n".join(lines) + "\n"
    (out / "summary.txt").write_text(summary)
    print(summary)
    print(f"attn lab --sweep: {len(jobs)} runs in {took:.1f} s ({a.jobs} at a time); CSVs and summary.txt in {out}")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("attn lab --sweep: no matplotlib here (sudo apt-get install python3-matplotlib, or run with "
              "/usr/bin/python3): no figures", file=sys.stderr)
        return 0
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 10, "axes.grid": True,
                         "grid.alpha": 0.3, "svg.hashsalt": "attn", "path.simplify": False})

    def save(fig, path):
        fig.tight_layout()
        fig.savefig(path, metadata={"Software": None})  # no timestamp: same runs, same file
        plt.close(fig)

    values = int(next((extra[i + 1] for i, x in enumerate(extra[:-1]) if x == "--values"), "8"))
    chance = math.log(values)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    top = chance * 1.6
    for n, _, colour in VARIANTS:
        xs, ys, stopped, above = [], [], [], []
        for rate in rates:
            v = final(data[(n, rate)], "loss", a.steps)
            (stopped.append(rate) if v is None else (xs.append(rate), ys.append(min(v, top))))
            if v is not None and v > top:
                above.append(rate)
        ax.plot(xs, ys, "o-", color=colour, label=n)
        if above:  # off the scale: drawn at its top edge, as a triangle
            ax.plot(above, [top] * len(above), "^", color=colour, markersize=9)
        if stopped:
            ax.plot(stopped, [top] * len(stopped), "x", color=colour, markersize=9)
    ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label=f"chance, ln {values}")
    ax.axvline(high, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (Adam)")
    ax.set_ylabel(f"final loss (mean of the last tenth of {a.steps} steps)")
    ax.set_title("Final loss against learning rate")
    ax.plot([], [], "^", color="grey", label=f"above {top:.2f}, drawn at the top")
    ax.legend()
    save(fig, out / "lab_sweep.png")

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for n, _, colour in VARIANTS:
        rows = data[(n, high)]
        steps = [r["step"] for r in rows]
        ax1.plot(steps, [r["entropy"] for r in rows], color=colour, label=n, linewidth=1)
        ax2.plot(steps, [r["loss"] for r in rows], color=colour, label=n, linewidth=1)
    ax1.set_yscale("log")
    ax1.set_ylabel("mean attention entropy (nats, log scale)")
    ax1.set_title(f"One run per variant at learning rate {high:g}")
    ax1.legend()
    ax2.axhline(chance, color="grey", linestyle="--", linewidth=1)
    ax2.set_ylabel("loss")
    ax2.set_xlabel("step")
    save(fig, out / "lab_run.png")
    print(f"attn lab --sweep: figures {out / 'lab_sweep.png'} and {out / 'lab_run.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
