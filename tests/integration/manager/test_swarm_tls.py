"""Swarm TLS material from Cloudify secrets on the real manager (issue 17): a Manager node whose
endpoint is a real mutual-TLS Engine (tests/helpers/tls_engine.py, on 127.0.0.1, which the
manager's mgmtworker on this machine reaches) takes its CA, client certificate and client key
with get_secret (tests/blueprints/swarm-tls/from-secrets.yaml). A Microservice with one
Container installs through it, the service runs, check_status passes, uninstall removes it; none
of the PEM bodies is in `cfy events list`, the node instances, the outputs or what the
mgmtworker logged. A wrong CA (also a secret) fails the install once, naming the TLS handshake,
and leaves nothing."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from examples.manager import CfyFailed, ManagerAccess, ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import TEST_BLUEPRINTS
from tests.helpers.tls_engine import TLS_ENGINE_PORT, Pki, TlsForwarder, tls_engine
from tests.integration.manager.test_secrets import (
    Installed,
    cloudify_secrets,
    everything_kept,
    log_sizes,
    logs_since,
)

pytestmark = pytest.mark.usefixtures("swarm")

BLUEPRINT = TEST_BLUEPRINTS / "swarm-tls" / "from-secrets.yaml"
RUN = uuid.uuid4().hex[:6]
INLINE = ["ca_cert_pem", "client_cert_pem", "client_key_pem"]


@dataclass(frozen=True)
class Engine:
    pki: Pki
    forwarder: TlsForwarder
    secrets: dict[str, str]  # role (ca, wrong_ca, client_cert, client_key) -> secret key


@pytest.fixture(scope="module")
def cli(manager_access: ManagerAccess, suite_plugin: str,
        tmp_path_factory: pytest.TempPathFactory) -> ManagerCfy:
    return ManagerCfy(tmp_path_factory.mktemp("cfy-swarm-tls"), manager_access)


@pytest.fixture(scope="module")
def engine(manager_access: ManagerAccess,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The TLS Engine and one Cloudify secret (tenant visibility) per PEM; deleted afterwards."""
    # the one TLS Engine port the suite's manager allows (MANAGER_TLS_ENGINE_PORT,
    # scripts/manager/common.sh)
    with tls_engine(tmp_path_factory.mktemp("swarm-tls-pki"), TLS_ENGINE_PORT) as (pki, forwarder):
        values = {"ca": pki.ca_pem, "wrong_ca": pki.wrong_ca_pem,
                  "client_cert": pki.client_cert_pem, "client_key": pki.client_key_pem}
        keys = {role: f"vnf-swarm-tls-{role.replace('_', '-')}-{RUN}" for role in values}
        with cloudify_secrets(manager_access, {keys[role]: values[role] for role in values}):
            yield Engine(pki, forwarder, keys)


def inputs(engine: Engine, ca: str = "ca") -> dict[str, str]:
    return {"docker_host": engine.forwarder.docker_host, "ca_secret": engine.secrets[ca],
            "client_cert_secret": engine.secrets["client_cert"],
            "client_key_secret": engine.secrets["client_key"]}


def leaked(pki: Pki, seen: str) -> list[str]:
    """PEM body lines found in `seen`, by position only (never the line itself)."""
    return [f"PEM line {i}" for i, line in enumerate(pki.bodies()) if line in seen]


def running_tasks(service_name: str) -> list[str]:
    client = clusters.docker_client()
    try:
        (service,) = client.services.list(filters={"name": service_name})
        return [t["Status"]["State"] for t in service.tasks() if t["DesiredState"] == "running"]
    finally:
        client.close()


def test_tls_from_secrets_installs_and_never_shows(cli: ManagerCfy, manager_access: ManagerAccess,
                                                   engine: Engine) -> None:
    name = f"swarm-tls-{RUN}"
    sizes = log_sizes()
    accepted = engine.forwarder.accepted
    try:
        install = cli.install(BLUEPRINT, name, inputs(engine))
        outputs = cli.outputs(name)
        assert outputs["swarm_info"]["endpoint"]["docker_host"] == engine.forwarder.docker_host
        assert outputs["swarm_info"]["endpoint"]["tls"]["inline"] == INLINE
        assert outputs["endpoint"]["tls"]["inline"] == INLINE
        service = outputs["service"]
        assert running_tasks(service["name"]) == ["running"]
        status = cli.execute("check_status", name)
        assert engine.forwarder.accepted > accepted  # the mgmtworker really talked TLS through it
        seen = everything_kept(cli, manager_access, Installed(name, "", {}, sizes))
        assert "1/1 task(s) running" in seen  # check_status's event is read
        assert name in logs_since(sizes)  # and the mgmtworker's log
        assert not leaked(engine.pki, "\n".join([seen, install, status]))
    finally:
        cli.uninstall(name)
    clusters.wait_gone(lambda: clusters.docker_leftovers(name), timeout=90)
    assert not leaked(engine.pki, logs_since(sizes))


def test_a_wrong_ca_secret_fails_once_and_leaves_nothing(
    cli: ManagerCfy, manager_access: ManagerAccess, engine: Engine,
) -> None:
    name = f"swarm-tls-bad-{RUN}"
    sizes = log_sizes()
    try:
        with pytest.raises(CfyFailed):
            cli.install(BLUEPRINT, name, inputs(engine, ca="wrong_ca"))
        install = [e for e in cli.executions(name) if e.workflow_id == "install"][-1]
        events = cli.events(install.id)
        failed_tasks = [line for line in events.splitlines() if "Task failed '" in line]
        assert len(failed_tasks) == 1, events[-3000:]  # once: a handshake failure is not retried
        assert ("Task failed 'cloudify_swarm.tasks.manager_create' -> node "
                "'swarm'" in failed_tasks[0])
        assert "the TLS handshake failed" in failed_tasks[0]
        assert "certificate verify failed" in failed_tasks[0]
        assert "NonRecoverableError" in events
        assert not clusters.docker_leftovers(name)
        seen = everything_kept(cli, manager_access, Installed(name, "", {}, sizes))
        assert not leaked(engine.pki, seen)
    finally:
        cli.uninstall(name)
    assert not clusters.docker_leftovers(name)
