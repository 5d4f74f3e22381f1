"""The benchmark runner (issue 7): every figure, one combined table and plot.

    .venv/bin/python -m benchmarks [--runs N]
                                   [--only k8s,swarm,readiness,proxy,overhead,scale,manager,helm]
                                   [--scale-runs N] [--scale-sizes 1,10,25,50]
                                   [--scale-platforms k8s,swarm,mixed]
                                   [--scale-where offline,manager]
                                   [--tiny] [--out DIR]

Figures: 1 k8s (install/uninstall vs kubectl), 2 swarm (vs the docker CLI), 3 readiness (lag
between the API showing the Deployment ready and our install returning; measured in the k8s
runs), 4 proxy (reaction to the upstream's install ending), 5 overhead (a fresh process per
operation vs Cloudify's own floor; heavy imports per tasks module), 6 scale (1/10/25/50
microservices, Kubernetes, Swarm and mixed, offline through the real cfy CLI and on the real
manager, against the raw tools: time and peak RSS; plotted as growth curves), 7 manager (the hybrid
chain on the real manager vs the local profile; per-operation overhead on the manager), 8 helm (a
chart's install and uninstall vs the raw helm's --wait, and how soon a crash-looping chart is
reported). Writes results.md, results.json, results.png and scale_growth.png into --out (default
benchmarks/results/). Measures, never asserts.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import FAILED_ATTEMPTS, RESULTS, Figure, machine, write_results

GROUPS = ("k8s", "swarm", "readiness", "proxy", "overhead", "scale", "manager", "helm")
TINY_GROUPS = ("swarm", "overhead", "scale")
TINY_SIZES = (1, 2)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs per figure (5)")
    parser.add_argument("--scale-runs", type=int, default=2, help="runs of each scale size (2)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(GROUPS)}")
    parser.add_argument("--scale-sizes", default="", help="scale: microservices per blueprint "
                        "(1,10,25,50)")
    parser.add_argument("--scale-platforms", default="", help="scale: k8s,swarm,mixed (all)")
    parser.add_argument("--scale-where", default="", help="scale: offline,manager (both)")
    parser.add_argument("--tiny", action="store_true",
                        help=f"1 run, scale sizes {TINY_SIZES} of Swarm, groups "
                             f"{','.join(TINY_GROUPS)} "
                             "unless --only says otherwise (the smoke test's configuration)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    args = parser.parse_args(argv)
    chosen = [g for g in args.only.split(",") if g] or list(TINY_GROUPS if args.tiny else GROUPS)
    unknown = sorted(set(chosen) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    args.groups = [g for g in GROUPS if g in chosen]
    if args.tiny:
        args.runs, args.scale_runs = 1, 1
    return args


def measurements(args: argparse.Namespace,
                 imports: dict[str, Any]) -> dict[str, Callable[[], list[Figure]]]:
    """One callable per module; each returns its figures (tagged with their group)."""
    from benchmarks import (
        helm_compare,
        k8s_compare,
        manager_compare,
        overhead,
        proxy_reaction,
        scale,
        swarm_compare,
    )

    def run_overhead() -> list[Figure]:
        figures, loaded = overhead.measure(args.runs)
        imports.update(loaded)
        return figures

    chosen: dict[str, Any] = {
        "sizes": tuple(int(n) for n in scale.csv(args.scale_sizes)) or scale.SIZES,
        "platforms": scale.csv(args.scale_platforms) or scale.PLATFORMS,
        "where": scale.csv(args.scale_where) or scale.WHERE, "raw_sizes": None}
    if args.tiny:  # short: Swarm offline only, the raw tool at the larger size only
        chosen = {"sizes": TINY_SIZES, "platforms": ("swarm",), "where": ("offline",),
                  "raw_sizes": (max(TINY_SIZES),)}
    return {
        "k8s": lambda: k8s_compare.measure(args.runs),  # also yields the readiness figure
        "swarm": lambda: swarm_compare.measure(args.runs),
        "proxy": lambda: proxy_reaction.measure(args.runs),
        "overhead": run_overhead,
        "scale": lambda: scale.measure(args.scale_runs, **chosen),
        "manager": lambda: manager_compare.measure(args.runs),
        "helm": lambda: helm_compare.measure(args.runs),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    imports: dict[str, Any] = {}
    steps = measurements(args, imports)
    before = machine()
    figures: list[Figure] = []
    modules = list(dict.fromkeys("k8s" if g == "readiness" else g for g in args.groups))
    for module in modules:
        start = time.monotonic()
        runs = args.scale_runs if module == "scale" else args.runs
        print(f"[bench] {module}: measuring ({runs} run(s))", flush=True)
        figures += [f for f in steps[module]() if f.group in args.groups]
        print(f"[bench] {module}: done in {time.monotonic() - start:.0f} s", flush=True)
    after = machine()
    header = (f"# Benchmark results\n\n`python -m benchmarks --runs {args.runs} --scale-runs "
              f"{args.scale_runs} --only {','.join(args.groups)}`, {before['when']} to "
              f"{after['when']}, {before['cpus']} CPUs, load average {before['loadavg']} before, "
              f"{after['loadavg']} after. Ratio = median(ours) / median(baseline).\n")
    if imports:
        header += "\nHeavy modules loaded by importing each tasks module: " + "; ".join(
            f"`{m}`: {', '.join(v) or 'none'}" for m, v in imports.items()) + "\n"
    if FAILED_ATTEMPTS:
        header += (f"\n{len(FAILED_ATTEMPTS)} sample(s) failed (shared clusters restarting) and "
                   "were measured again; see failed_attempts in results.json.\n")
    table = write_results(figures, "results", args.out, header,
                          {"machine_before": before, "machine_after": after,
                           "heavy_imports": imports,
                           "failed_attempts": FAILED_ATTEMPTS,
                           "groups": args.groups, "runs": args.runs, "scale_runs": args.scale_runs})
    print(table)
    print(f"[bench] written: {args.out}/results.md, results.json, results.png"
          + (", scale_growth.png" if "scale" in args.groups else ""), flush=True)


if __name__ == "__main__":
    main()
