"""Soak: install/uninstall cycles of the hybrid example (k8s-cluster, swarm-cluster, service)
through the real cfy CLI, with the chain proven and the leak check after every cycle; the
Kubernetes upstream alternates between its descriptor and its Helm blueprint.

`SOAK_CYCLES` sets the number of cycles (2 in CI: each is the chain test's whole cycle again);
`scripts/soak` runs 20 and prints a line per cycle. Each cycle uses fresh deployment ids, so a leak
from one cycle cannot hide in the next.
"""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from examples.demo import DEPLOYMENTS, Chain, down, up
from tests.helpers import clusters

CYCLES = int(os.environ.get("SOAK_CYCLES", "2"))
# the Kubernetes upstream of each cycle, in turn: descriptor files (`make demo`), then a Helm chart
# (`make demo-helm`; the chain test runs the first, so this is where the second is proven)
UPSTREAMS = ("k8s-cluster", "k8s-cluster-helm")
pytestmark = [pytest.mark.soak, pytest.mark.usefixtures("swarm", "kube")]


def test_soak_hybrid_example(tmp_path: Path) -> None:
    timings: list[str] = []
    for cycle in range(1, CYCLES + 1):
        chain = Chain(tmp_path / f"cfy-{cycle}", prefix=f"soak{cycle}-{uuid.uuid4().hex[:4]}-",
                      lb_port=18093,
                      kubernetes=UPSTREAMS[(cycle - 1) % len(UPSTREAMS)])
        started = time.monotonic()
        try:
            result = up(chain)
            assert len(set(result["answers"])) == 2, f"cycle {cycle}: {result['answers']}"
        finally:
            installed = time.monotonic() - started
            down(chain)
        left = [item for name in DEPLOYMENTS for item in clusters.leftovers(chain.deployment(name))]
        line = (f"soak cycle {cycle}/{CYCLES} ({chain.kubernetes}): up {installed:.1f}s, down "
                f"{time.monotonic() - started - installed:.1f}s, leftovers {len(left)}")
        timings.append(line)
        print(line, flush=True)
        assert not left, f"cycle {cycle} left {left}"
    assert len(timings) == CYCLES
