"""Measuring helpers: interleaved A/B runs, summary statistics, the results table and plot.

Every figure pairs our operation with the raw tool measured in the same run, interleaved
(A B A B ...) so that drift on the machine hits both sides alike.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

RESULTS = Path(__file__).resolve().parent / "results"
GROWTH_PLOT = "scale_growth.png"
COLORS = {("offline", "ours"): "tab:blue", ("offline", "raw"): "tab:orange",
          ("manager", "ours"): "tab:green", ("manager", "raw"): "tab:red",
          ("manager", "floor"): "tab:purple"}
# the scale figures of ours on the manager against the floor (issue 28): metric floor_<metric>,
# their raw side the floor's samples
FLOOR_LABEL = "no-op floor (Cloudify's dispatch)"
T = TypeVar("T")
FAILED_ATTEMPTS: list[str] = []  # samples measured again, reported with the results


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
    group: str = ""
    # the scale growth (issue 15): which blueprint, where it ran, how many microservices, what
    # (install, uninstall, rss_mb; floor_<those>: ours against the no-op floor, issue 28)
    platform: str = ""
    where: str = ""
    size: int = 0
    metric: str = ""
    step: str = ""  # a merged scale figure: the run it was measured in (benchmarks.scale_merge)

    @property
    def ratio(self) -> float | None:
        if not self.ours or not self.raw:
            return None
        return statistics.median(self.ours) / statistics.median(self.raw)


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy since boot, all cores and every process (the
    cluster's, the manager's, ours): /proc/stat's total less idle and iowait. The difference
    over a run, divided by its wall time, is how many cores it kept busy."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@contextmanager
def cleanup_on_failure(undo: Callable[[], object]) -> Iterator[None]:
    """On a failure inside, run `undo` (best effort: its own failure is printed, not raised), so
    that the sample measured again does not meet what the failed one left behind."""
    try:
        yield
    except Exception:
        try:
            undo()
        except Exception as error:
            print(f"  cleanup after a failure failed too: {type(error).__name__}: {error}",
                  flush=True)
        raise


def install_then_uninstall(deployment: Any) -> tuple[float, float]:
    """Seconds to install `deployment` (a LocalDeployment) until its workflow ends, and then to
    uninstall it; what the install made is uninstalled if the install fails."""
    start = time.monotonic()
    with cleanup_on_failure(deployment.uninstall):
        deployment.install()
    installed = time.monotonic() - start
    start = time.monotonic()
    deployment.uninstall()
    return installed, time.monotonic() - start


def retried(action: Callable[[], T], what: str, tries: int = 3, pause: float = 15.0) -> T:
    """One sample; if it fails (the shared local clusters restart now and then), measure it again
    after a pause. The failed attempt's time is discarded and the failure recorded."""
    for attempt in range(1, tries + 1):
        try:
            return action()
        except Exception as error:
            FAILED_ATTEMPTS.append(f"{what}: {type(error).__name__}: {str(error)[-200:]}")
            if attempt == tries:
                raise
            print(f"  {what}: attempt {attempt} failed ({type(error).__name__}); measuring again "
                  f"in {pause:.0f} s", flush=True)
            time.sleep(pause)
    raise AssertionError("unreachable")


