"""Merge scale benchmark runs made in steps (issue 15) into one table, JSON and growth plot.

The scale benchmark is long (every size, platform and place); on a shared 2-core machine it is
run in steps (`python -m benchmarks.scale --sizes 50 --platforms swarm --out DIR`), each
writing its own scale.json. This reads those files in order and keeps, for every
(platform, where, size), the samples of the newest file that measured it: ours, the raw
tool's and the peak RSS. It then rebuilds every figure from the merged samples, the
comparisons of each size with the smallest included, so no figure mixes two runs without
saying so: each step's command and machine load are listed in the header. A merged file can
be merged again: its figures name the step they came from and its step list keeps their load.

Run: .venv/bin/python -m benchmarks.scale_merge [--out benchmarks/results] [--notes FILE]
         OLDEST.json ... NEWEST.json
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, Figure, write_results
from benchmarks.scale import Sample, figures_for, raw_figures

Key = tuple[str, str, int]  # platform, where, size


@dataclass
class Measured:
    ours: Sample
    raw: Sample
    step: str


def samples_of(figures: list[dict[str, Any]], step: str) -> dict[Key, Measured]:
    """Our and the raw tool's samples per (platform, where, size), from one run's figures:
    the 'vs the raw tool' figures carry both timings, the RSS figures our peak memory. A
    figure of an earlier merge keeps the step it names; a plain run's are all `step`."""
    found: dict[Key, Measured] = {}
    for figure in figures:
        if figure.get("group") != "scale" or not figure.get("metric"):
            continue
        key = (figure["platform"], figure["where"], int(figure["size"]))
        measured = found.setdefault(key, Measured(Sample(), Sample(), figure.get("step") or step))
        ours, raw = measured.ours, measured.raw
        metric = figure["metric"]
        if metric == "rss_mb":
            ours.rss_mb = list(figure["ours"])
        else:
            setattr(ours, metric, list(figure["ours"]))
            setattr(raw, metric, list(figure["raw"]))
    return {key: m for key, m in found.items() if m.ours.install and m.raw.install}


def merge(runs: list[tuple[str, dict[str, Any]]]) -> dict[Key, Measured]:
    """The newest run's samples for every key any run measured."""
    merged: dict[Key, Measured] = {}
    for step, data in runs:
        merged.update(samples_of(data.get("figures") or [], step))
    return merged


def steps_of(runs: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Every step's command-line facts (runs, machine before and after), by name: a plain run
    is one step, a merged file brings the list it was made from."""
    found: dict[str, dict[str, Any]] = {}
    for step, data in runs:
        for earlier in data.get("steps") or []:
            found[earlier["step"]] = earlier
        if "steps" not in data:
            found[step] = {"step": step, "machine_before": data.get("machine_before"),
                           "machine_after": data.get("machine_after"), "runs": data.get("runs")}
    return found


def rebuild(merged: dict[Key, Measured]) -> list[Figure]:
    """Every figure, per platform and place: growth against the smallest size, then each size
    against the raw tool."""
    figures: list[Figure] = []
    for platform, where in sorted({(p, w) for p, w, _ in merged}):
        sizes = {size: m for (p, w, size), m in merged.items() if (p, w) == (platform, where)}
        found = figures_for(platform, where, {size: m.ours for size, m in sizes.items()})
        for size in sorted(sizes):
            found += raw_figures(platform, where, size, sizes[size].ours, sizes[size].raw)
        for figure in found:  # every figure is of one size: it names the run that size is from
            figure.step = sizes[figure.size].step
        figures += found
    return figures


def header(runs: list[tuple[str, dict[str, Any]]], merged: dict[Key, Measured], notes: str) -> str:
    used = {m.step for m in merged.values()}
    lines = ["# Scale benchmark (issue 15)", "",
             "Merged from runs made in steps by `python -m benchmarks.scale_merge`; for every "
             "platform, place and size the newest run that measured it counts. The runs:", ""]
    for step, data in steps_of(runs).items():
        if step not in used:
            continue
        before, after = data.get("machine_before") or {}, data.get("machine_after") or {}
        what = sorted({f"{p} {w} {s}" for (p, w, s), m in merged.items() if m.step == step})
        when = (f"{data.get('runs', '?')} run(s), {before.get('when')} to {after.get('when')}, "
                f"{before.get('cpus')} CPUs, load average {before.get('loadavg')} before, "
                f"{after.get('loadavg')} after" if before and after
                else "an earlier merge: its steps' times and load are in the notes below")
        lines.append(f"- `{step}` ({when}); counts for: {', '.join(what)}")
    return "\n".join(lines) + "\n" + (f"\n{notes.strip()}\n" if notes.strip() else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_merge",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="scale.json files, oldest first")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--notes", type=Path, help="Markdown put under the header")
    args = parser.parse_args(argv)
    runs = [(str(path.parent.name or path), json.loads(path.read_text())) for path in args.runs]
    merged = merge(runs)
    notes = args.notes.read_text() if args.notes else ""
    steps = [facts for step, facts in steps_of(runs).items()
             if step in {m.step for m in merged.values()}]
    write_results(rebuild(merged), "scale", args.out, header(runs, merged, notes), {"steps": steps})
    print(f"[scale_merge] {len(merged)} (platform, place, size) samples from {len(steps)} run(s) "
          f"written to {args.out}/scale.md, scale.json, scale_growth.png")


if __name__ == "__main__":
    main()
