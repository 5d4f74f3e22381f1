"""What a Swarm blueprint may reach on the real manager (issue 24, classes 1 and 4). The suite's
manager allows exactly `unix:///var/run/docker.sock tcp://127.0.0.1:12376` in
CLOUDIFY_VNF_ALLOWED_DOCKER_HOSTS (scripts/real-manager). A Manager node pointed at another of
the host's own Engines (a TCP port, another Unix socket) or at the host's SSH identity, and a
Microservice given such an endpoint by another deployment through a DeploymentProxy, are refused
by the mgmtworker: the events name the node, the field, the value and the setting, nothing is
made and the endpoint is never contacted. A network or secret another deployment made is not
used by name. The allowed socket keeps working: test_microservices.py, test_local_files.py."""
from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.manager import ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import TEST_BLUEPRINTS
from tests.integration.manager.test_microservices import failed_install_events

pytestmark = pytest.mark.usefixtures("swarm")

HOST_FILES = TEST_BLUEPRINTS / "swarm-host-files" / "blueprint.yaml"
PUBLISHED = TEST_BLUEPRINTS / "swarm-endpoint-published" / "blueprint.yaml"
PROXIED = TEST_BLUEPRINTS / "swarm-proxied" / "blueprint.yaml"
OBJECTS = TEST_BLUEPRINTS / "swarm-objects" / "blueprint.yaml"
SETTING = "CLOUDIFY_VNF_ALLOWED_DOCKER_HOSTS"
OTHER_SOCKET = Path("/tmp/vnf-other.sock")


@contextlib.contextmanager
def listening(docker_host: str) -> Iterator[socket.socket | None]:
    """A listener where `docker_host` points (a Unix socket, or a loopback TCP port if it is
    free), to prove afterwards that nobody connected; None where nothing can listen."""
    if docker_host.startswith("unix://"):
        OTHER_SOCKET.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(OTHER_SOCKET))
    elif docker_host.startswith("tcp://"):
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            server.bind(("127.0.0.1", int(docker_host.rsplit(":", 1)[1])))
        except OSError:  # the port is taken: the refusal is still checked, the contact not
            server.close()
            yield None
            return
    else:
        yield None
        return
    server.listen(8)
    server.setblocking(False)
    try:
        yield server
    finally:
        server.close()
        if docker_host.startswith("unix://"):
            OTHER_SOCKET.unlink(missing_ok=True)


def never_contacted(server: socket.socket | None) -> None:
    if server is None:
        return
    with pytest.raises(BlockingIOError):
        server.accept()


def assert_refused(events: str, node: str, field: str, value: str) -> None:
    assert f"node '{node}'" in events, events[-3000:]
    assert f"{field}: '{value}'" in events, events[-3000:]
    assert SETTING in events, events[-3000:]


@pytest.mark.parametrize("docker_host", ["tcp://127.0.0.1:2375", f"unix://{OTHER_SOCKET}",
                                         "ssh://root@127.0.0.1"])
def test_a_manager_node_pointed_at_the_hosts_own_engine_or_ssh_is_refused(
        on_manager: ManagerCfy, manager_deployment: str, docker_host: str) -> None:
    with listening(docker_host) as server:
        events = failed_install_events(on_manager, manager_deployment, HOST_FILES,
                                       {"docker_host": docker_host})
        never_contacted(server)
    assert_refused(events, "swarm", "properties.endpoint.docker_host", docker_host)
    if docker_host.startswith("ssh://"):
        assert "the manager's own host" in events, events[-3000:]
    assert "swarm_info" not in str(on_manager.access.client().node_instances.list(
        deployment_id=manager_deployment, node_id="swarm")[0].runtime_properties)
    assert clusters.docker_leftovers(manager_deployment) == []


@pytest.fixture
def upstream(on_manager: ManagerCfy) -> Iterator[str]:
    """The publishing deployment, removed after the one that proxies it (set up first)."""
    deployment = f"reach-upstream-{uuid.uuid4().hex[:6]}"
    yield deployment
    on_manager.uninstall(deployment)


def test_a_microservice_refuses_an_endpoint_another_deployment_publishes(
        on_manager: ManagerCfy, upstream: str, manager_deployment: str) -> None:
    """No Manager node checked it: the Microservice checks the endpoint it is given itself."""
    with listening("tcp://127.0.0.1:2375") as server:
        on_manager.install(PUBLISHED, upstream, {"docker_host": "tcp://127.0.0.1:2375"})
        events = failed_install_events(on_manager, manager_deployment, PROXIED,
                                       {"upstream": upstream, "published_port": 18131})
        never_contacted(server)
    assert_refused(events, "lb",
                   "node 'cluster' runtime property cluster_info.endpoint.docker_host",
                   "tcp://127.0.0.1:2375")
    assert clusters.docker_leftovers(manager_deployment) == []


@pytest.fixture
def others(on_manager: ManagerCfy) -> Iterator[list[str]]:
    """Deployment ids of this test's own, uninstalled afterwards whatever happened."""
    made: list[str] = []
    yield made
    for deployment in reversed(made):
        on_manager.uninstall(deployment)
        clusters.wait_gone(lambda d=deployment: clusters.docker_leftovers(d), timeout=90)


def test_a_network_or_secret_of_another_deployment_is_not_used_by_name(
        on_manager: ManagerCfy, manager_deployment: str, others: list[str]) -> None:
    run = uuid.uuid4().hex[:6]
    owner, second = f"reach-owner-{run}", f"reach-second-{run}"
    others += [owner, second]
    client = clusters.docker_client()
    operators = client.networks.create(f"rs{run}-ops", driver="overlay", attachable=True)
    try:
        on_manager.install(OBJECTS, owner,
                           {"prefix": f"rs{run}a", "existing_network": operators.name,
                                            "secret_value": f"owner-secret-{run}"})
        owned = set(clusters.docker_leftovers(owner))
        assert {f"network/rs{run}a-net", f"secret/rs{run}a-secret"} <= owned, owned

        # a secret of `owner` by name (create: false) in a Microservice of another deployment
        events = failed_install_events(on_manager, manager_deployment, HOST_FILES,
                                       {"secrets": [{"name": f"rs{run}a-secret",
                                                     "target": "token"}]})
        assert f"secret 'rs{run}a-secret' belongs to deployment {owner} (tenant default_tenant)" \
            in events, events[-3000:]
        assert clusters.docker_leftovers(manager_deployment) == []

        # its network by name, beside objects the second deployment would create: none is made
        events = failed_install_events(on_manager, second, OBJECTS,
                                       {"prefix": f"rs{run}b", "existing_network": f"rs{run}a-net",
                                        "secret_value": "x"})
        assert f"network 'rs{run}a-net' belongs to deployment {owner} (tenant default_tenant)" \
            in events, events[-3000:]
        assert clusters.docker_leftovers(second) == []

        # the refused deployments' uninstalls leave the owner's objects in place
        on_manager.uninstall(manager_deployment)
        on_manager.uninstall(second)
        assert set(clusters.docker_leftovers(owner)) == owned
    finally:
        on_manager.uninstall(owner)
        clusters.wait_gone(lambda: clusters.docker_leftovers(owner), timeout=90)
        operators.remove()
        client.close()
