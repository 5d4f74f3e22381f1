"""Scale (figure 6, issue 15): one blueprint with 1, 10, 25 and 50 microservices, on Kubernetes,
on Swarm and mixed (half each, one deployment), installed and uninstalled

- offline, with the real `cfy` CLI (local profile, scripts/cfy-offline, THREADS task threads):
  wall time of each command and the peak memory (max RSS) of the `cfy` process, read from the
  kernel's accounting of that process (os.wait4 in a small launcher);
- on the real manager (benchmarks/scale_manager.py): `cfy executions start install/uninstall`
  wall time, and the sampled peak RSS of the mgmtworker's process tree (it runs each
  operation in a subprocess; MANAGER_THREADS at a time);

against the raw tools making the same objects at the same concurrency (benchmarks/scale_raw.py:
one kubectl apply; the docker CLI THREADS, or for the manager's figures MANAGER_THREADS,
processes at a time), at every size. The larger sizes are also compared with the smallest.
Sizes interleave (small to large, then large to small), each size's raw run beside ours.

On the manager, also against the no-op floor of the same graph (issue 28, item 3): the same
node templates and relationships, each operation our plugin_1_5.yaml maps
benchmarks/noop_plugin's empty one (benchmarks.scale_blueprints.noop_*_blueprint; mixed too:
both platforms' types, the two Microservices told apart), installed and uninstalled through
ManagerScale.run exactly as ours, right beside ours at every size of every run (ours first in
the runs that go small to large, the floor first in the others). What Cloudify's own dispatch
costs for that graph; ours/floor is what our operations add to it.

Run: .venv/bin/python -m benchmarks.scale [--runs N] [--sizes 1,10,25,50]
         [--platforms k8s,swarm,mixed] [--where offline,manager] [--floor|--no-floor] [--out DIR]
     (--floor, the default when --where has manager: the no-op floor beside ours there)
     (or python -m benchmarks --only scale). This entry point writes scale.md, scale.json and
     scale_growth.png into --out after each size, so a run stopped early keeps what it got.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from benchmarks import scale_blueprints, scale_raw
from benchmarks.common import (
    FLOOR_LABEL,
    Figure,
    cleanup_on_failure,
    machine,
    retried,
    write_results,
)
from benchmarks.operation_breakdown import ROOT
from benchmarks.scale_blueprints import kubernetes_blueprint, mixed_blueprint, swarm_blueprint
from benchmarks.scale_manager import MANAGER_THREADS, ManagerScale
from tests.helpers.cfy_cli import CFY_OFFLINE, CfyCli
from tests.helpers.clusters import leftovers

SIZES = (1, 10, 25, 50)
PLATFORMS = ("k8s", "swarm", "mixed")
WHERE = ("offline", "manager")
THREADS = 10
RAW_LABELS = {
    "k8s": {"install": "kubectl apply (all) + kubectl wait available",
            "uninstall": "kubectl delete --cascade=foreground --wait (+ pods gone)",
            "how": "one kubectl apply"},
    "swarm": {"install": "docker service create --detach=false per service",
              "uninstall": "docker service rm (all) + containers gone",
              "how": "{threads} docker CLI processes at a time"},
    "mixed": {"install": "kubectl apply + wait (half) with docker service create (half), at once",
              "uninstall": "kubectl delete --wait (half) with docker service rm (half), at once",
              "how": "one kubectl apply and {threads} docker CLI processes at a time"},
}
RAW = {"k8s": scale_raw.kubectl_scale, "swarm": scale_raw.docker_scale,
       "mixed": scale_raw.mixed_scale}
WHO = {"offline": "cfy", "manager": "the mgmtworker"}
NOTE = {"offline": f"cfy local, {THREADS} task threads",
        "manager": f"real manager, mgmtworker ({MANAGER_THREADS} operations at a time)"}


@dataclass
class Sample:
    install: list[float] = field(default_factory=list)
    uninstall: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def add(self, times: tuple[float, ...]) -> None:
        self.install.append(times[0])
        self.uninstall.append(times[1])
        if len(times) > 2:
            self.rss_mb.append(times[2])


# Spawns the command from a small interpreter and reports its wall time and peak RSS. Not
# os.wait4 on a child of this process: a child forked from a large process inherits that
# process's RSS high-water mark across exec, which would hide cfy's own (the floor here is the
# launcher's few MB instead).
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{time.perf_counter() - start} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def cfy_timed(cfy: CfyCli, log: Path, *args: str) -> tuple[float, float]:
    """Run one cfy command; (seconds, peak RSS in MB of that process). Fails with the log's tail."""
    report = log.with_suffix(".rusage")
    with log.open("a") as out:
        proc = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(report), str(CFY_OFFLINE),
                               *args], env=cfy.env(), stdout=out, stderr=subprocess.STDOUT,
                              check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"cfy {' '.join(args[:2])} exited {proc.returncode}:\n"
                           f"{log.read_text()[-3000:]}")
    elapsed, max_rss_kib = report.read_text().split()
    return float(elapsed), int(max_rss_kib) / 1024


