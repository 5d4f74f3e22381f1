"""The real Cloudify manager against the cfy local profile (issue 12), same run, interleaved:

- the hybrid chain (k8s-cluster, swarm-cluster, service): install until proven (both backends
  answer, the router on its node with its route) and uninstall until nothing with its labels is
  left, through the manager's mgmtworker vs in the local profile;
- per-operation overhead on the manager: the time from "Sending task" to "Task succeeded" (as
  the manager's events record it) of our operations that need no backend (Swarm Port.create, a
  DeploymentProxy create reading the manager it runs on) vs an empty operation of a one-line
  plugin (benchmarks/noop_plugin), alternating in one deployment, one operation at a time.

Needs `scripts/real-manager up` and the local clusters.
Run: .venv/bin/python -m benchmarks --only manager   (or python -m benchmarks.manager_compare)
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime
from pathlib import Path

from benchmarks.common import Figure, interleave, timed
from examples.demo import Chain, ManagerChain, down, up
from examples.manager import ManagerCfy
from tests.helpers import clusters

ROOT = Path(__file__).resolve().parents[1]
NOOP = ROOT / "benchmarks" / "noop_plugin"
UPSTREAM = ROOT / "tests" / "blueprints" / "proxy-upstream" / "blueprint.yaml"


def chain_cycle(chain: Chain, durations: dict[str, list[float]]) -> None:
    """One install-until-proven and uninstall-until-gone of the chain, timed into `durations`."""
    durations.setdefault("up", []).append(timed(lambda: up(chain)))

    def down_and_gone() -> None:
        down(chain)
        for name in ("k8s-cluster", "swarm-cluster", "service"):
            clusters.wait_gone(lambda n=name: clusters.leftovers(chain.deployment(n)), timeout=120)
    durations.setdefault("down", []).append(timed(down_and_gone))


def measure_chain(runs: int, workdir: Path) -> list[Figure]:
    manager = ManagerChain(workdir / "manager", prefix=f"bm{uuid.uuid4().hex[:3]}-", lb_port=18094)
    manager.prepare()  # wagon built and uploaded before anything is timed
    local = Chain(workdir / "local", prefix=f"bl{uuid.uuid4().hex[:3]}-", lb_port=18095)
    ours: dict[str, list[float]] = {}
    raw: dict[str, list[float]] = {}
    figures = [Figure(f"hybrid chain {what}, on the manager", "s",
                      raw_label="the same in the cfy local profile", group="manager")
               for what in ("install->proven", "uninstall->gone")]

    def on_manager() -> float:
        chain_cycle(manager, ours)
        return ours["up"][-1]

    def in_local() -> float:
        chain_cycle(local, raw)
        return raw["up"][-1]

    interleave(figures[0], runs, on_manager, in_local)
    figures[1].ours, figures[1].raw = ours["down"], raw["down"]
    return figures


def noop_wagon(workdir: Path) -> Path:
    subprocess.run([str(Path(sys.executable).with_name("wagon")), "create", str(NOOP), "-o",
                    str(workdir), "--format", "tar.gz"], check=True, capture_output=True)
    return next(workdir.glob("*.wgn"))


def task_seconds(events: list[dict[str, object]]) -> dict[str, float]:
    """Per node instance: from its 'sending_task' event to its 'task_succeeded' event."""
    def when(event: dict[str, object]) -> datetime:
        return datetime.fromisoformat(str(event["reported_timestamp"]).replace("Z", "+00:00"))
    sent: dict[str, datetime] = {}
    took: dict[str, float] = {}
    for event in events:
        instance = str(event.get("node_instance_id"))
        if event.get("event_type") == "sending_task":
            sent[instance] = when(event)
        elif event.get("event_type") == "task_succeeded" and instance in sent:
            took[instance] = (when(event) - sent[instance]).total_seconds()
    return took


def measure_operations(runs: int, workdir: Path) -> list[Figure]:
    cli = ManagerCfy(workdir / "cfy-ops")
    client = cli.access.client()
    if not [p for p in client.plugins.list(package_name="cloudify-noop-bench")]:
        cli.run("plugins", "upload", str(noop_wagon(workdir)), "-y", str(NOOP / "plugin.yaml"),
                "--visibility", "global")
    upstream = f"bench-up-{uuid.uuid4().hex[:4]}"
    cli.install(UPSTREAM, upstream)
    samples: dict[str, list[float]] = {"noop": [], "port": [], "proxy": []}
    try:
        for run in range(runs):
            name = f"bench-ops-{uuid.uuid4().hex[:4]}"
            cli.install(NOOP / "blueprint.yaml", name, {"upstream": upstream})
            install = [e for e in cli.executions(name) if e.workflow_id == "install"][-1]
            events = list(client.events.list(execution_id=install.id, _size=1000,
                                             sort="reported_timestamp"))
            for instance, seconds in task_seconds(events).items():
                kind = instance.split("_", 1)[0]
                if kind in samples:
                    samples[kind].append(seconds)
            cli.uninstall(name)
            print(f"  operation overhead on the manager: run {run + 1}/{runs}", flush=True)
    finally:
        cli.uninstall(upstream)
    floor = samples["noop"]
    return [Figure(f"manager op: {label}", "s per operation", ours=samples[kind], raw=list(floor),
                   raw_label="an empty operation (one-line plugin)", group="manager",
                   note=f"+{statistics.median(samples[kind]) - statistics.median(floor):.2f} s"
                   if samples[kind] and floor else "")
            for kind, label in (("port", "Swarm Port.create (validates)"),
                                ("proxy", "DeploymentProxy create (reads this manager)"))]


def measure(runs: int = 3) -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        return measure_chain(runs, workdir) + measure_operations(runs, workdir)


if __name__ == "__main__":
    from benchmarks.common import render_table
    print(render_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
