"""Two tenants on the real manager (issue 24, class 4): a deployment of the same long id in each
tenant makes objects of the same names on the same clusters. Ownership carries the tenant and a
hash of an id too long for a label (never a cut two ids share), so neither tenant can use, adopt
or delete the other's objects: the second install is refused naming the owner, and its
uninstall leaves the first tenant's objects running."""
from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from cloudify_shared.ownership import DEPLOYMENT, TENANT, label_value
from examples.manager import ManagerAccess, ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import LOCAL_API, ROOT, TEST_BLUEPRINTS
from tests.integration.manager.test_microservices import failed_install_events

pytestmark = pytest.mark.usefixtures("swarm", "kube")

OTHER_TENANT = "vnf_tenant_iso"
RUN = uuid.uuid4().hex[:6]
K8S_CONFIG = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
SWARM_SERVICE = TEST_BLUEPRINTS / "swarm-service" / "blueprint.yaml"


def long_id(kind: str) -> str:
    """A deployment id longer than a label value may be (63), the same in both tenants."""
    return f"iso-{kind}-{RUN}-" + "x" * 70


@pytest.fixture(scope="module")
def other_tenant(manager_access: ManagerAccess, suite_plugin: str,
                 tmp_path_factory: pytest.TempPathFactory) -> ManagerCfy:
    """The cfy CLI in a second tenant (made here; the admin acts in it)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "real-manager"), "add-tenant", OTHER_TENANT,
                    f"vnf_user_iso_{RUN}"], input=f"pw-{uuid.uuid4().hex}\n", text=True,
                   check=True, capture_output=True)
    access = ManagerAccess(host=manager_access.host, port=manager_access.port,
                           ca_cert=manager_access.ca_cert,
                           password_file=manager_access.password_file, tenant=OTHER_TENANT)
    return ManagerCfy(tmp_path_factory.mktemp("cfy-tenant-iso"), access)


@pytest.fixture
def both(on_manager: ManagerCfy,
         other_tenant: ManagerCfy) -> Iterator[tuple[ManagerCfy, ManagerCfy]]:
    yield on_manager, other_tenant
    for cli in (other_tenant, on_manager):
        for deployment in (long_id("k8s"), long_id("swarm")):
            cli.uninstall(deployment)


def config_map(name: str) -> list[dict[str, object]]:
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
             "data": {"owner": "first tenant"}}]


def test_a_kubernetes_object_of_another_tenant_is_neither_adopted_nor_deleted(
        both: tuple[ManagerCfy, ManagerCfy]) -> None:
    first, second = both
    deployment, name = long_id("k8s"), f"iso-probe-{RUN}"
    inputs = {"api": LOCAL_API, "config": config_map(name), "timeout": 60}
    first.install(K8S_CONFIG, deployment, inputs)
    labels = live_config_map(name)["metadata"]["labels"]
    assert labels[DEPLOYMENT] == label_value(deployment) != deployment[:63], labels
    assert labels[TENANT] == "default_tenant", labels

    events = failed_install_events(second, deployment, K8S_CONFIG,
                                   {**inputs, "adopt_existing": True})
    assert f"ConfigMap default/{name}" in events or name in events, events[-3000:]
    assert "tenant default_tenant" in events, events[-3000:]

    second.uninstall(deployment)
    live = live_config_map(name)
    assert live["data"] == {"owner": "first tenant"}
    assert live["metadata"]["labels"][TENANT] == "default_tenant"
    first.uninstall(deployment)
    clusters.wait_gone(lambda: clusters.kubernetes_leftovers(deployment), timeout=60)


def live_config_map(name: str) -> dict[str, object]:
    found = clusters.kubectl("get", "configmap", name, "-n", "default", "-o", "json")
    return dict(json.loads(found.stdout))


def test_a_swarm_service_of_another_tenant_is_neither_used_nor_removed(
        both: tuple[ManagerCfy, ManagerCfy]) -> None:
    first, second = both
    deployment = long_id("swarm")
    first.install(SWARM_SERVICE, deployment, {"published_port": 18091})
    services = clusters.docker_client().services.list(filters={"label": f"{TENANT}=default_tenant"})
    ours = [s for s in services if s.attrs["Spec"]["Labels"].get(DEPLOYMENT)
            == label_value(deployment)]
    assert len(ours) == 1, [s.name for s in services]
    service_id = ours[0].id

    events = failed_install_events(second, deployment, SWARM_SERVICE, {"published_port": 18092})
    assert "tenant default_tenant" in events, events[-3000:]

    second.uninstall(deployment)
    still = clusters.docker_client().services.get(service_id)
    assert still.attrs["Spec"]["Labels"][TENANT] == "default_tenant"
    first.uninstall(deployment)
    clusters.wait_gone(lambda: clusters.docker_leftovers(deployment), timeout=90)
