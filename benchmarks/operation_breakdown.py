"""Where one operation's time goes on the real manager (issue 28, item 1).

Two views, each printed as a markdown table:

- manager: the scale blueprints (1 or N microservices) installed and uninstalled on the real
  manager; from the execution's events, per operation: the wall time from `task_started` to
  `task_succeeded` (one fresh plugin process: interpreter, imports, ctx over REST, the cluster
  work) and from `sending_task` to `task_started` (queueing), median over the instances; and
  the REST requests the whole execution made (nginx's access log, lines added meanwhile), and
  the CPU the whole machine was busy meanwhile (every process: manager, cluster, ours).
- process: one operation in a fresh process of the manager's plugin virtualenv (its Python and
  libraries, this work tree's code first on the path), against the real clusters, with a mock
  ctx: interpreter start, `cloudify` imports, the tasks module's import, the operation, and the
  HTTP requests it made to the cluster (count and summed time), CPU of the whole process.

- raw: the raw tool at the manager's concurrency (THREADS, default 4: the mgmtworker's
  operation workers), the two wall times (benchmarks/scale_raw.py): Kubernetes (KubectlEach)
  per Deployment its own `kubectl apply` + `kubectl rollout status` and its own `kubectl
  delete`, THREADS at a time; Swarm (DockerRun) per service its own `docker service create
  --detach=false`, THREADS at a time, and one `docker service rm` of all. raw-k8s-all: one
  `kubectl apply` of every Deployment + `kubectl wait` (the cluster's work at full
  concurrency). With the machine's busy CPU of each phase.

Run (holding the cluster lock):
    .venv/bin/python -m benchmarks.operation_breakdown manager k8s|swarm N [ROOT]
    .venv/bin/python -m benchmarks.operation_breakdown manager floor-k8s|floor-swarm N [ROOT]
        (ROOT: the tree whose wagon and plugin yamls are measured, or a .wgn file kept from
        before a change; floor-*: that platform's graph with each operation that ROOT's
        plugin_1_5.yaml maps an empty one of benchmarks/noop_plugin, the floor of issue 28)
    .venv/bin/python -m benchmarks.operation_breakdown raw-k8s|raw-k8s-all|raw-swarm N [THREADS]
    .venv/bin/python -m benchmarks.operation_breakdown process k8s [PYTHON]
        (Kubernetes only: a Swarm Container's operations need a Microservice's relationship ctx,
        which the mock does not give; its import costs are measured as in the results file)
Measures, never asserts.
"""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import busy_cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
MANAGER_STATE = Path(os.environ.get("REAL_MANAGER_STATE", "/var/lib/cloudify-vnf-manager"))
PLUGIN_PYTHON = (MANAGER_STATE / "mgmtworker-venv/plugins/default_tenant/cloudify-vnf-suite/0.1.0"
                 / "bin/python")
ACCESS_LOG = MANAGER_STATE / "logs/rest-access.log"


# ---- the manager's view ----------------------------------------------------------------------

