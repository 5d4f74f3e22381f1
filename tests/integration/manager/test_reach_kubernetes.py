"""What a Kubernetes blueprint may reach on the real manager (issue 24). The harness's mgmtworker
allows exactly the local cluster's API server (CLOUDIFY_VNF_ALLOWED_KUBERNETES_APIS=
https://127.0.0.1:6443, scripts/manager/common.sh): another port of the manager's own host
given as api.host, a kubeconfig whose server is another local port, and a kubeconfig with an
oidc auth-provider (the client would fetch its issuer's URL from the manager) are refused before
anything is made, the events naming the field, the value and the setting; an adopt_existing of an
object another deployment owns is refused and the object is left as it was. Nothing is made on
the cluster in any of them."""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from examples.manager import ManagerCfy
from tests.helpers import clusters
from tests.helpers.clusters import kubectl
from tests.helpers.paths import K8S_CA, K8S_TOKEN_FILE, TEST_BLUEPRINTS
from tests.integration.manager.test_microservices import failed_install_events

pytestmark = pytest.mark.usefixtures("kube")

K8S_CONFIG = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
SETTING = "CLOUDIFY_VNF_ALLOWED_KUBERNETES_APIS"
ALLOWED = "https://127.0.0.1:6443"


def config_map(name: str) -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
             "data": {"a": "b"}}]


def kubeconfig(server: str, user: dict[str, Any]) -> dict[str, Any]:
    ca = base64.b64encode(K8S_CA.read_bytes()).decode()
    return {"apiVersion": "v1", "kind": "Config", "current-context": "here",
            "clusters": [{"name": "here", "cluster": {"server": server,
                                                      "certificate-authority-data": ca}}],
            "users": [{"name": "someone", "user": user}],
            "contexts": [{"name": "here", "context": {"cluster": "here", "user": "someone"}}]}


def assert_refused(events: str, field: str, value: str) -> None:
    assert f"{field}: '{value}'" in events, events[-3000:]
    assert "does not allow blueprints to reach" in events and SETTING in events
    assert ALLOWED in events  # the refusal says what is allowed


def test_an_api_host_on_another_port_of_the_manager_is_refused(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    api = {"host": "https://127.0.0.1:6444", "token_file": str(K8S_TOKEN_FILE),
           "ca_file": str(K8S_CA)}
    events = failed_install_events(on_manager, manager_deployment, K8S_CONFIG,
                                   {"api": api, "config": config_map("reach-host"), "timeout": 30})
    assert_refused(events, "properties.api.host", "https://127.0.0.1:6444")
    assert clusters.kubernetes_leftovers(manager_deployment) == []


def test_a_kubeconfig_whose_server_is_another_local_port_is_refused(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    content = kubeconfig("https://localhost:18100/", {"token": "never-sent-anywhere"})
    events = failed_install_events(on_manager, manager_deployment, K8S_CONFIG,
                                   {"api": {"kubeconfig_content": content},
                                    "config": config_map("reach-kubeconfig"), "timeout": 30})
    # the server as the client loaded it (its trailing slash stripped) is the one checked
    assert_refused(events, "properties.api.kubeconfig_content.clusters[0].cluster.server",
                   "https://localhost:18100")
    assert "never-sent-anywhere" not in events
    assert clusters.kubernetes_leftovers(manager_deployment) == []


def test_a_kubeconfig_with_an_oidc_auth_provider_is_refused_naming_the_key(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    oidc = {"auth-provider": {"name": "oidc", "config": {
        "idp-issuer-url": "https://127.0.0.1:18443/", "client-id": "cloudify",
        "id-token": "expired.token.here", "refresh-token": "oidc-refresh-secret"}}}
    events = failed_install_events(on_manager, manager_deployment, K8S_CONFIG,
                                   {"api": {"kubeconfig_content": kubeconfig(ALLOWED, oidc)},
                                    "config": config_map("reach-oidc"), "timeout": 30})
    assert ("properties.api.kubeconfig_content.users[0].user.auth-provider: an auth-provider is "
            "refused on a manager") in events, events[-3000:]
    assert "oidc-refresh-secret" not in events
    assert clusters.kubernetes_leftovers(manager_deployment) == []


@pytest.fixture
def foreign_config_map() -> Iterator[tuple[str, str]]:
    """A ConfigMap another deployment of the suite made: it carries that deployment's labels."""
    other = f"other-{uuid.uuid4().hex[:6]}"
    name = f"shared-{other}"
    labels = {"app.kubernetes.io/managed-by": "cloudify-vnf-suite", "cloudify.co/deployment": other,
              "cloudify.co/node-instance": "app_0ther1", "cloudify.co/tenant": "default_tenant"}
    body = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"owner": other},
            "metadata": {"name": name, "namespace": "default", "labels": labels}}
    kubectl("create", "-f", "-", input=json.dumps(body))
    yield name, other
    kubectl("delete", "configmap", name, "--ignore-not-found")


def test_adopt_existing_of_another_deployments_object_is_refused(
        on_manager: ManagerCfy, manager_deployment: str,
        foreign_config_map: tuple[str, str]) -> None:
    name, other = foreign_config_map
    config = config_map(f"{manager_deployment}-mine") + [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
         "data": {"owner": "me"}}]
    api = {"host": ALLOWED, "token_file": str(K8S_TOKEN_FILE), "ca_file": str(K8S_CA)}
    events = failed_install_events(on_manager, manager_deployment, K8S_CONFIG,
                                   {"api": api, "config": config, "adopt_existing": True,
                                    "timeout": 30})
    assert f"ConfigMap default/{name} belongs to deployment {other} (tenant default_tenant)" \
        in events, events[-3000:]
    live = json.loads(kubectl("get", "configmap", name, "-o", "json").stdout)
    assert live["data"] == {"owner": other}
    assert live["metadata"]["labels"]["cloudify.co/deployment"] == other
    assert "cloudify.co/adopted" not in (live["metadata"].get("annotations") or {})
    assert clusters.kubernetes_leftovers(manager_deployment) == []
    assert kubectl("get", "configmap", f"{manager_deployment}-mine", check=False).returncode != 0
