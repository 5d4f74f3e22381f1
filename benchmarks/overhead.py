"""Per-operation overhead (figure 5): a fresh Python process (as a manager's agent runs every
operation) running one of our operations that has nothing to wait for (import + context + work),
against the floor every Cloudify operation pays (a fresh process importing Cloudify's decorators
and mocks and running an empty @operation), interleaved. Per plugin two operations: one that only
validates (no backend client needed) and one that makes one quick call to its backend (the
Swarm/Kubernetes API, the local profile's storage). Also: which heavy modules each plugin's tasks
module imports when it loads.

Run: .venv/bin/python -m benchmarks.overhead [RUNS]   (or python -m benchmarks --only overhead)
"""
from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Figure, interleave
from tests.helpers.fake_manager import FakeManager, serving

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("kubernetes", "docker", "fabric", "paramiko", "cloudify_rest_client", "yaml", "requests",
         "urllib3", "networkx", "cloudify.workflows.local", "cryptography")
TASK_MODULES = ("cloudify_swarm.tasks", "cloudify_kubernetes.tasks", "cloudify_proxy.tasks")

FLOOR = """
import time; t0 = time.perf_counter()
from cloudify.decorators import operation
from cloudify.mocks import MockCloudifyContext
@operation
def noop(ctx, **_): ctx.instance.runtime_properties["x"] = 1
noop(ctx=MockCloudifyContext(node_id="n", node_name="n"))
print(time.perf_counter() - t0)
"""

OPERATIONS = {
    "swarm Port.create (validates)": """
import time; t0 = time.perf_counter()
from cloudify.mocks import MockCloudifyContext
from cloudify_swarm import tasks
ctx = MockCloudifyContext(node_id="port_1", node_name="port", properties={
    "target": 8080, "published": 18080, "protocol": "tcp", "mode": "ingress"})
tasks.port_create(ctx=ctx)
print(time.perf_counter() - t0)
""",
    "kubernetes Microservice.create (renders)": """
import time; t0 = time.perf_counter()
from cloudify.mocks import MockCloudifyContext
from cloudify_kubernetes import tasks
ctx = MockCloudifyContext(node_id="app_1", node_name="app", deployment_id="d", properties={
    "namespace": "default", "config_files": [], "env": {"A": "1"}, "config": {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}})
ctx.node.number_of_instances = 1  # (Cloudify's mock node lacks it; the naming rule reads it)
tasks.microservice_create(ctx=ctx)
print(time.perf_counter() - t0)
""",
    "proxy DeploymentProxy.delete (forgets)": """
import time; t0 = time.perf_counter()
from cloudify.mocks import MockCloudifyContext
from cloudify_proxy import tasks
ctx = MockCloudifyContext(node_id="proxy_1", node_name="proxy", runtime_properties={
    "copied_outputs": ["a"], "a": 1})
tasks.proxy_delete(ctx=ctx)
print(time.perf_counter() - t0)
""",
    "swarm Manager.create (1 Engine call)": """
import time; t0 = time.perf_counter()
from cloudify.mocks import MockCloudifyContext
from cloudify_swarm import tasks
ctx = MockCloudifyContext(node_id="swarm_1", node_name="swarm", properties={"endpoint": {}})
ctx._local = True  # the cfy local profile: the local Engine is reachable (issue 24)
tasks.manager_create(ctx=ctx)
print(time.perf_counter() - t0)
""",
    "kubernetes Master.create (1 API call)": """
import time; t0 = time.perf_counter()
from cloudify.mocks import MockCloudifyContext
from cloudify_kubernetes import tasks
ctx = MockCloudifyContext(node_id="master_1", node_name="master", properties={"api": {
    "host": "https://127.0.0.1:6443", "token_file": "/var/lib/cloudify-vnf-local/pki/token",
    "ca_file": "/var/lib/cloudify-vnf-local/pki/ca.crt"}, "ssh": {}})
ctx._local = True  # as in the cfy local profile, where a host path may be read (issue 17)
tasks.master_create(ctx=ctx)
print(time.perf_counter() - t0)
""",
    "proxy DeploymentProxy.create (reads local profile)": """
import time, sys; t0 = time.perf_counter()
from cloudify.mocks import MockCloudifyContext
from cloudify_proxy import tasks
ctx = MockCloudifyContext(node_id="proxy_1", node_name="proxy", properties={
    "deployment_id": "upstream", "inherit_outputs": [], "wait_for": {}, "timeout": 0,
    "poll_interval": 0.5, "manager": {}, "storage_dir": sys.argv[1]})
ctx._local = True
tasks.proxy_create(ctx=ctx)
print(time.perf_counter() - t0)
""",
    "proxy DeploymentProxy.create (REST, as on a manager)": """
import os, time, sys; t0 = time.perf_counter()
# as on a manager whose administrator allows this (fake) manager (issue 24)
os.environ["CLOUDIFY_VNF_ALLOWED_MANAGERS"] = f"http://127.0.0.1:{sys.argv[2]}"
from cloudify.mocks import MockCloudifyContext
from cloudify_proxy import tasks
ctx = MockCloudifyContext(node_id="proxy_1", node_name="proxy", properties={
    "deployment_id": "upstream", "inherit_outputs": [], "wait_for": {}, "timeout": 0,
    "poll_interval": 0.5, "manager": {"host": "127.0.0.1", "port": int(sys.argv[2]),
    "protocol": "http", "token": sys.argv[3]}})
tasks.proxy_create(ctx=ctx)
print(time.perf_counter() - t0)
""",
}


