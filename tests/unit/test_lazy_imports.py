"""On a manager every operation runs in a fresh process, so loading a tasks module must not load
the heavy client libraries: each operation imports them when it talks to its backend. An
operation that only validates (Port/Container/Microservice create) then costs little more than
Cloudify's own floor (see benchmarks/overhead.py for the figures)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers.paths import ROOT

HEAVY = ("docker", "kubernetes", "fabric", "paramiko", "networkx", "cloudify.workflows.local")
TASK_MODULES = ["cloudify_swarm.tasks", "cloudify_kubernetes.tasks", "cloudify_proxy.tasks"]


def loaded_after_import(module: str) -> list[str]:
    code = (f"import sys, json; import {module}; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return list(json.loads(proc.stdout))


@pytest.mark.parametrize("module", TASK_MODULES)
def test_tasks_module_loads_no_heavy_client(module: str) -> None:
    assert loaded_after_import(module) == []