def install_uninstall(blueprint: Path, workdir: Path) -> tuple[float, float, float]:
    cfy = CfyCli(workdir)
    cfy.run("--version").check()  # writes the working directory's config outside the timing
    deployment = f"bench-scale-{uuid.uuid4().hex[:6]}"
    flags = [*cfy.retry_flags(), "--task-thread-pool-size", str(THREADS)]
    log = workdir / f"{deployment}.log"
    with cleanup_on_failure(lambda: cfy.run("uninstall", "-b", deployment, *flags)):
        up, up_rss = cfy_timed(cfy, log, "install", str(blueprint), "-b", deployment, *flags)
    down, down_rss = cfy_timed(cfy, log, "uninstall", "-b", deployment, *flags)
    left = leftovers(deployment)
    if left:
        raise RuntimeError(f"{deployment} left {left}")
    return up, down, max(up_rss, down_rss)


def blueprint_file(text: str, tmp: Path) -> tuple[Path, Path]:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    blueprint = folder / "blueprint.yaml"
    blueprint.write_text(text)
    return blueprint, folder


def raw_figures(platform: str, where: str, size: int, ours: Sample, raw: Sample) -> list[Figure]:
    label = RAW_LABELS[platform]
    threads = MANAGER_THREADS if where == "manager" else THREADS
    place = " on the manager" if where == "manager" else ""
    plural = "s" if size != 1 else ""
    return [Figure(f"scale {platform} {what}{place}, {size} microservice{plural}, vs the raw tool",
                   "s",
                   group="scale", ours=getattr(ours, what), raw=getattr(raw, what),
                   raw_label=label[what],
                   note=f"raw tool: {size} microservice{plural}, "
                        f"{label['how'].format(threads=threads)}",
                   platform=platform, where=where, size=size, metric=what)
            for what in ("install", "uninstall")]


def figures_for(platform: str, where: str, samples: dict[int, Sample]) -> list[Figure]:
    """The larger sizes against the smallest: install, uninstall, peak RSS (the smallest's peak
    RSS on its own, for the growth table)."""
    base, *larger = sorted(samples)
    place = " on the manager" if where == "manager" else ""
    found = [Figure(f"scale {platform} peak RSS of {WHO[where]}, {base} microservice"
                    f"{'s' if base > 1 else ''}", "MB", group="scale", ours=samples[base].rss_mb,
                    note=NOTE[where] + "; max of install and uninstall", platform=platform,
                    where=where, size=base, metric="rss_mb")]
    for what, unit, target in (("install", "s", "<= 3x (50 vs 1)"), ("uninstall", "s", ""),
                               ("rss_mb", "MB", "")):
        for size in larger:
            title = f"peak RSS of {WHO[where]}" if what == "rss_mb" else f"{what}{place}"
            found.append(Figure(
                f"scale {platform} {title}, {size} microservices", unit, group="scale",
                ours=getattr(samples[size], what), raw=getattr(samples[base], what),
                raw_label=f"same blueprint, {base} microservice{'s' if base > 1 else ''}",
                target=target if size == max(larger) and size >= 50 and where == "offline" else "",
                note=NOTE[where] + ("; max of install and uninstall" if what == "rss_mb" else ""),
                platform=platform, where=where, size=size,
                metric="rss_mb" if what == "rss_mb" else ""))
    return found


