"""Per-operation overhead: a fresh Python process running one of our operations that has nothing
to wait for (import + context + work), per plugin, against the floor every Cloudify operation pays
(a fresh process importing Cloudify's decorators and mocks and running an empty @operation).
Also: which heavy modules each plugin's tasks module imports when it loads.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import Figure, interleave

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("kubernetes", "docker", "fabric", "paramiko", "cloudify_rest_client", "yaml", "requests",
         "urllib3", "dsl_parser", "cryptography")

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
    "swarm Manager.create": """
import time; t0 = time.perf_counter()
from cloudify.mocks import MockCloudifyContext
from cloudify_swarm import tasks
ctx = MockCloudifyContext(node_id="swarm_1", node_name="swarm", properties={"endpoint": {}})
tasks.manager_create(ctx=ctx)
print(time.perf_counter() - t0)
""",
    "kubernetes Master.create": """
import time; t0 = time.perf_counter()
from cloudify.mocks import MockCloudifyContext
from cloudify_kubernetes import tasks
ctx = MockCloudifyContext(node_id="master_1", node_name="master", properties={"api": {
    "host": "https://127.0.0.1:6443", "token_file": "/var/lib/cloudify-vnf-local/pki/token",
    "ca_file": "/var/lib/cloudify-vnf-local/pki/ca.crt"}, "ssh": {}})
tasks.master_create(ctx=ctx)
print(time.perf_counter() - t0)
""",
    "proxy DeploymentProxy.create": """
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
}


def fresh_process(code: str, *args: str) -> float:
    """Wall time of a fresh interpreter running `code` (process start included)."""
    import time
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code, *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"operation failed:\n{proc.stderr[-2000:]}")
    return elapsed


def heavy_imports(module: str) -> list[str]:
    code = (f"import sys, json; import {module}; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return list(json.loads(out))


def upstream_storage(workdir: Path) -> str:
    """Install tests/blueprints/proxy-upstream as 'upstream' in a local profile; return its storage."""
    env_cmd = [str(ROOT / "scripts" / "cfy-offline"), "install",
               str(ROOT / "tests" / "blueprints" / "proxy-upstream" / "blueprint.yaml"), "-b", "upstream",
               "--task-retries", "0", "--task-retry-interval", "1"]
    import os
    env = dict(os.environ, CFY_WORKDIR=str(workdir), PYTHONWARNINGS="ignore",
               CFY=str(Path(sys.executable).with_name("cfy")))
    subprocess.run(env_cmd, env=env, capture_output=True, check=True)
    return str(workdir / ".cloudify" / "profiles" / "local")


def measure(runs: int) -> tuple[list[Figure], dict[str, list[str]]]:
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        storage = upstream_storage(Path(tmp))
        for name, code in OPERATIONS.items():
            figure = Figure(f"overhead: {name}", "s", raw_label="empty Cloudify operation",
                            target="<= 0.3 s above the floor")
            interleave(figure, runs, lambda c=code: fresh_process(c, storage),
                       lambda: fresh_process(FLOOR))
            figures.append(figure)
    imports = {m: heavy_imports(m) for m in ("cloudify_swarm.tasks", "cloudify_kubernetes.tasks",
                                             "cloudify_proxy.tasks")}
    return figures, imports


if __name__ == "__main__":
    found, loaded = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    from benchmarks.common import render_table
    print(render_table(found))
    print(json.dumps(loaded, indent=2))
