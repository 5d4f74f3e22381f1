"""Scale (figure 6): one blueprint with 1, 10 and 50 microservices, on Kubernetes and on Swarm,
installed and uninstalled with the real `cfy` CLI (local profile, scripts/cfy-offline): wall time
of each command and the peak memory (max RSS) of the `cfy` process, read from the kernel's
accounting of that process (os.wait4 in a small launcher). The larger sizes are compared with the smallest,
measured in the same runs, sizes interleaved (small to large, then large to small); the largest
size also with the raw tools (benchmarks/scale_raw.py), to show what the cluster itself takes.

`cfy` runs the workflow's tasks on a thread pool of THREADS (its default is 1, i.e. every
operation one after the other; a manager's agent runs operations concurrently).

Run: .venv/bin/python -m benchmarks.scale [RUNS]   (or python -m benchmarks --only scale)
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from benchmarks import scale_raw
from benchmarks.common import Figure, cleanup_on_failure, render_table, retried
from benchmarks.scale_blueprints import kubernetes_blueprint, swarm_blueprint
from tests.helpers.cfy_cli import CFY_OFFLINE, CfyCli
from tests.helpers.clusters import leftovers

SIZES = (1, 10, 50)
THREADS = 10
RAW_LABELS = {
    "k8s": {"install": "kubectl apply (all) + kubectl wait available",
            "uninstall": "kubectl delete --cascade=foreground --wait (+ pods gone)",
            "how": "one kubectl apply"},
    "swarm": {"install": "docker service create --detach=false per service",
              "uninstall": "docker service rm (all) + containers gone",
              "how": f"{scale_raw.THREADS} docker CLI processes at a time"},
}
RAW = {"k8s": scale_raw.kubectl_scale, "swarm": scale_raw.docker_scale}


@dataclass
class Sample:
    install: list[float] = field(default_factory=list)
    uninstall: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def add(self, times: tuple[float, float]) -> None:
        self.install.append(times[0])
        self.uninstall.append(times[1])


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


def install_uninstall(blueprint: Path, workdir: Path, sample: Sample) -> None:
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
    sample.add((up, down))
    sample.rss_mb.append(max(up_rss, down_rss))


def one_run(blueprint_text: str, tmp: Path, sample: Sample) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    blueprint = folder / "blueprint.yaml"
    blueprint.write_text(blueprint_text)
    install_uninstall(blueprint, folder, sample)


def raw_figures(platform: str, size: int, ours: Sample, raw: Sample) -> list[Figure]:
    label = RAW_LABELS[platform]
    return [Figure(f"scale {platform} {what}, {size} microservices, vs the raw tool", "s",
                   group="scale", ours=getattr(ours, what), raw=getattr(raw, what),
                   raw_label=label[what], note=f"raw tool: {size} microservices, {label['how']}")
            for what in ("install", "uninstall")]


def figures_for(platform: str, samples: dict[int, Sample]) -> list[Figure]:
    """The larger sizes against the smallest: install, uninstall, peak RSS."""
    base, *larger = sorted(samples)
    found: list[Figure] = []
    for what, unit, target in (("install", "s", "<= 3x (50 vs 1)"), ("uninstall", "s", ""),
                               ("rss_mb", "MB", "")):
        for size in larger:
            title = "peak RSS of cfy" if what == "rss_mb" else what
            found.append(Figure(
                f"scale {platform} {title}, {size} microservices", unit, group="scale",
                ours=getattr(samples[size], what), raw=getattr(samples[base], what),
                raw_label=f"same blueprint, {base} microservice{'s' if base > 1 else ''}",
                target=target if size == max(larger) and size >= 50 else "",
                note=f"cfy local, {THREADS} task threads" + (
                    "; max of install and uninstall" if what == "rss_mb" else "")))
    return found


def measure(runs: int = 2, sizes: tuple[int, ...] = SIZES,
            platforms: tuple[str, ...] = ("k8s", "swarm")) -> list[Figure]:
    builders: dict[str, Callable[[int], str]] = {
        "k8s": lambda n: kubernetes_blueprint(n, f"bench-scale-{uuid.uuid4().hex[:4]}"),
        "swarm": swarm_blueprint,
    }
    found: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for platform in platforms:
            samples = {size: Sample() for size in sizes}
            raw = Sample()
            for index in range(runs):
                raw.add(retried(partial(RAW[platform], max(sizes)), f"scale {platform} raw"))
                print(f"  scale {platform} run {index + 1}/{runs}, raw tool, {max(sizes)} "
                      f"microservice(s): install {raw.install[-1]:.2f} s, uninstall "
                      f"{raw.uninstall[-1]:.2f} s", flush=True)
                for size in (sizes if index % 2 == 0 else tuple(reversed(sizes))):
                    retried(partial(one_run, builders[platform](size), Path(tmp), samples[size]),
                            f"scale {platform} {size}")
                    print(f"  scale {platform} run {index + 1}/{runs}, {size} microservice(s): "
                          f"install {samples[size].install[-1]:.2f} s, uninstall "
                          f"{samples[size].uninstall[-1]:.2f} s, peak RSS "
                          f"{samples[size].rss_mb[-1]:.0f} MB", flush=True)
            found += figures_for(platform, samples)
            found += raw_figures(platform, max(sizes), samples[max(sizes)], raw)
    return found


if __name__ == "__main__":
    print(render_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 2)))