def floor_figures(platform: str, size: int, ours: Sample, floor: Sample) -> list[Figure]:
    """Ours on the manager against the no-op floor of the same graph at one size: install,
    uninstall and the mgmtworker tree's peak RSS (tagged floor_<metric> for the growth)."""
    plural = "s" if size != 1 else ""
    return [Figure(f"scale {platform} {title}, {size} microservice{plural}, vs the no-op floor",
                   unit, group="scale", ours=getattr(ours, what), raw=getattr(floor, what),
                   raw_label=f"{FLOOR_LABEL}, same graph",
                   note=NOTE["manager"] + "; floor: each operation benchmarks/noop_plugin's "
                        "empty one, run beside ours" + ("; max of install and uninstall"
                                                       if what == "rss_mb" else ""),
                   platform=platform, where="manager", size=size, metric=f"floor_{what}")
            for what, unit, title in (("install", "s", "install on the manager"),
                                      ("uninstall", "s", "uninstall on the manager"),
                                      ("rss_mb", "MB", f"peak RSS of {WHO['manager']}"))]


BUILDERS: dict[str, Callable[[int], str]] = {
    "k8s": lambda n: kubernetes_blueprint(n, f"bench-scale-{uuid.uuid4().hex[:4]}"),
    "swarm": swarm_blueprint,
    "mixed": lambda n: mixed_blueprint(n, f"bench-scale-{uuid.uuid4().hex[:4]}"),
}
FLOORS: dict[str, Callable[[int, dict[str, Any]], str]] = {
    "k8s": scale_blueprints.noop_kubernetes_blueprint,
    "swarm": scale_blueprints.noop_swarm_blueprint,
    "mixed": scale_blueprints.noop_mixed_blueprint}


def floor_text(platform: str, size: int) -> str:
    """The floor blueprint of `platform` at `size`, from this tree's plugin_1_5.yaml."""
    return FLOORS[platform](size, yaml.safe_load((ROOT / "plugin_1_5.yaml").read_text()))


def report(platform: str, where: str, index: int, runs: int, size: int, sample: Sample) -> None:
    rss = f", peak RSS {sample.rss_mb[-1]:.0f} MB" if sample.rss_mb else ""
    print(f"  scale {platform} {where} run {index + 1}/{runs}, {size} microservice(s): install "
          f"{sample.install[-1]:.2f} s, uninstall {sample.uninstall[-1]:.2f} s{rss}", flush=True)


@dataclass
class Plan:
    runs: int = 2
    sizes: tuple[int, ...] = SIZES
    platforms: tuple[str, ...] = PLATFORMS
    where: tuple[str, ...] = WHERE
    raw_sizes: tuple[int, ...] | None = None  # default: every size
    floor: bool = False  # the no-op floor beside ours on the manager


@dataclass
class Runs:
    """One platform's samples so far: ours per place and size, the raw tool's per (concurrency,
    size), the concurrency each place's raw tool runs at, the floor's per size."""
    ours: dict[str, dict[int, Sample]]
    raw: dict[tuple[int, int], Sample]
    threads: dict[str, int]
    floor: dict[int, Sample]

    @classmethod
    def of(cls, platform: str, plan: Plan) -> Runs:
        raw_sizes = plan.raw_sizes if plan.raw_sizes is not None else plan.sizes
        # the raw tool at each concurrency in use (kubectl has none: one apply serves both)
        threads = {where: MANAGER_THREADS if where == "manager" and platform != "k8s" else THREADS
                   for where in plan.where}
        return cls({where: {size: Sample() for size in plan.sizes} for where in plan.where},
                   {(t, size): Sample() for t in set(threads.values()) for size in raw_sizes},
                   threads,
                   {size: Sample() for size in plan.sizes} if plan.floor else {})


def run_raw(platform: str, runs: Runs, index: int, total: int, size: int) -> None:
    for t in sorted({t for (t, s) in runs.raw if s == size}, reverse=True):
        sample = runs.raw[(t, size)]
        sample.add(retried(partial(RAW[platform], size, t), f"scale {platform} raw {size} x{t}"))
        print(f"  scale {platform} run {index + 1}/{total}, raw tool ({t} at a time), "
              f"{size} microservice(s): install {sample.install[-1]:.2f} s, "
              f"uninstall {sample.uninstall[-1]:.2f} s", flush=True)


def steps_at(platform: str, where: str, size: int, runs: Runs, tmp: Path,
             manager: ManagerScale | None) -> list[tuple[str, Sample, Callable[[], Any]]]:
    """(what, its sample, its run) at one place and size: ours, and on the manager with the
    floor planned the floor after it."""
    blueprint, folder = blueprint_file(BUILDERS[platform](size), tmp)
    if where != "manager" or manager is None:
        return [(where, runs.ours[where][size], partial(install_uninstall, blueprint, folder))]
    steps: list[tuple[str, Sample, Callable[[], Any]]] = [
        (where, runs.ours[where][size], partial(manager.run, blueprint))]
    if runs.floor:
        floor, _ = blueprint_file(floor_text(platform, size), tmp)
        steps.append(("manager floor", runs.floor[size], partial(manager.run, floor, True)))
    return steps


