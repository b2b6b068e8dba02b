#!/usr/bin/env python3
"""The docs' pictures, drawn from the output of the project's own programs.

    plots.py heatmap     <figure_data heatmap CSV>    <out.png>
    plots.py saturation  <figure_data saturation CSV> <out.png>
    plots.py instability <attn_instability_report --format csv output> <out.png>
    plots.py bench       <attn_bench --benchmark_format=json output>   <out.png>

Needs matplotlib (Debian: python3-matplotlib). docs/CMakeLists.txt runs it at docs build.
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import ScalarFormatter  # noqa: E402

SCALED, UNSCALED = "#1f77b4", "#d62728"
plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 10,
                     "axes.grid": True, "grid.alpha": 0.3,
                     "svg.hashsalt": "attn", "path.simplify": False})


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def save(fig, out):
    fig.tight_layout()
    # No timestamp in the PNG, so the same numbers give the same file.
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)


def heatmap(src, out):
    data = defaultdict(dict)
    for r in rows(src):
        data[r["scaling"]][(int(r["i"]), int(r["j"]))] = float(r["weight"])
    n = 1 + max(i for i, _ in data["scaled"])
    d = next(r["d"] for r in rows(src))
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.4))
    titles = {"scaled": r"scaled: $\beta_{ij} = q_i \cdot k_j / \sqrt{d}$",
              "unscaled": r"unscaled: $\beta_{ij} = q_i \cdot k_j$"}
    for ax, key in zip(axes, ("scaled", "unscaled")):
        grid = [[data[key][(i, j)] for j in range(n)] for i in range(n)]
        im = ax.imshow(grid, cmap="viridis", vmin=0.0, vmax=1.0)
        ax.set_title(titles[key])
        ax.set_xlabel("key position j")
        ax.set_ylabel("query position i")
        ax.grid(False)
        ax.set_xticks(range(0, n, 3))
        ax.set_yticks(range(0, n, 3))
    fig.colorbar(im, ax=axes, shrink=0.85, label=r"attention weight $\alpha_{ij}$")
    fig.suptitle(f"Causal attention weights of {n} random tokens (d = {d}): "
                 "the future (j > i) gets exactly 0", fontsize=10)
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)


def saturation(src, out):
    r = rows(src)
    t = [float(x["t"]) for x in r]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.plot(t, [float(x["max_weight"]) for x in r], label="largest weight $a_2$")
    ax.plot(t, [float(x["entropy_ratio"]) for x in r], label=r"entropy $H(a) / \ln 3$")
    ax.plot(t, [float(x["jacobian_norm"]) for x in r], label=r"$\Vert J \Vert_F$, $J = \mathrm{diag}(a) - a a^\top$")
    for mark, text in ((1.0, r"$\tau$ = 1: scaled"), (8.0, r"$\tau$ = 8 = $\sqrt{64}$: unscaled, d = 64")):
        ax.axvline(mark, color="gray", linestyle="--", linewidth=1)
        ax.annotate(text, (mark, 0.5), xytext=(4, 0), textcoords="offset points", rotation=90,
                    va="center", fontsize=9, color="gray")
    ax.set_xlabel(r"scale $\tau$ of the scores  $s = \tau \cdot [1, 2, 3]$")
    ax.set_ylabel("value")
    ax.set_title("Softmax saturation: larger scores, one-hot weights, vanishing gradient")
    ax.set_ylim(-0.02, 1.02)
    # Between the tau = 1 and tau = 8 marks, where the curves leave the middle free.
    ax.legend(loc="center", bbox_to_anchor=(0.42, 0.6))
    save(fig, out)


def instability(src, out):
    r = rows(src)
    d = [int(x["d"]) for x in r]
    panels = (("entropy_ratio", r"mean entropy $H / \ln n$"),
              ("max_weight", "mean largest weight"),
              ("jacobian_norm", r"mean $\Vert J \Vert_F$ of the softmax Jacobian"))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for ax, (key, title) in zip(axes, panels):
        ax.plot(d, [float(x[key + "_scaled"]) for x in r], "o-", color=SCALED, label=r"scaled $q\cdot k/\sqrt{d}$")
        ax.plot(d, [float(x[key + "_unscaled"]) for x in r], "s-", color=UNSCALED, label=r"unscaled $q\cdot k$")
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlabel("head dimension d")
        ax.set_title(title)
        ax.set_ylim(bottom=0)
    axes[0].legend()
    fig.suptitle("Random queries and keys, q, k ~ N(0, I): what 1/sqrt(d) keeps constant", fontsize=10)
    save(fig, out)


def bench(src, out):
    """The benchmark chart, drawn by the suite's one JSON -> table/chart script, bench/report.py."""
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import report  # noqa: E402
    report.chart(src, out)


def main(argv):
    commands = {"heatmap": heatmap, "saturation": saturation, "instability": instability, "bench": bench}
    if len(argv) != 4 or argv[1] not in commands:
        sys.exit(__doc__)
    commands[argv[1]](argv[2], argv[3])


if __name__ == "__main__":
    main(sys.argv)
