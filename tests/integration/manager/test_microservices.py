"""Kubernetes and Swarm Microservices installed by the real manager's mgmtworker from the wagon:
a success, and a failure (an image that does not exist) whose reason shows in `cfy events list`
for that execution; nothing is left on either cluster after uninstall."""
from __future__ import annotations

import pytest

from examples.manager import CfyFailed, ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import K8S_CA, K8S_TOKEN_FILE, TEST_BLUEPRINTS

pytestmark = pytest.mark.usefixtures("swarm", "kube")

K8S_APP = TEST_BLUEPRINTS / "k8s-app" / "blueprint.yaml"
SWARM_SERVICE = TEST_BLUEPRINTS / "swarm-service" / "blueprint.yaml"


def k8s_inputs(deployment_id: str, **extra: object) -> dict[str, object]:
    return {"token_file": str(K8S_TOKEN_FILE), "ca_file": str(K8S_CA), "namespace": deployment_id,
            "timeout": 180, **extra}


def failed_install_events(cli: ManagerCfy, deployment_id: str, blueprint: object,
                          inputs: dict[str, object]) -> str:
    with pytest.raises(CfyFailed):
        cli.install(blueprint, deployment_id, inputs)  # type: ignore[arg-type]
    install = [e for e in cli.executions(deployment_id) if e.workflow_id == "install"][-1]
    assert install.status == "failed"
    return cli.events(install.id)


def test_kubernetes_microservice_installs_and_uninstalls(on_manager: ManagerCfy,
                                                         manager_deployment: str) -> None:
    on_manager.install(K8S_APP, manager_deployment, k8s_inputs(manager_deployment, replicas=2))
    made = clusters.leftovers(manager_deployment)
    assert any(item.startswith("Deployment/") for item in made), made
    on_manager.uninstall(manager_deployment)
    clusters.wait_gone(lambda: clusters.leftovers(manager_deployment), timeout=60)


def test_kubernetes_bad_image_fails_with_the_reason_in_the_events(on_manager: ManagerCfy,
                                                                  manager_deployment: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, K8S_APP,
                                   k8s_inputs(manager_deployment, image="local/not-here:1"))
    assert "ErrImageNeverPull" in events, events[-3000:]
    on_manager.uninstall(manager_deployment)
    clusters.wait_gone(lambda: clusters.leftovers(manager_deployment), timeout=60)


def test_swarm_microservice_installs_and_uninstalls(on_manager: ManagerCfy,
                                                    manager_deployment: str) -> None:
    on_manager.install(SWARM_SERVICE, manager_deployment, {"published_port": 18097})
    assert clusters.docker_leftovers(manager_deployment), "the manager's install made no service"
    on_manager.uninstall(manager_deployment)
    clusters.wait_gone(lambda: clusters.leftovers(manager_deployment), timeout=60)


def test_swarm_bad_image_fails_with_the_reason_in_the_events(on_manager: ManagerCfy,
                                                             manager_deployment: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, SWARM_SERVICE,
                                   {"image": "local/does-not-exist:1", "published_port": 18098})
    assert "No such image: local/does-not-exist:1" in events, events[-3000:]
    on_manager.uninstall(manager_deployment)
    clusters.wait_gone(lambda: clusters.leftovers(manager_deployment), timeout=60)
