"""The benchmark runner works end to end on its tiny configuration (`--tiny`: one run, scale sizes
1 and 2 of Swarm offline, the swarm/overhead/scale figures) against the real local clusters, and
writes its table, JSON and plot where it is told. Only that it works: no timing is asserted
(issue 7)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.clusters import leftovers
from tests.helpers.paths import ROOT

pytestmark = pytest.mark.usefixtures("swarm", "kube")


def test_tiny_benchmark_run_writes_table_json_and_plot(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--tiny", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "[bench] scale: done" in proc.stdout

    results = json.loads((tmp_path / "results.json").read_text())
    groups = {f["group"] for f in results["figures"]}
    assert groups == {"swarm", "overhead", "scale"}
    assert all(f["ours"] for f in results["figures"]), "a figure without measurements"
    assert set(results["heavy_imports"]) == {"cloudify_swarm.tasks", "cloudify_kubernetes.tasks",
                                             "cloudify_proxy.tasks"}
    names = {f["name"] for f in results["figures"]}
    assert {"scale swarm install, 2 microservices",
            "scale swarm peak RSS of cfy, 2 microservices"} <= names

    table = (tmp_path / "results.md").read_text()
    assert "| swarm install->converged, 2-replica service [s] |" in table
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [line for line in leftovers() if "bench-" in line]
