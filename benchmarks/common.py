"""Measuring helpers: interleaved A/B runs, summary statistics, the results table and plot.

Every figure pairs our operation with the raw tool measured in the same run, interleaved
(A B A B ...) so that drift on the machine hits both sides alike.
"""
from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One measured quantity: ours vs the raw tool (raw may be empty for absolute figures)."""

    name: str
    unit: str
    ours: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    raw_label: str = ""
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.ours or not self.raw:
            return None
        return statistics.median(self.ours) / statistics.median(self.raw)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def interleave(figure: Figure, runs: int, ours: Callable[[], float], raw: Callable[[], float]) -> Figure:
    """Run ours and raw alternately `runs` times each; each callable returns its own duration."""
    for index in range(runs):
        order = (ours, raw) if index % 2 == 0 else (raw, ours)
        for action in order:
            value = action()
            (figure.ours if action is ours else figure.raw).append(value)
        print(f"  {figure.name}: run {index + 1}/{runs} ours={figure.ours[-1]:.2f} "
              f"raw={figure.raw[-1]:.2f}", flush=True)
    return figure


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def render_table(figures: list[Figure]) -> str:
    lines = [
        "| figure | ours: median (min-max) | raw tool | raw: median (min-max) | ratio | target | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        lines.append(f"| {f.name} [{f.unit}] | {summary(f.ours)} | {f.raw_label or '-'} | "
                     f"{summary(f.raw)} | {ratio} | {f.target or '-'} | {f.note} |")
    return "\n".join(lines)


def plot(figures: list[Figure], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paired = [f for f in figures if f.ours and f.raw]
    single = [f for f in figures if f.ours and not f.raw]
    rows = max(1, (len(paired) > 0) + (len(single) > 0))
    fig, axes = plt.subplots(rows, 1, figsize=(11, 4 * rows), squeeze=False)
    row = 0
    if paired:
        ax = axes[row][0]
        names = [f"{f.name}\n({f.ratio:.2f}x)" for f in paired]
        xs = range(len(paired))
        ax.bar([x - 0.2 for x in xs], [statistics.median(f.ours) for f in paired], 0.4, label="ours (median)")
        ax.bar([x + 0.2 for x in xs], [statistics.median(f.raw) for f in paired], 0.4, label="raw tool (median)")
        ax.set_xticks(list(xs), names, fontsize=8)
        ax.set_ylabel("seconds")
        ax.set_title("ours vs the raw tool, same machine, same run (interleaved)")
        ax.legend()
        row += 1
    if single:
        ax = axes[row][0]
        ax.bar([f.name for f in single], [statistics.median(f.ours) for f in single])
        ax.set_ylabel(" / ".join(sorted({f.unit for f in single})))
        ax.set_title("absolute figures (median)")
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_results(figures: list[Figure], name: str = "results") -> str:
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = render_table(figures)
    (RESULTS / f"{name}.md").write_text(table + "\n")
    (RESULTS / f"{name}.json").write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")
    plot(figures, RESULTS / f"{name}.png")
    return table