def interleave(figure: Figure, runs: int, ours: Callable[[], float],
               raw: Callable[[], float]) -> Figure:
    """Run ours and raw alternately `runs` times each; each callable returns its own duration."""
    for index in range(runs):
        order = (ours, raw) if index % 2 == 0 else (raw, ours)
        for action in order:
            value = retried(action, figure.name)
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
        "| figure | ours: median (min-max) | raw tool | raw: median (min-max) | ratio | target | "
        "note |",
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
    keys = list(dict.fromkeys((f.group if f.group in ("overhead", "scale", "manager") else "",
                               f.unit)
                              for f in paired))  # one panel per scale of values
    single = [f for f in figures if f.ours and not f.raw]
    panels = [[f for f in paired
               if (f.group if f.group in ("overhead", "scale", "manager") else "", f.unit) == key]
              for key in keys] + ([single] if single else [])
    fig, axes = plt.subplots(max(1, len(panels)), 1, figsize=(13, 4.5 * max(1, len(panels))),
                             squeeze=False)
    for ax, panel in zip((row[0] for row in axes), panels, strict=False):
        xs = range(len(panel))
        ax.bar([x - 0.2 for x in xs], [statistics.median(f.ours) for f in panel], 0.4,
               yerr=errors([f.ours for f in panel]), label="ours (median, min-max)")
        if panel is not single:
            ax.bar([x + 0.2 for x in xs], [statistics.median(f.raw) for f in panel], 0.4,
                   yerr=errors([f.raw for f in panel]), label="baseline (median, min-max)")
        ax.set_xticks(list(xs), [label(f) for f in panel], fontsize=7, rotation=20, ha="right")
        ax.set_ylabel(" / ".join(sorted({f.unit for f in panel})))
        ax.set_title("absolute figures" if panel is single else
                     f"ours vs the baseline ({panel[0].unit}), same run, interleaved")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def growth_rows(figures: list[Figure]) -> dict[tuple[str, str, int], dict[str, Figure]]:
    """The scale figures tagged for the growth curve: (platform, where, size) -> metric ->
    figure."""
    rows: dict[tuple[str, str, int], dict[str, Figure]] = {}
    for f in figures:
        if f.metric and f.ours:
            rows.setdefault((f.platform, f.where, f.size), {})[f.metric] = f
    return dict(sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1] != "offline", kv[0][2])))


def growth_cells(metrics: dict[str, Figure], prefix: str = "") -> list[str]:
    """Install and uninstall of one growth row: ours, the raw tool and the ratio of the medians;
    with prefix floor_, the floor and ours/floor."""
    cells: list[str] = []
    for what in ("install", "uninstall"):
        f = metrics.get(prefix + what)
        if f is None:
            cells += ["-"] * (2 if prefix else 3)
            continue
        cells += [summary(f.raw)] if prefix else [summary(f.ours), summary(f.raw)]
        cells.append(f"{f.ratio:.2f}x" if f.ratio else "-")
    return cells


def render_growth_table(figures: list[Figure]) -> str:
    """One row per blueprint, place and size: install and uninstall (ours, the raw tool, the
    ratio of the medians), the peak RSS of what ran the operations and, when any row has the
    no-op floor, the floor's install and uninstall with ours/floor. Empty without any."""
    rows = growth_rows(figures)
    if not rows:
        return ""
    floor = any("floor_install" in metrics for metrics in rows.values())
    extra = " floor install [s] | ours/floor | floor uninstall [s] | ours/floor |" if floor else ""
    lines = ["| blueprint | where | microservices | install [s] | raw install [s] | ratio | "
             "uninstall [s] | raw uninstall [s] | ratio | peak RSS [MB] |" + extra,
             "| --- " * (10 + 4 * floor) + "|"]
    for (blueprint, where, size), metrics in rows.items():
        rss = metrics.get("rss_mb")
        cells = [*growth_cells(metrics), summary(rss.ours) if rss else "-"]
        if floor:
            cells += growth_cells(metrics, "floor_")
        lines.append(f"| {blueprint} | {where} | {size} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def growth_line(ax: Any, points: list[tuple[int, Figure]], side: str, style: str,
                **how: Any) -> None:
    """One line of the growth plot: the medians of each point's `side` (ours or raw)."""
    points = [(size, f) for size, f in points if getattr(f, side)]
    if points:
        ax.plot([size for size, _ in points],
                [statistics.median(getattr(f, side)) for _, f in points], style, **how)


