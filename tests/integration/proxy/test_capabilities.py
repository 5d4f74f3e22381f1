"""inherit_capabilities in the cfy local profile, for real: the local profile keeps a blueprint's
`capabilities:` in its stored plan and the proxy evaluates them (get_attribute, concat) against
the upstream's storage, as the manager does for GET /deployments/<id>/capabilities.

First the flow the task asks for, on the real local Kubernetes: examples/blueprints/k8s-cluster
publishes kubernetes_info as a capability; a service deployment's proxy copies only that
capability (and vm_info from the outputs) and a Microservice reaches the cluster with it over
connected_to_master. Then the forms (all, named, mapped), the errors (a named capability the
upstream lacks, an output and a capability with different values in one runtime property) and
the day-2 workflows over proxy-upstream (which publishes capabilities too)."""
from __future__ import annotations

import uuid

import pytest

from examples.demo import BLUEPRINTS
from tests.helpers import clusters
from tests.helpers.cfy_cli import CfyCli, CfyResult
from tests.helpers.paths import K8S_TOKEN_FILE, TEST_BLUEPRINTS
from tests.helpers.proxy_timing import instance

pytestmark = pytest.mark.cfy

UPSTREAM = TEST_BLUEPRINTS / "proxy-upstream" / "blueprint.yaml"
DOWNSTREAM = TEST_BLUEPRINTS / "proxy-capab-downstream" / "blueprint.yaml"
SERVICE = TEST_BLUEPRINTS / "capab-k8s-service" / "blueprint.yaml"
PROXY = "kubernetes_proxy"
TOKEN = "upstream-secret-token-0123"  # proxy-upstream's api_token, published as cluster_token
K8S_INFO = {"host": "https://127.0.0.1:6443", "subnet": "10.10.0.0/24"}
VM_INFO = {"ips": ["10.10.0.2", "10.10.0.3"], "subnet": "10.10.0.0/24"}


@pytest.fixture
def ids(deployment_id: str) -> tuple[str, str]:
    return f"{deployment_id}-up", f"{deployment_id}-down"


def install_down(cfy: CfyCli, down: str, up: str, **inputs: object) -> CfyResult:
    return cfy.install(DOWNSTREAM, down, {"upstream": up, **inputs})


