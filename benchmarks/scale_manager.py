"""The scale blueprints on the real manager (issue 15): the same blueprint uploaded, its
deployment created, then `cfy executions start install` / `uninstall` timed (the CLI's wall
time, as `cfy install` is timed offline; blueprint upload and deployment creation are not
timed), with the peak memory of the mgmtworker. The floor of issue 28 (the same graph, each
operation benchmarks/noop_plugin's empty one) runs through the same `run`, the no-op plugin
uploaded as benchmarks.operation_breakdown uploads it for its floor-* views.

The mgmtworker runs every operation in a subprocess of its own, so its memory is a process
tree: TreeRss samples the resident set of the mgmtworker and all its descendants (read from
/proc every SAMPLE_EVERY seconds) and keeps the largest sum seen. That sum counts pages shared
between processes once per process (an upper bound on what the tree needs) and can miss a peak
shorter than the sampling interval; it is what the table calls the mgmtworker's peak RSS.
"""
from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from types import TracebackType

from benchmarks.common import cleanup_on_failure, timed
from benchmarks.operation_breakdown import ROOT, upload_plugin
from examples.manager import STATE, ManagerCfy, ensure_wagon, wait_deleted
from tests.helpers.clusters import leftovers

# MAX_OPERATION_WORKERS in scripts/manager/services.sh: how many operations the mgmtworker runs at
# once
MANAGER_THREADS = 4
PID_FILE = STATE / "pids" / "mgmtworker.pid"
SAMPLE_EVERY = 0.2


def children_of() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found.setdefault(int(fields[1]), []).append(int(entry))
    return found


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return 0  # ended meanwhile


def tree_rss_kib(root: int) -> int:
    """The resident set of `root` and every descendant, summed."""
    children, total, todo = children_of(), 0, [root]
    while todo:
        pid = todo.pop()
        total += rss_kib(pid)
        todo += children.get(pid, [])
    return total


class TreeRss:
    """The peak (sampled) RSS sum of the mgmtworker's process tree while the block runs."""

    def __init__(self, root: int | None = None) -> None:
        self.root = root if root is not None else int(PID_FILE.read_text().strip())
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.root))
            if self._stop.wait(SAMPLE_EVERY):
                return

    def __enter__(self) -> TreeRss:
        self.peak_kib = tree_rss_kib(self.root)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kib / 1024


class ManagerScale:
    """One manager profile for the scale runs, the suite's current wagon uploaded once."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.cli = ManagerCfy(workdir / "cfy-manager")
        self.prepared = False
        self.floor_prepared = False

    def prepare(self) -> None:
        if not self.prepared:
            self.cli.ensure_plugin(ensure_wagon())
            self.prepared = True

    def prepare_floor(self) -> None:
        """The no-op plugin on the manager (uploaded unless its version is there already)."""
        if not self.floor_prepared:
            folder = self.workdir / "floor-plugin"  # where its wagon is built, if it is
            folder.mkdir(parents=True, exist_ok=True)
            upload_plugin("floor-scale", ROOT, folder)  # floor-*: the no-op plugin
            self.floor_prepared = True

    def run(self, blueprint: Path, floor: bool = False) -> tuple[float, float, float]:
        """Install and uninstall `blueprint` (`floor`: a floor blueprint, on the no-op plugin) in
        a new deployment: (install s, uninstall s, peak MB of the mgmtworker's tree over both);
        the deployment and blueprint deleted afterwards and nothing left on the clusters."""
        if floor:
            self.prepare_floor()
        else:
            self.prepare()
        deployment = f"bench-{'floor' if floor else 'scale'}-{uuid.uuid4().hex[:6]}"
        with cleanup_on_failure(lambda: self.cli.uninstall(deployment)):
            self.cli.upload_blueprint(blueprint, deployment)
            self.cli.create_deployment(deployment, deployment)
            with TreeRss() as up_rss:
                up = timed(lambda: self.cli.execute("install", deployment))
            with TreeRss() as down_rss:
                down = timed(lambda: self.cli.execute("uninstall", deployment))
            self.cli.run("deployments", "delete", deployment)
            wait_deleted(self.cli.access.client(), deployment)
            self.cli.run("blueprints", "delete", deployment)
        left = leftovers(deployment)
        if left:
            raise RuntimeError(f"{deployment} left {left}")
        return up, down, max(up_rss.peak_mb, down_rss.peak_mb)