def fresh_process(code: str, *args: str, cwd: Path = ROOT) -> float:
    """Wall time of a fresh interpreter running `code` in `cwd` (process start included; the
    packages in `cwd` come first on the path, so a checkout of an older commit can be measured)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code, *args], cwd=cwd,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"operation failed:\n{proc.stderr[-2000:]}")
    return elapsed


def heavy_imports(module: str, cwd: Path = ROOT) -> list[str]:
    """The HEAVY modules that importing `module` loads beyond what cloudify.decorators loads."""
    code = (f"import sys, json; import cloudify.decorators; floor = set(sys.modules); "
            f"import {module}; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules and m not in floor]))")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=cwd, capture_output=True,
                         text=True, check=True).stdout
    return list(json.loads(out))


def upstream_storage(workdir: Path) -> str:
    """Install tests/blueprints/proxy-upstream as 'upstream' in a local profile; return its
    storage."""
    env_cmd = [str(ROOT / "scripts" / "cfy-offline"), "install",
               str(ROOT / "tests" / "blueprints" / "proxy-upstream" / "blueprint.yaml"), "-b",
               "upstream",
               "--task-retries", "0", "--task-retry-interval", "1"]
    env = dict(os.environ, CFY_WORKDIR=str(workdir), PYTHONWARNINGS="ignore",
               CFY=str(Path(sys.executable).with_name("cfy")))
    subprocess.run(env_cmd, env=env, capture_output=True, check=True)
    return str(workdir / ".cloudify" / "profiles" / "local")


def measure(runs: int = 5, cwd: Path = ROOT) -> tuple[list[Figure], dict[str, list[str]]]:
    figures = []
    fake = FakeManager()
    fake.add_deployment("upstream", {"vm_info": {"ips": ["10.20.0.2"]}})
    fake.end_execution(fake.start_execution("upstream"))
    with tempfile.TemporaryDirectory() as tmp, serving(fake) as port:
        args = (upstream_storage(Path(tmp)), str(port), fake.token)
        for name, code in OPERATIONS.items():
            figure = Figure(f"overhead: {name}", "s", raw_label="empty Cloudify operation",
                            target="<= 0.3 s above the floor", group="overhead")
            interleave(figure, runs, functools.partial(fresh_process, code, *args, cwd=cwd),
                       functools.partial(fresh_process, FLOOR, cwd=cwd))
            above = [ours - raw for ours, raw in zip(figure.ours, figure.raw, strict=True)]
            figure.note = f"above the floor: {statistics.median(above):+.2f} s (median of pairs)"
            figures.append(figure)
    imports = {m: heavy_imports(m, cwd) for m in TASK_MODULES}
    return figures, imports


if __name__ == "__main__":
    found, loaded = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3,
                            Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT)
    from benchmarks.common import render_table
    print(render_table(found))
    print(json.dumps(loaded, indent=2))
