"""What a tenant's compose file may reach on the real manager (issue 24; the blueprint:
tests/blueprints/swarm-compose-reach). Each refusal comes from the mgmtworker before anything is
made (no object with the deployment's labels on the Swarm afterwards):
- a config file named `${DIR}/rest-security.conf` with compose_variables DIR=/opt/manager is
  checked as the path it becomes (class 2): the events name the key path, the variable and the
  administrator's setting, and none of the manager's keys;
- the whole port space and an alias bomb are refused fast (class 3);
- an external network carrying another deployment's ownership labels is refused naming it and
  its owner, while an operator's network (no labels of ours) is used (class 4);
- a compose variable from a Cloudify secret substituted where a validation error happens is
  named, never shown, in the events and the mgmtworker's log (class 7).
The unit tests: tests/unit/swarm/test_compose_files.py, test_compose_bounds.py,
test_stack_external.py, test_compose_variables.py."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from examples.manager import ManagerAccess, ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import TEST_BLUEPRINTS
from tests.integration.manager.test_local_files import MANAGER_FILE, manager_keys
from tests.integration.manager.test_microservices import failed_install_events
from tests.integration.manager.test_secrets import cloudify_secrets, log_sizes, logs_since

pytestmark = pytest.mark.usefixtures("swarm")

REACH = TEST_BLUEPRINTS / "swarm-compose-reach"
BLUEPRINT = REACH / "blueprint.yaml"
RUN = uuid.uuid4().hex[:6]


def stack_inputs(deployment: str, compose: str, **variables: str) -> dict[str, object]:
    return {"compose_file": f"resources/{compose}", "stack_name": f"r{deployment[-6:]}",
            "variables": variables}


@pytest.fixture
def foreign_network() -> Iterator[str]:
    """An overlay network carrying another deployment's ownership labels (same tenant)."""
    name = f"reach-foreign-{RUN}"
    labels = {"app.kubernetes.io/managed-by": "cloudify-vnf-suite",
              "cloudify.co/deployment": f"other-{RUN}",
              "cloudify.co/node-instance": "stack_x1", "cloudify.co/tenant": "default_tenant"}
    client = clusters.docker_client()
    network = client.networks.create(name, driver="overlay", attachable=True, labels=labels)
    try:
        yield name
    finally:
        network.remove()
        client.close()


@pytest.fixture
def operator_network() -> Iterator[str]:
    """An overlay network an operator made: no labels of ours."""
    client = clusters.docker_client()
    network = client.networks.create(f"reach-operator-{RUN}", driver="overlay", attachable=True,
                                     labels={"team": "ops"})
    try:
        yield str(network.name)
    finally:
        network.remove()
        client.close()


def test_an_interpolated_config_path_to_a_manager_file_is_refused(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    assert manager_keys(), f"{MANAGER_FILE} holds no keys to look for"
    events = failed_install_events(on_manager, manager_deployment, BLUEPRINT, stack_inputs(
        manager_deployment, "manager-config.yaml", DIR=str(MANAGER_FILE.parent)))
    field = ("properties.compose_file (manager-config.yaml).configs.keys.file: "
             "'${DIR}/rest-security.conf'")
    assert field in events, events[-3000:]
    assert "is a file of the manager's own host, outside the blueprint" in events
    assert "CLOUDIFY_VNF_ALLOWED_DIRS" in events
    assert not [key for key in manager_keys()
                if key in events], "the manager's keys are in the events"
    assert clusters.docker_leftovers(manager_deployment) == []


@pytest.mark.parametrize(("compose", "says"), [
    ("all-ports.yaml", ("services.web.ports[0]: '1-65535:1-65535' publishes 65535 ports",
                        "at most 1000 ports")),
    ("alias-bomb.yaml", ("properties.compose_file (alias-bomb.yaml): too many YAML nodes",
                         "CLOUDIFY_VNF_MAX_YAML_NODES")),
])
def test_a_hostile_compose_file_is_refused_fast(on_manager: ManagerCfy, manager_deployment: str,
                                                compose: str, says: tuple[str, ...]) -> None:
    start = time.monotonic()
    events = failed_install_events(on_manager, manager_deployment, BLUEPRINT,
                                   stack_inputs(manager_deployment, compose))
    seconds = time.monotonic() - start
    print(f"\n{compose} refused after {seconds:.1f} s (the whole install workflow)")
    for text in says:
        assert text in events, f"{text!r} not in:\n{events[-3000:]}"
    # validated in the Microservice's create: the Engine was never asked to make anything
    assert clusters.docker_leftovers(manager_deployment) == []
    assert seconds < 120


def test_an_external_network_of_another_deployment_is_refused(
        on_manager: ManagerCfy, manager_deployment: str, foreign_network: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, BLUEPRINT, stack_inputs(
        manager_deployment, "external-network.yaml", NETWORK=foreign_network))
    # the name comes from a compose variable: named by the variable (its value is redacted too)
    expected = ("properties.compose_file (external-network.yaml).networks.front: the external "
                "network "
                f"'${{NETWORK}}' belongs to deployment other-{RUN} (tenant default_tenant)")
    assert expected in events, events[-3000:]
    assert clusters.docker_leftovers(manager_deployment) == []


def test_an_operators_external_network_is_used(on_manager: ManagerCfy, manager_deployment: str,
                                               operator_network: str) -> None:
    inputs = stack_inputs(manager_deployment, "external-network.yaml", NETWORK=operator_network)
    on_manager.install(BLUEPRINT, manager_deployment, inputs)
    client = clusters.docker_client()
    try:
        spec = client.api.inspect_service(f"{inputs['stack_name']}_web")["Spec"]
        network_id = client.networks.get(operator_network).id
    finally:
        client.close()
    assert [n["Target"] for n in spec["TaskTemplate"]["Networks"]] == [network_id]
    on_manager.uninstall(manager_deployment)
    client = clusters.docker_client()
    try:  # the operator's network outlives the stack that used it
        assert client.networks.get(operator_network).attrs["Labels"] == {"team": "ops"}
    finally:
        client.close()


def test_a_compose_variable_from_a_secret_is_not_in_a_validation_error(
        on_manager: ManagerCfy, manager_access: ManagerAccess, manager_deployment: str) -> None:
    value = f"compose-secret-{RUN}-8b2e"
    secret = f"vnf-compose-replicas-{RUN}"
    sizes = log_sizes()
    with cloudify_secrets(manager_access, {secret: value}):
        events = failed_install_events(
            on_manager, manager_deployment, REACH / "secret-variable.yaml",
            {"compose_file": "resources/secret-replicas.yaml",
             "stack_name": f"r{manager_deployment[-6:]}",
             "secret_name": secret})
    assert "services.web.deploy.replicas: '${REPLICAS}' is not an integer" in events, events[-3000:]
    assert value not in events
    assert value not in logs_since(sizes), "the secret value is in the mgmtworker's log"
    assert clusters.docker_leftovers(manager_deployment) == []
