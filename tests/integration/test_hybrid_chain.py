"""The hybrid VNF service chain, end to end through the real cfy CLI: k8s-cluster, swarm-cluster
and service installed in order, the chain proven (nginx on 127.0.0.1 answers from both backends in
turn; the router pod runs on the role=router node with its routes), all three uninstalled, and
nothing with our labels left on either cluster, no route and no router link left on the host."""
from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from examples.demo import DEPLOYMENTS, Chain, down, up
from examples.host_routes import package_download_works, package_sources_via_router
from tests.helpers import clusters
from tests.helpers.paths import K8S_TOKEN_FILE

pytestmark = pytest.mark.usefixtures("swarm", "kube")


def router_link_present() -> bool:
    return subprocess.run(["ip", "link", "show", "vnf-rt0"], capture_output=True,
                          check=False).returncode == 0


@pytest.mark.parametrize("kubernetes", ["k8s-cluster"])
def test_hybrid_chain_installs_proves_and_leaves_nothing(kubernetes: str, tmp_path: Path) -> None:
    """The chain with the backends of a Microservice of descriptor files (`make demo`); the soak
    (reliability/test_soak.py) runs it with a HelmRelease of a chart too (`make demo-helm`)."""
    assert not clusters.kubectl("get", "rc", "vnf-router", check=False).returncode == 0, \
        "a vnf-router is already running (is the demo up? run scripts/demo down)"
    chain = Chain(tmp_path / "cfy", prefix=f"t{uuid.uuid4().hex[:4]}-", lb_port=18091,
                  kubernetes=kubernetes)
    try:
        result = up(chain)
        subnet = result["outputs"]["service"]["routes"]
        # the router's host route captures none of the host's own traffic (issue 25)
        assert package_sources_via_router() == []
        assert package_download_works(tmp_path), "apt-get download failed while the chain was up"
        assert len(set(result["answers"])) == 2
        assert all(answer.startswith("backend web-backends-") for answer in result["answers"])
        assert result["router"]["node"] == "node1"
        k8s_outputs = result["outputs"]["k8s-cluster"]
        assert K8S_TOKEN_FILE.read_text().strip() not in json.dumps(result["outputs"])
        assert len(k8s_outputs["vm_info"]["ips"]) == 2
        assert result["outputs"]["swarm-cluster"]["swarm_info"]["managers"] == ["127.0.0.1:2377"]
    finally:
        down(chain)
    for name in DEPLOYMENTS:
        clusters.wait_gone(lambda n=name: clusters.leftovers(chain.deployment(n)), timeout=60)
    assert not router_link_present()
    routes = subprocess.run(["ip", "route", "show", subnet], capture_output=True, text=True,
                            check=True)
    assert routes.stdout.strip() == ""
