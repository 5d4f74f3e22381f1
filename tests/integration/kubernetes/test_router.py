"""The seed's router VNF on the real local Kubernetes: a privileged, host-networked
ReplicationController on the node labelled role=router, with ROUTES injected by the plugin.
Its routes only go through a veth pair on TEST-NET-2 that this test makes and removes; the
machine's own routes are never touched."""
from __future__ import annotations

import ipaddress
import subprocess
from collections.abc import Iterator

import pytest

from examples.host_routes import free_subnet
from tests.helpers.clusters import kubectl
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import K8S_CA, K8S_TOKEN_FILE, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "k8s-router" / "blueprint.yaml"
# Both halves of a subnet the host does not reach (examples/host_routes.py: this machine sits on
# TEST-NET-1 and resolves its package registries into TEST-NET-3).
ROUTES = [str(half) for half in ipaddress.ip_network(free_subnet()).subnets()]
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]


def ip(*args: str, check: bool = True) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check).stdout


@pytest.fixture
def test_interface() -> Iterator[str]:
    """cvnf-rt0 (198.51.100.1/24) <-> cvnf-rt1: the only link the router may route through."""
    ip("link", "del", "cvnf-rt0", check=False)
    ip("link", "add", "cvnf-rt0", "type", "veth", "peer", "name", "cvnf-rt1")
    ip("addr", "add", "198.51.100.1/24", "dev", "cvnf-rt0")
    ip("link", "set", "cvnf-rt0", "up")
    ip("link", "set", "cvnf-rt1", "up")
    default_before = ip("route", "show", "default")
    assert ROUTES[0].rsplit(".", 1)[0] not in ip("route",
                                                 "show"), f"{ROUTES} are in use on this machine"
    try:
        yield "cvnf-rt0"
    finally:
        ip("link", "del", "cvnf-rt0", check=False)
        assert ip("route", "show", "default") == default_before


def routes_via_test_interface() -> list[str]:
    return sorted(line.split()[0] for line in ip("route", "show", "dev", "cvnf-rt0").splitlines()
                  if "via 198.51.100.2" in line)


def test_router_runs_privileged_on_the_router_node_with_its_routes(
        test_interface: str, no_leftovers: str) -> None:
    deployment = LocalDeployment(BLUEPRINT,
                                 {"token_file": str(K8S_TOKEN_FILE), "ca_file": str(K8S_CA),
                                             "routes": ROUTES}, name=no_leftovers, retries=0)
    deployment.install()
    try:
        (pod,) = deployment.outputs()["pods"]
        assert pod["node"] == "node1" and pod["pod_ip"] == pod["host_ip"]  # host network
        spec = kubectl("get", "pod", pod["name"], "-o", "jsonpath={.spec}").stdout
        assert '"hostNetwork":true' in spec and '"privileged":true' in spec
        assert '"nodeSelector":{"role":"router"}' in spec
        assert f'{{"name":"ROUTES","value":"{" ".join(ROUTES)}"}}' in spec
        # what the container itself saw (kubectl exec cannot enter privileged containers here)
        assert f"ROUTES={' '.join(ROUTES)}" in kubectl("logs", pod["name"]).stdout
        assert routes_via_test_interface() == sorted(ROUTES)
    finally:
        deployment.uninstall()
    assert routes_via_test_interface() == []  # the router removed its routes on TERM