def plot_growth_panel(ax: Any, rows: dict[tuple[str, str, int], dict[str, Figure]],
                      blueprint: str, what: str) -> None:
    """One panel: ours and the raw tool per place, on the manager the no-op floor too."""
    for where, style in (("offline", "-"), ("manager", "--")):
        def points(metric: str, place: str = where) -> list[tuple[int, Figure]]:
            return sorted(((size, metrics[metric]) for (p, w, size), metrics in rows.items()
                           if p == blueprint and w == place and metric in metrics),
                          key=lambda point: point[0])
        who = {"offline": " (cfy)",
               "manager": " (mgmtworker tree)"}[where] if what == "rss_mb" else ""
        growth_line(ax, points(what), "ours", style, marker="o", color=COLORS[(where, "ours")],
                    label=f"ours, {where}{who}")
        if what != "rss_mb":
            growth_line(ax, points(what), "raw", style, marker="s", color=COLORS[(where, "raw")],
                        label=f"raw tool ({where}'s concurrency)")
        if where == "manager":
            growth_line(ax, points(f"floor_{what}"), "raw", "-.", marker="^",
                        color=COLORS[(where, "floor")], label=f"{FLOOR_LABEL}, manager")
    ax.set_xlabel("microservices")
    ax.set_ylabel("peak RSS [MB]" if what == "rss_mb" else f"{what} [s]")
    ax.set_title(f"{blueprint}: " + ("peak RSS of what runs the operations"
                                    if what == "rss_mb" else f"{what} wall time"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def plot_growth(figures: list[Figure], path: Path) -> bool:
    """Time against the number of microservices, ours and the raw tool as lines (offline and on
    the manager; on the manager the no-op floor too, dash-dotted), one row per blueprint,
    install | uninstall | peak RSS. False without data."""
    rows = growth_rows(figures)
    platforms = list(dict.fromkeys(key[0] for key in rows))
    if not platforms:
        return False
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(platforms), 3, figsize=(15, 4 * len(platforms)), squeeze=False)
    for row, blueprint in zip(axes, platforms, strict=True):
        for ax, what in zip(row, ("install", "uninstall", "rss_mb"), strict=True):
            plot_growth_panel(ax, rows, blueprint, what)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def errors(series: list[list[float]]) -> list[list[float]]:
    """Error bars from the median down to the min and up to the max, as matplotlib wants them."""
    middles = [statistics.median(values) for values in series]
    return [[m - min(v) for m, v in zip(middles, series, strict=True)],
            [max(v) - m for m, v in zip(middles, series, strict=True)]]


def label(figure: Figure) -> str:
    ratio = f"\n({figure.ratio:.2f}x)" if figure.ratio is not None else ""
    return f"{figure.name}{ratio}"


def machine() -> dict[str, object]:
    """What the figures were measured on, and how busy it was."""
    return {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def write_results(figures: list[Figure], name: str = "results", out: Path = RESULTS,
                  header: str = "", extra: dict[str, object] | None = None) -> str:
    """The table as Markdown (after `header`), the figures (and `extra`) as JSON, the plot as PNG
    (skipped, with a line saying so, when matplotlib is missing)."""
    out.mkdir(parents=True, exist_ok=True)
    table = render_table(figures)
    (out / f"{name}.json").write_text(json.dumps(
        {"figures": [asdict(f) for f in figures], **(extra or {})}, indent=2) + "\n")
    try:
        plot(figures, out / f"{name}.png")
        if plot_growth(figures, out / GROWTH_PLOT):
            header += (f"\nThe scale growth: [{GROWTH_PLOT}]({GROWTH_PLOT}) and the table at the "
                       "end.\n")
    except ImportError:
        header += "\n(no plot: matplotlib is not installed)\n"
    growth = render_growth_table(figures)
    if growth:
        table += "\n\n## Scale growth\n\n" + growth
    (out / f"{name}.md").write_text(f"{header}\n{table}\n" if header else table + "\n")
    return table
