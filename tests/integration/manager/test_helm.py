"""A HelmRelease on the real manager: the mgmtworker runs the administrator's helm
(CLOUDIFY_VNF_HELM, scripts/manager/services.sh), the kubeconfig and values reach helm as private
files; install waits until every object is ready, uninstall until every object is gone. One
deployment installs a chart of the local OCI registry (the one chart source
scripts/manager/common.sh allows) with its password from a Cloudify secret, and a chart that is
a blueprint resource: the password in no event, node instance or mgmtworker log line. A
blueprint that names a helm binary is refused; a registry not allowed is refused at create,
before anything."""
from __future__ import annotations

import json
import uuid

import pytest

from examples.manager import ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import LOCAL_API, TEST_BLUEPRINTS
from tests.integration.kubernetes.test_helm import registry_credentials, release_leftovers
from tests.integration.manager.test_microservices import failed_install_events
from tests.integration.manager.test_secrets import cloudify_secrets, log_sizes, logs_since

pytestmark = pytest.mark.usefixtures("kube")

BLUEPRINT = TEST_BLUEPRINTS / "helm-release" / "blueprint.yaml"
OCI_BLUEPRINT = TEST_BLUEPRINTS / "helm-release" / "oci-from-secret.yaml"
assert registry_credentials  # the local registry's user and password (a fixture)


def test_a_helm_binary_named_by_a_blueprint_is_refused_on_the_manager(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, BLUEPRINT,
                                   {"api": LOCAL_API, "helm": "/bin/sh"})
    assert "properties.helm: on a manager the helm binary is the administrator's" in events, events[-3000:]
    assert clusters.leftovers(manager_deployment) == []


def test_a_chart_repository_the_administrator_has_not_allowed_is_refused_on_the_manager(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, BLUEPRINT, {
        "api": LOCAL_API, "chart": "web", "repository": "http://127.0.0.1:9/charts",
        "chart_version": "0.1.0"})
    assert "properties.repository: 'http://127.0.0.1:9/charts/index.yaml' (http://127.0.0.1:9) " \
           "is a chart repository or registry that this manager does not allow blueprints to " \
           "reach" in events, events[-3000:]
    assert "CLOUDIFY_VNF_ALLOWED_CHART_SOURCES in the mgmtworker's environment (allowed now: " \
           "oci://127.0.0.1:15000)" in events, events[-3000:]
    assert clusters.leftovers(manager_deployment) == []


def test_an_oci_chart_with_its_password_from_a_secret_installs_and_never_shows_it(
        on_manager: ManagerCfy, manager_deployment: str,
        registry_credentials: dict[str, str]) -> None:
    """One deployment, two releases: the registry's chart (its password a Cloudify secret) and
    the chart packaged in the blueprint (a blueprint resource fetched by the mgmtworker)."""
    release, local = f"m-{uuid.uuid4().hex[:8]}", f"m-{uuid.uuid4().hex[:8]}"
    key, password = f"vnf-registry-{uuid.uuid4().hex[:8]}", registry_credentials["password"]
    sizes = log_sizes()
    with cloudify_secrets(on_manager.access, {key: password}):
        on_manager.install(OCI_BLUEPRINT, manager_deployment, {
            "api": LOCAL_API, "release_name": release, "local_release_name": local,
            "password_secret": key})
        client = on_manager.access.client()
        nodes = {i.node_id: i for i in client.node_instances.list(deployment_id=manager_deployment)}
        props = nodes["web"].runtime_properties
        assert (props["chart"], props["status"]) == ("web", "deployed")
        props = nodes["local"].runtime_properties
        assert (props["release_name"], props["revision"], props["status"], props["helm_version"]) == (
            local, 1, "deployed", "v4.1.4")
        assert sorted(o["kind"] for o in props["objects"]) == ["ConfigMap", "Deployment", "Service"]
        assert "on-manager" not in str(props)  # values are never runtime properties
        # a release's storage Secret carries the deployment's ownership labels: the leak check sees it
        assert any(item.startswith("Secret/default/sh.helm.release.v1.") for item in
                   clusters.leftovers(manager_deployment))
        install = [e for e in on_manager.executions(manager_deployment)
                   if e.workflow_id == "install"][-1]
        events = on_manager.events(install.id)  # the pull, its log lines and the task's
        assert "chart oci://127.0.0.1:15000/charts/web 0.1.0 pulled from 127.0.0.1:15000 with " \
               "the node's registry_credentials" in events, events[-3000:]
        seen = [events, json.dumps([dict(i) for i in client.node_instances.list(
            deployment_id=manager_deployment)], default=str), logs_since(sizes)]
        assert manager_deployment in seen[-1]  # the mgmtworker's log is read
        on_manager.uninstall(manager_deployment)
    assert release_leftovers(release) == [] and release_leftovers(local) == []
    assert clusters.leftovers(manager_deployment) == []
    assert all(password not in text for text in seen), "the registry password was shown"


def test_an_oci_registry_the_administrator_has_not_allowed_is_refused_at_create(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, BLUEPRINT, {
        "api": LOCAL_API, "chart": "oci://127.0.0.1:15001/charts/web", "chart_version": "0.1.0",
        "plain_http": True})
    assert "Task failed 'cloudify_kubernetes.tasks_helm.helm_create'" in events, events[-3000:]
    assert "properties.chart: 'oci://127.0.0.1:15001/charts/web' (oci://127.0.0.1:15001) is a " \
           "chart repository or registry that this manager does not allow" in events, events[-3000:]
    assert clusters.leftovers(manager_deployment) == []