@pytest.mark.usefixtures("kube")
def test_kubernetes_info_flows_from_k8s_cluster_through_the_proxy_into_a_service(
        cfy: CfyCli, deployment_id: str) -> None:
    cluster, service = f"{deployment_id}-k8s", f"{deployment_id}-svc"
    namespace = f"capab-{uuid.uuid4().hex[:6]}"
    clusters.kubectl("create", "namespace", namespace)
    try:
        cfy.install(BLUEPRINTS / "k8s-cluster" / "blueprint.yaml", cluster,
                    {"namespace": namespace}).check()
        try:
            result = cfy.install(SERVICE, service, {"cluster_deployment": cluster,
                                                    "namespace": namespace}).check()
            props = instance(cfy, service, PROXY)["runtime_properties"]
            assert props["copied_capabilities"] == ["kubernetes_info"]
            assert props["copied_outputs"] == ["vm_info"]  # kubernetes_info came as a capability
            outputs = cfy.outputs(service)
            assert outputs["kubernetes_info"]["endpoint"] == "https://127.0.0.1:6443"
            assert outputs["routes_connection"] == outputs["kubernetes_info"]
            assert outputs["subnet"] == "198.18.0.0/24"  # k8s-cluster's default backend_subnet
            configmap = clusters.kubectl("get", "configmap", "capab-routes", "-n", namespace,
                                         "-o", "jsonpath={.data.source}")
            assert configmap.stdout == "capability kubernetes_info"
            assert "copied 1 capability(ies) of deployment" in result.output
            assert K8S_TOKEN_FILE.read_text().strip() not in result.output + str(props)
        finally:
            cfy.uninstall(service).check()
        assert clusters.kubectl("get", "configmap", "capab-routes", "-n", namespace,
                                check=False).returncode != 0
        assert not clusters.leftovers(service)
    finally:
        cfy.uninstall(cluster).check()
        clusters.wait_gone(lambda: clusters.leftovers(cluster), timeout=90)
        clusters.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_all_named_and_mapped_capabilities(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    every = install_down(cfy, f"{down}-all", up).check()
    props = instance(cfy, f"{down}-all", PROXY)["runtime_properties"]
    assert props["copied_capabilities"] == ["cluster_token", "kubernetes_info", "vm_info"]
    assert props["copied_outputs"] == ["api_token", "kubernetes_url", "vm_info"]  # vm_info: equal
    assert props["kubernetes_info"] == K8S_INFO and props["vm_info"] == VM_INFO
    assert props["cluster_token"] == TOKEN and TOKEN not in every.output  # copied, never logged
    outputs = cfy.outputs(f"{down}-all")
    assert outputs["proxied_kubernetes"] == K8S_INFO
    assert outputs["router_kubernetes"] == K8S_INFO  # connected_to_proxy carries capabilities

    install_down(cfy, f"{down}-named", up, inherit_outputs=["vm_info"],
                 inherit_capabilities=["kubernetes_info"]).check()
    props = instance(cfy, f"{down}-named", PROXY)["runtime_properties"]
    assert props["copied_capabilities"] == ["kubernetes_info"] and "cluster_token" not in props

    install_down(cfy, f"{down}-mapped", up, inherit_outputs=["vm_info"],
                 inherit_capabilities={"kubernetes_info": "cluster"}).check()
    props = instance(cfy, f"{down}-mapped", PROXY)["runtime_properties"]
    assert props["cluster"] == K8S_INFO and "kubernetes_info" not in props
    assert props["copied_capabilities"] == ["cluster"]
    cfy.execute("uninstall", f"{down}-mapped").check()  # the deployment stays: look at it
    assert instance(cfy, f"{down}-mapped", PROXY)["runtime_properties"] == {}
    assert "cluster" not in instance(cfy, f"{down}-mapped", "router")["runtime_properties"]


def test_a_named_capability_the_upstream_lacks_fails_at_once(
    cfy: CfyCli, ids: tuple[str, str],
) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    result = install_down(cfy, down, up, inherit_capabilities=["swarm_info"])
    assert result.returncode != 0
    assert (f"inherit_capabilities: deployment '{up}' has no capability 'swarm_info'; its "
            "capabilities are: cluster_token, kubernetes_info, vm_info") in result.output
    # not retried
    assert result.output.count("Task failed 'cloudify_proxy.tasks.proxy_create'") == 1


def test_an_output_and_a_capability_in_one_property_with_different_values(
        cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    result = install_down(cfy, down, up, inherit_outputs=["vm_info"],
                          inherit_capabilities={"kubernetes_info": "vm_info"})
    assert result.returncode != 0
    assert (f"node '{PROXY}'" in result.output and "output 'vm_info' and capability "
            "'kubernetes_info' would both be copied to runtime property 'vm_info' with "
            "different values") in result.output
    # a user error: NonRecoverableError, so one attempt although cfy was given 3 retries
    assert result.output.count("Task failed 'cloudify_proxy.tasks.proxy_create'") == 1


def test_check_status_drift_and_pull_cover_capabilities(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    install_down(cfy, down, up, inherit_outputs=["vm_info"],
                 inherit_capabilities=["kubernetes_info", "cluster_token"]).check()
    passed = cfy.execute("check_status", down).check()
    assert "1 copied output(s) and 2 copied capability(ies) are current" in passed.output

    cfy.uninstall(up).check()
    cfy.install(UPSTREAM, up,
                {"master_host": "10.99.0.1", "api_token": "rotated-token-4567"}).check()
    stale = cfy.execute("check_status", down)
    assert stale.returncode != 0
    assert "capability 'cluster_token' changed" in stale.output
    assert "capability 'kubernetes_info' changed" in stale.output
    assert "output 'vm_info'" not in stale.output  # unchanged
    assert "10.99.0.1" not in stale.output and "rotated-token-4567" not in stale.output

    cfy.execute("check_drift", down).check()
    drift = instance(cfy, down, PROXY)["system_properties"]["configuration_drift"]["result"]
    assert drift == ["capability 'cluster_token' changed", "capability 'kubernetes_info' changed"]

    pulled = cfy.execute("pull", down).check()
    assert (f"refreshed outputs of deployment '{up}': cluster_token changed; "
            "kubernetes_info changed") in pulled.output
    assert "rotated-token-4567" not in pulled.output
    props = instance(cfy, down, PROXY)["runtime_properties"]
    assert props["kubernetes_info"]["host"] == "https://10.99.0.1:6443"
    cfy.execute("check_status", down).check()
