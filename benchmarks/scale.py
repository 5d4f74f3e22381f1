"""Scale (figure 6): one blueprint with 1, 10 and 50 microservices, on Kubernetes and on Swarm,
installed and uninstalled with the real `cfy` CLI (local profile, scripts/cfy-offline): wall time
of each command and the peak memory (max RSS) of the `cfy` process, read from the kernel's
accounting of that very child (os.wait4). The larger sizes are compared with the smallest,
measured in the same runs, sizes interleaved (small to large, then large to small).

`cfy` runs the workflow's tasks on a thread pool of THREADS (its default is 1, i.e. every
operation one after the other; a manager's agent runs operations concurrently).

Run: .venv/bin/python -m benchmarks.scale [RUNS]   (or python -m benchmarks --only scale)
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from benchmarks.common import Figure, cleanup_on_failure, render_table, retried
from benchmarks.scale_blueprints import kubernetes_blueprint, swarm_blueprint
from tests.helpers.cfy_cli import CFY_OFFLINE, CfyCli
from tests.helpers.clusters import leftovers

SIZES = (1, 10, 50)
THREADS = 10


@dataclass
class Sample:
    install: list[float] = field(default_factory=list)
    uninstall: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)


def cfy_timed(cfy: CfyCli, log: Path, *args: str) -> tuple[float, float]:
    """Run one cfy command; (seconds, peak RSS in MB of that process). Fails with the log's tail."""
    with log.open("a") as out:
        start = time.perf_counter()
        proc = subprocess.Popen([str(CFY_OFFLINE), *args], env=cfy.env(), stdout=out,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"cfy {' '.join(args[:2])} exited {proc.returncode}:\n"
                           f"{log.read_text()[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


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
    sample.install.append(up)
    sample.uninstall.append(down)
    sample.rss_mb.append(max(up_rss, down_rss))


def one_run(blueprint_text: str, tmp: Path, sample: Sample) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    blueprint = folder / "blueprint.yaml"
    blueprint.write_text(blueprint_text)
    install_uninstall(blueprint, folder, sample)


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
            for index in range(runs):
                for size in (sizes if index % 2 == 0 else tuple(reversed(sizes))):
                    retried(partial(one_run, builders[platform](size), Path(tmp), samples[size]),
                            f"scale {platform} {size}")
                    print(f"  scale {platform} run {index + 1}/{runs}, {size} microservice(s): "
                          f"install {samples[size].install[-1]:.2f} s, uninstall "
                          f"{samples[size].uninstall[-1]:.2f} s, peak RSS "
                          f"{samples[size].rss_mb[-1]:.0f} MB", flush=True)
            found += figures_for(platform, samples)
    return found


if __name__ == "__main__":
    print(render_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 2)))