def measure_platform(platform: str, plan: Plan, tmp: Path, manager: ManagerScale | None,
                     done: Callable[[list[Figure]], None] | None = None) -> list[Figure]:
    """The platform's figures; `done` is given them as they stand after each size."""
    runs = Runs.of(platform, plan)
    for index in range(plan.runs):
        for size in (plan.sizes if index % 2 == 0 else tuple(reversed(plan.sizes))):
            run_raw(platform, runs, index, plan.runs, size)
            for where in plan.where:
                steps = steps_at(platform, where, size, runs, tmp, manager)
                for what, sample, run in (steps if index % 2 == 0 else reversed(steps)):
                    sample.add(retried(run, f"scale {platform} {what} {size}"))
                    report(platform, what, index, plan.runs, size, sample)
            if done is not None:
                done(platform_figures(platform, plan, runs))
    return platform_figures(platform, plan, runs)


def platform_figures(platform: str, plan: Plan, runs: Runs) -> list[Figure]:
    """The figures of what has been measured (sizes not yet run are left out)."""
    found: list[Figure] = []
    for where in plan.where:
        measured = {size: sample for size, sample in runs.ours[where].items() if sample.install}
        if measured:
            found += figures_for(platform, where, measured)
        for size in measured:
            if (runs.threads[where], size) in runs.raw:
                found += raw_figures(platform, where, size, measured[size],
                                     runs.raw[(runs.threads[where], size)])
            if where == "manager" and size in runs.floor and runs.floor[size].install:
                found += floor_figures(platform, size, measured[size], runs.floor[size])
    return found


def measure(runs: int = 2, sizes: tuple[int, ...] = SIZES, platforms: tuple[str, ...] = PLATFORMS,
            where: tuple[str, ...] = WHERE, raw_sizes: tuple[int, ...] | None = None,
            done: Callable[[list[Figure]], None] | None = None,
            floor: bool | None = None) -> list[Figure]:
    """Every figure of the plan; `done` is given the figures so far after each size. `floor`
    (default: when `where` has manager): the no-op floor beside ours on the manager."""
    plan = Plan(runs, sizes, platforms, where, raw_sizes,
                "manager" in where and floor is not False)
    found: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        manager = ManagerScale(Path(tmp)) if "manager" in where else None
        for platform in platforms:
            found += measure_platform(platform, plan, Path(tmp), manager,
                                      None if done is None
                                      else partial(with_earlier, done, list(found)))
    return found


def with_earlier(done: Callable[[list[Figure]], None], earlier: list[Figure],
                 figures: list[Figure]) -> None:
    done(earlier + figures)


def csv(text: str) -> tuple[str, ...]:
    return tuple(item for item in text.split(",") if item)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--platforms", default=",".join(PLATFORMS))
    parser.add_argument("--where", default=",".join(WHERE))
    parser.add_argument("--floor", action=argparse.BooleanOptionalAction, default=None,
                        help="the no-op floor of the same graph beside ours on the manager "
                             "(default: on when --where has manager)")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "scale")
    args = parser.parse_args(argv)
    before = machine()

    def write(figures: list[Figure]) -> None:
        after = machine()
        floor = {None: "", True: " --floor", False: " --no-floor"}[args.floor]
        header = (f"# Scale benchmark\n\n`python -m benchmarks.scale --runs {args.runs} --sizes "
                  f"{args.sizes} --platforms {args.platforms} --where {args.where}{floor}`, "
                  f"{before['when']} to {after['when']}, {before['cpus']} CPUs, load average "
                  f"{before['loadavg']} before, {after['loadavg']} after.\n")
        write_results(figures, "scale", args.out, header,
                      {"machine_before": before, "machine_after": after, "runs": args.runs})
        print(f"[scale] written: {args.out}/scale.md, scale.json, scale_growth.png", flush=True)

    measure(args.runs, tuple(int(s) for s in csv(args.sizes)), csv(args.platforms), csv(args.where),
            done=write, floor=args.floor)


if __name__ == "__main__":
    main()
