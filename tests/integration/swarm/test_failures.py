"""Failure cases on the real local Swarm: each ends with a clear error naming the node and the
field or cause, and leaves nothing with our labels behind."""
from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cloudify.exceptions import WorkflowFailed
from dsl_parser.exceptions import DSLParsingException

from tests.helpers.clusters import docker_client, docker_leftovers, wait_gone
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import TEST_BLUEPRINTS

SERVICE = TEST_BLUEPRINTS / "swarm-service" / "blueprint.yaml"
pytestmark = pytest.mark.usefixtures("swarm")

# a Container node added to tests/blueprints/swarm-stack, inside its compose Microservice
COMPOSE_CONTAINER = """
  extra_container:
    type: cloudify.swarm.Container
    properties:
      image: local/busybox:1
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    relationships:
      - type: cloudify.swarm.relationships.contained_in_microservice
        target: stack
"""


def install_error(deployment: LocalDeployment, capfd: pytest.CaptureFixture[str]) -> str:
    """The failed tasks' messages (the workflow error itself only names the task)."""
    capfd.readouterr()
    with pytest.raises(WorkflowFailed):
        deployment.install()
    lines = [line for line in capfd.readouterr().out.splitlines() if "Task failed '" in line]
    assert lines, "no task failure was logged"
    return "\n".join(lines)


def failed_install(blueprint: Path, inputs: dict, name: str, capfd: pytest.CaptureFixture[str],
                   retries: int = 0) -> str:
    deployment = LocalDeployment(blueprint, inputs, name=name, retries=retries)
    message = install_error(deployment, capfd)
    deployment.uninstall()  # must succeed after a failed install
    return message


@pytest.fixture
def port_taken() -> Iterator[int]:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", 18097))
    listener.listen()
    try:
        yield 18097
    finally:
        listener.close()


def test_image_missing_locally(no_leftovers: str, capfd: pytest.CaptureFixture[str]) -> None:
    deployment = LocalDeployment(SERVICE,
                                 {"image": "local/does-not-exist:1", "published_port": 18096},
                                 name=no_leftovers, retries=0)
    message = install_error(deployment, capfd)
    assert "node 'web_container'" in message
    assert "No such image: local/does-not-exist:1" in message
    assert not docker_leftovers(no_leftovers)  # the failed start removed its service at once
    deployment.uninstall()


