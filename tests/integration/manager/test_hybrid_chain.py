"""The hybrid VNF service chain on the real manager: the wagon built from this tree, the three
example blueprints uploaded unchanged, installed by the mgmtworker and proven exactly as
`make demo` proves it (nginx answers from both backends in turn; the router pod runs on the
role=router node with its route), then uninstalled with nothing left on either cluster."""
from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from examples.demo import DEPLOYMENTS, ManagerChain, down, up
from examples.host_routes import package_sources_via_router
from examples.manager import ManagerAccess
from tests.helpers import clusters
from tests.helpers.paths import K8S_TOKEN_FILE

pytestmark = pytest.mark.usefixtures("swarm", "kube", "suite_plugin")


def test_hybrid_chain_on_the_manager(manager_access: ManagerAccess, tmp_path: Path) -> None:
    assert clusters.kubectl("get", "rc", "vnf-router", check=False).returncode != 0, \
        "a vnf-router is already running (is the demo up? run scripts/demo down)"
    chain = ManagerChain(tmp_path / "cfy", prefix=f"m{uuid.uuid4().hex[:4]}-", lb_port=18093)
    try:
        result = up(chain)
        subnet = result["outputs"]["service"]["routes"]
        # the router's host route captures none of the host's own traffic (issue 25)
        assert package_sources_via_router() == []
        assert len(set(result["answers"])) == 2
        assert all(answer.startswith("backend web-backends-") for answer in result["answers"])
        assert result["router"]["node"] == "node1"
        assert K8S_TOKEN_FILE.read_text().strip() not in str(result["outputs"])
        executions = chain.manager.executions(chain.deployment("service"))
        assert [e.workflow_id for e in executions][-1] == "install"
        assert executions[-1].status == "terminated"
    finally:
        down(chain)
    for name in DEPLOYMENTS:
        assert not chain.manager.deployment_exists(chain.deployment(name))
        clusters.wait_gone(lambda n=name: clusters.leftovers(chain.deployment(n)), timeout=60)
    routes = subprocess.run(["ip", "route", "show", subnet], capture_output=True, text=True,
                            check=True)
    assert routes.stdout.strip() == ""