def operation_times(events: list[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """Per operation name: 'run' (task_started -> task_succeeded) and 'queued' (sending_task ->
    task_started) seconds, one entry per node instance (the last attempt's)."""
    started: dict[tuple[str, str], float] = {}
    sent: dict[tuple[str, str], float] = {}
    found: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        context = event.get("context") or {}
        operation = str(context.get("operation") or event.get("operation") or "")
        instance = str(context.get("node_instance_id") or event.get("node_instance_id") or "")
        if not operation:
            continue
        node = re.sub(r"\d+", "", str(context.get("node_name") or event.get("node_name") or ""))
        key = (instance, operation)
        operation = f"{node} {short(operation)}".strip()
        stamp = parse_time(str(event.get("reported_timestamp") or event.get("timestamp")))
        kind = event.get("event_type")
        if kind == "sending_task":
            sent[key] = stamp
        elif kind == "task_started":
            started[key] = stamp
            if key in sent:
                found[operation]["queued"].append(stamp - sent[key])
        elif kind == "task_succeeded" and key in started:
            found[operation]["run"].append(stamp - started[key])
    return found


def parse_time(text: str) -> float:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=value.tzinfo or UTC).timestamp()


def short(operation: str) -> str:
    parts = operation.split(".")
    return ".".join(parts[-2:]) if len(parts) > 1 else operation


def access_lines() -> int:
    try:
        with open(ACCESS_LOG, "rb") as handle:
            return sum(1 for _ in handle)
    except OSError:
        return 0


def manager_run(platform: str, count: int, root: Path = ROOT) -> dict[str, Any]:
    """`root`: the tree whose wagon is uploaded first, or a wagon (.wgn) kept from before a
    change."""
    from benchmarks import scale_blueprints
    workdir = Path(tempfile.mkdtemp(prefix="opbreak-"))
    deployment = f"opbreak-{uuid.uuid4().hex[:6]}"
    floors = {"floor-k8s": scale_blueprints.noop_kubernetes_blueprint,
              "floor-swarm": scale_blueprints.noop_swarm_blueprint}
    if platform not in ("k8s", "swarm", *floors):
        raise SystemExit(f"manager: k8s, swarm or one of {', '.join(floors)}, not {platform}")
    cli = upload_plugin(platform, root, workdir)
    if platform in floors:
        text = floors[platform](count, yaml.safe_load((tree(root) / "plugin_1_5.yaml").read_text()))
    elif platform == "k8s":
        text = scale_blueprints.kubernetes_blueprint(count, deployment)
    else:
        text = scale_blueprints.swarm_blueprint(count)
    blueprint = workdir / "blueprint.yaml"
    blueprint.write_text(text)
    result: dict[str, Any] = {"platform": platform, "count": count, "load": os.getloadavg()[0],
                              "root": str(root)}
    try:
        cli.upload_blueprint(blueprint, deployment)
        cli.create_deployment(deployment, deployment)
        for workflow in ("install", "uninstall"):
            before, start, busy = access_lines(), time.perf_counter(), busy_cpu_seconds()
            cli.execute(workflow, deployment)
            result[workflow] = {"wall": time.perf_counter() - start,
                                "busy_cpu": busy_cpu_seconds() - busy,
                                "rest_requests": access_lines() - before}
            execution = [e for e in cli.executions(deployment) if e.workflow_id == workflow][-1]
            events = list(cli.access.client().events.list(
                execution_id=execution.id, include_logs=False, _size=10000,
                sort="reported_timestamp"))
            result[workflow]["operations"] = operation_times([dict(e) for e in events])
    finally:
        cli.uninstall(deployment)
    return result


def tree(root: Path) -> Path:
    """The source tree of `root` (a .wgn is measured with this tree's plugin yamls)."""
    return ROOT if root.suffix == ".wgn" else root


def upload_plugin(platform: str, root: Path, workdir: Path) -> Any:
    """Ours (the wagon of `root` with `root`'s plugin yamls, so a tree kept from before a change
    maps what it mapped then), or for a floor-* the no-op plugin (benchmarks/noop_plugin)."""
    from benchmarks import scale_blueprints
    from benchmarks.manager_compare import NOOP, noop_wagon
    from examples.manager import ManagerCfy, ensure_wagon
    cli = ManagerCfy(workdir / "cfy-manager")
    if platform.startswith("floor-"):
        client = cli.access.client()
        if not list(client.plugins.list(package_name="cloudify-noop-bench",
                                        package_version=scale_blueprints.NOOP_VERSION)):
            cli.run("plugins", "upload", str(noop_wagon(workdir)), "-y", str(NOOP / "plugin.yaml"),
                    "--visibility", "global")
    else:
        yamls = tuple(tree(root) / name
                      for name in ("plugin.yaml", "plugin_1_4.yaml", "plugin_1_5.yaml"))
        cli.ensure_plugin(root if root.suffix == ".wgn" else ensure_wagon(root), yamls)
    return cli


def manager_table(result: dict[str, Any]) -> str:
    lines = [f"{result['platform']}, {result['count']} service(s), load {result['load']:.2f}, "
             f"wagon of {result['root']}", "",
             "| workflow | operation | n | run median s | run max s | queued median s |",
             "| --- | --- | --- | --- | --- | --- |"]
    for workflow in ("install", "uninstall"):
        data = result.get(workflow) or {}
        for name, times in sorted((data.get("operations") or {}).items()):
            run, queued = times.get("run") or [0.0], times.get("queued") or [0.0]
            lines.append(f"| {workflow} | {name} | {len(run)} | {statistics.median(run):.2f} | "
                         f"{max(run):.2f} | {statistics.median(queued):.2f} |")
        if data:
            lines.append(f"| {workflow} | (whole execution) | | {data['wall']:.1f} | | "
                         f"REST requests: {data['rest_requests']}; {cpu_text(data)} |")
    return "\n".join(lines)


def cpu_text(data: dict[str, Any]) -> str:
    """The machine's busy CPU over a run: seconds, and cores kept busy on average (of how many
    the machine has)."""
    if "busy_cpu" not in data:
        return "machine CPU not measured"
    return (f"machine CPU busy {data['busy_cpu']:.1f} s = {data['busy_cpu'] / data['wall']:.2f} "
            f"of {os.cpu_count()} cores")


# ---- one operation in a fresh process ----------------------------------------------------------

PROCESS = r"""
import json, os, sys, time
t0 = time.perf_counter()
import cloudify.decorators, cloudify.mocks
t1 = time.perf_counter()
module = __import__(sys.argv[1], fromlist=["x"])
t2 = time.perf_counter()
import urllib3.connectionpool as pool
calls = []
original = pool.HTTPConnectionPool.urlopen
def urlopen(self, method, url, *args, **kwargs):
    start = time.perf_counter()
    try:
        return original(self, method, url, *args, **kwargs)
    finally:
        calls.append(time.perf_counter() - start)
pool.HTTPConnectionPool.urlopen = urlopen
spec = json.loads(sys.argv[2])
ctx = cloudify.mocks.MockCloudifyContext(**spec["ctx"])
ctx._local = True
ctx.node.number_of_instances = 1
modules_before = set(sys.modules)
getattr(module, spec["operation"])(ctx=ctx, **spec.get("inputs", {}))
t3 = time.perf_counter()
heavy = sorted({m.split(".")[0] for m in set(sys.modules) - modules_before})
print(json.dumps({"cloudify": t1 - t0, "tasks": t2 - t1, "operation": t3 - t2,
                  "requests": len(calls), "request_s": sum(calls), "imported": heavy,
                  "runtime_properties": dict(ctx.instance.runtime_properties)}))
"""

K8S_API = {"host": "https://127.0.0.1:6443", "token_file": "/var/lib/cloudify-vnf-local/pki/token",
           "ca_file": "/var/lib/cloudify-vnf-local/pki/ca.crt"}


def fresh(python: str, module: str, spec: dict[str, Any]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    start = time.perf_counter()
    before = os.times()
    proc = subprocess.run([python, "-c", PROCESS, module, json.dumps(spec)], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)
    after = os.times()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{spec['operation']} failed:\n{proc.stderr[-2000:]}")
    found: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    found["wall"] = wall
    found["cpu"] = ((after.children_user - before.children_user)
                    + (after.children_system - before.children_system))
    return found


def interpreter(python: str) -> float:
    start = time.perf_counter()
    subprocess.run([python, "-c", "pass"], check=True)
    return time.perf_counter() - start


def k8s_sequence(name: str) -> list[tuple[str, str, dict[str, Any]]]:
    from benchmarks.scale_blueprints import deployment
    props = {"config": deployment(name), "timeout": 300, "config_files": [], "namespace": "default"}
    master = {"node_id": "master_1", "node_name": "master",
              "properties": {"api": K8S_API, "ssh": {}}}
    service = {"node_id": f"{name}_1", "node_name": name, "deployment_id": name,
               "properties": props}
    return [("Master create", "master_create", master)] + [
        (f"Microservice {op}", f"microservice_{op}", service)
        for op in ("create", "start", "stop", "delete")]


def process_run(platform: str, python: str) -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    name = f"opb{uuid.uuid4().hex[:5]}"
    if platform != "k8s":
        raise SystemExit("process: k8s only")
    carried: dict[str, Any] = {}
    for label, operation, ctx in k8s_sequence(name):
        spec = {"operation": operation, "ctx": dict(ctx, runtime_properties=dict(carried))}
        found = fresh(python, "cloudify_kubernetes.tasks", spec)
        if operation == "master_create":
            carried = {"kubernetes_info": found["runtime_properties"]["kubernetes_info"]}
        else:
            carried = found["runtime_properties"]
        rows.append((label, found))
    return rows


def process_table(rows: list[tuple[str, dict[str, Any]]], start: float, python: str) -> str:
    lines = [f"fresh process of {python}; `python -c pass` {start:.3f} s; "
             f"load {os.getloadavg()[0]:.2f}", "",
             "| operation | wall s | CPU s | cloudify imports s | tasks import s | operation s "
             "| cluster requests | in requests s | imported during the operation |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for label, found in rows:
        lines.append(f"| {label} | {found['wall']:.2f} | {found['cpu']:.2f} | "
                     f"{found['cloudify']:.3f} "
                     f"| {found['tasks']:.3f} | {found['operation']:.3f} | {found['requests']} "
                     f"| {found['request_s']:.3f} | {', '.join(found['imported']) or '-'} |")
    return "\n".join(lines)


# ---- the raw tool at the manager's concurrency -------------------------------------------------

def raw_table(platform: str, count: int, threads: int) -> str:
    from benchmarks import scale_raw
    scales = {"raw-k8s": ("kubectl apply + rollout status each", scale_raw.kubectl_each_scale),
              "raw-k8s-all": ("kubectl apply of all + wait", scale_raw.kubectl_scale),
              "raw-swarm": ("docker service create each, one rm", scale_raw.docker_scale)}
    if platform not in scales:
        raise SystemExit(f"raw: one of {', '.join(scales)}, not {platform}")
    label, scale = scales[platform]
    load, when = os.getloadavg()[0], datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cpu: list[float] = []
    installed, uninstalled = scale(count, threads, cpu)
    return "\n".join([
        "| tool | services | threads | install s | uninstall s | machine CPU busy s "
        "(install / uninstall) | load at start | started |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {label} | {count} | {threads} | {installed:.1f} | {uninstalled:.1f} | "
        f"{cpu[0]:.1f} / {cpu[1]:.1f} | {load:.2f} | {when} |"])


def main(argv: list[str]) -> None:
    view = argv[0]
    if view.startswith("raw-"):
        count = int(argv[1]) if len(argv) > 1 else 1
        from benchmarks.scale_raw import MANAGER_WORKERS
        print(raw_table(view, count, int(argv[2]) if len(argv) > 2 else MANAGER_WORKERS))
        return
    platform = argv[1]
    if view == "manager":
        root = Path(argv[3]) if len(argv) > 3 else ROOT
        print(manager_table(manager_run(platform, int(argv[2]) if len(argv) > 2 else 1, root)))
    else:
        python = argv[2] if len(argv) > 2 else str(PLUGIN_PYTHON)
        print(process_table(process_run(platform, python), interpreter(python), python))


if __name__ == "__main__":
    main(sys.argv[1:])