def test_a_container_in_a_compose_microservice_is_refused_and_uninstall_leaves_nothing(
        no_leftovers: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """A Container under a Microservice that deploys a compose file: its create refuses it,
    naming why; the stack is the Microservice's own, and the uninstall removes it without the
    Container waiting for the stack's services as if they were its own (it did, until its
    timeout, before this was fixed)."""
    shutil.copytree(TEST_BLUEPRINTS / "swarm-stack", tmp_path / "bp")
    blueprint = tmp_path / "bp" / "blueprint.yaml"
    blueprint.write_text(blueprint.read_text().replace("\noutputs:", COMPOSE_CONTAINER
                                                       + "\noutputs:", 1))
    deployment = LocalDeployment(blueprint, {"stack_name": f"cc{no_leftovers[-6:]}"},
                                 name=no_leftovers, retries=0)
    message = install_error(deployment, capfd)
    assert "microservice 'stack' deploys a compose file and takes no Container node" in message
    started = time.monotonic()
    deployment.uninstall()
    assert time.monotonic() - started < 60, "the uninstall waited on the stack's services"
    wait_gone(lambda: docker_leftovers(no_leftovers), timeout=60)


@pytest.mark.parametrize("containment", ["cloudify.swarm.relationships.contained_in_microservice",
                                         "cloudify.relationships.contained_in"])
def test_two_containers_in_one_microservice(containment: str, no_leftovers: str, tmp_path: Path,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    """Refused under the suite's relationship and under the generic one (issue 25): under
    both the second Container's create claims (since issue 28 contained_in_microservice maps
    no preconfigure) and fails."""
    blueprint = tmp_path / "blueprint.yaml"
    blueprint.write_text((TEST_BLUEPRINTS / "swarm-two-containers" / "blueprint.yaml").read_text()
                         .replace("cloudify.swarm.relationships.contained_in_microservice",
                                  containment))
    deployment = LocalDeployment(blueprint, name=no_leftovers, retries=0)
    message = install_error(deployment, capfd)
    assert "microservice 'web' already has container" in message
    assert "a Swarm service has exactly one container spec" in message
    # the failed claim removed what the other Container's start made, or stopped it first
    assert not docker_leftovers(no_leftovers)
    deployment.uninstall()
    assert not docker_leftovers(no_leftovers)


def test_published_port_taken_by_a_host_process(port_taken: int, no_leftovers: str,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    deployment = LocalDeployment(SERVICE, {"published_port": port_taken}, name=no_leftovers,
                                 retries=0)
    message = install_error(deployment, capfd)
    assert "node 'web_container'" in message and str(port_taken) in message
    assert "address already in use" in message.lower() or "already allocated" in message
    assert not docker_leftovers(no_leftovers)
    deployment.uninstall()


def test_published_port_taken_by_another_service(deployment_id: str,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    first = LocalDeployment(SERVICE, {"published_port": 18098}, name=f"{deployment_id}-a")
    first.install()
    try:
        second = LocalDeployment(SERVICE, {"published_port": 18098}, name=f"{deployment_id}-b",
                                 retries=0)
        assert "host-mode port already in use" in install_error(second, capfd)
        assert not docker_leftovers(f"{deployment_id}-b")
        second.uninstall()
    finally:
        first.uninstall()
    assert not docker_leftovers(f"{deployment_id}-a")


def test_unknown_nested_key_is_rejected_before_any_api_call(
    no_leftovers: str, capfd: pytest.CaptureFixture[str],
) -> None:
    message = failed_install(TEST_BLUEPRINTS / "swarm-bad-key" / "blueprint.yaml", {}, no_leftovers,
                             capfd)
    assert "node 'web'" in message
    assert "properties.resources.limits: unknown key 'memroy' (did you mean 'memory'?)" in message
    client = docker_client()
    try:  # validation came before the network this node would have created
        assert not client.networks.list(names=["should-not-exist-bad-key"])
    finally:
        client.close()
    assert not docker_leftovers(no_leftovers)


def test_unknown_top_level_key_is_a_parse_error(tmp_path: Path) -> None:
    blueprint = tmp_path / "blueprint.yaml"
    text = (TEST_BLUEPRINTS / "swarm-service" / "blueprint.yaml").read_text()
    blueprint.write_text(text.replace("      labels: {role: web}",
                                      "      replicaz: 2\n      labels: {role: web}"))
    with pytest.raises(DSLParsingException) as error:
        LocalDeployment(blueprint, {})
    assert "replicaz" in str(error.value) and "web" in str(error.value)


def test_unreachable_docker_host(no_leftovers: str, capfd: pytest.CaptureFixture[str]) -> None:
    message = failed_install(TEST_BLUEPRINTS / "swarm-manager" / "blueprint.yaml",
                             {"docker_host": "tcp://127.0.0.1:1"}, no_leftovers, capfd, retries=1)
    assert "node 'swarm'" in message and "cannot reach the Docker Engine" in message
    assert not docker_leftovers(no_leftovers)


def test_a_container_that_exits_at_once_is_named_with_its_code_command_and_output(
        no_leftovers: str, capfd: pytest.CaptureFixture[str]) -> None:
    """Issue 25: the 2016 blog's `entry_point: start.sh` on an image without the script ends at
    once with code 0; the failure says so, with the command and the container's last lines."""
    deployment = LocalDeployment(SERVICE, {"command": ["echo hello-from-$((6*7)); exit 0"],
                                           "published_port": 18098}, name=no_leftovers, retries=0)
    capfd.readouterr()
    with pytest.raises(WorkflowFailed):
        deployment.install()
    output = capfd.readouterr().out
    start = output.index("Task failed '")
    message = output[start:start + 4000]
    assert "the container exited at once with code 0" in message, message
    assert "command: /bin/sh -c echo hello-from-$((6*7)); exit 0" in message, message
    assert "last output lines of container" in message and "hello-from-42" in message, message
    deployment.uninstall()
