"""Swarm TLS material inline (issue 17), offline with the real `cfy` CLI: a Manager whose endpoint
is a real mutual-TLS Engine (tests/helpers/tls_engine.py: a CA, a server certificate for
127.0.0.1 and a client certificate, a TLS forwarder that requires the client certificate in
front of the real /var/run/docker.sock) with the three PEMs passed as inputs into
endpoint.tls.*_pem. A Microservice with one Container installs through it (the Container and
the Microservice read the PEMs again from the Manager's properties), the service runs,
check_status passes, uninstall removes it; no PEM text is in the runtime properties (the local
storage), the outputs, the cfy output, or left in a private file. A wrong CA fails the install
at once (not retried), clearly, and leaves nothing."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cfy_cli import CfyCli
from tests.helpers.clusters import docker_client, docker_leftovers
from tests.helpers.paths import TEST_BLUEPRINTS
from tests.helpers.tls_engine import Pki, TlsForwarder, tls_engine

pytestmark = [pytest.mark.usefixtures("swarm"), pytest.mark.cfy]

BLUEPRINT = TEST_BLUEPRINTS / "swarm-tls" / "blueprint.yaml"
INLINE = ["ca_cert_pem", "client_cert_pem", "client_key_pem"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pki, TlsForwarder]]:
    with tls_engine(tmp_path_factory.mktemp("swarm-tls")) as pair:
        yield pair


def inputs(pki: Pki, forwarder: TlsForwarder, ca: str | None = None) -> dict[str, str]:
    return {"docker_host": forwarder.docker_host, "ca_pem": ca or pki.ca_pem,
            "client_cert_pem": pki.client_cert_pem, "client_key_pem": pki.client_key_pem}


def leaked(pki: Pki, text: str) -> list[str]:
    """PEM body lines found in `text`, by position only (never the line itself)."""
    return [f"PEM line {i}" for i, line in enumerate(pki.bodies()) if line in text]


def private_files_holding(pki: Pki) -> list[str]:
    """Private copies (LocalFiles, vnf-files-*) still on disk that hold the client key."""
    key_line = pki.client_key_pem.splitlines()[1]
    found = []
    for path in Path(tempfile.gettempdir()).glob("vnf-files-*/*"):
        try:
            if key_line in path.read_text(errors="replace"):
                found.append(str(path))
        except OSError:  # another run's, removed meanwhile
            continue
    return found


def running_tasks(service_name: str) -> list[str]:
    client = docker_client()
    try:
        (service,) = client.services.list(filters={"name": service_name})
        return [t["Status"]["State"] for t in service.tasks() if t["DesiredState"] == "running"]
    finally:
        client.close()


def test_inline_tls_installs_runs_and_shows_no_pem(cfy: CfyCli, engine: tuple[Pki, TlsForwarder],
                                                   no_leftovers: str) -> None:
    pki, forwarder = engine
    before = forwarder.accepted
    install = cfy.install(BLUEPRINT, no_leftovers, inputs(pki, forwarder)).check()
    try:
        outputs = cfy.outputs(no_leftovers)
        assert outputs["swarm_info"]["endpoint"]["docker_host"] == forwarder.docker_host
        assert outputs["swarm_info"]["endpoint"]["tls"]["inline"] == INLINE
        assert outputs["endpoint"]["tls"] == {"verify": True, "ca_cert": None, "client_cert": None,
                                              "client_key": None, "inline": INLINE}
        service = outputs["service"]
        assert [t["state"] for t in service["tasks"]] == ["running"]
        assert running_tasks(service["name"]) == ["running"]
        status = cfy.execute("check_status", no_leftovers).check()
        assert "1/1 task(s) running" in status.output
        assert forwarder.accepted > before  # the operations really talked TLS through it
        instances = str(cfy.node_instances(no_leftovers))
        assert "client_key_pem" in instances  # the published names are there ...
        seen = "\n".join([install.output, status.output, instances, str(outputs)])
        assert not leaked(pki, seen)  # ... and none of the PEM text
    finally:
        uninstall = cfy.uninstall(no_leftovers)
    uninstall.check()
    assert not leaked(pki, uninstall.output)
    assert not docker_leftovers(no_leftovers)
    assert not private_files_holding(pki)


def test_a_wrong_ca_fails_at_once_and_leaves_nothing(cfy: CfyCli, engine: tuple[Pki, TlsForwarder],
                                                     no_leftovers: str) -> None:
    pki, forwarder = engine
    refused = forwarder.refused
    result = cfy.install(BLUEPRINT, no_leftovers, inputs(pki, forwarder, ca=pki.wrong_ca_pem))
    assert result.returncode != 0
    failures = [line for line in result.output.splitlines() if "Task failed '" in line]
    assert failures and all("cloudify_swarm.tasks.manager_create" in line for line in failures)
    assert len(failures) == 1, "a TLS handshake failure must not be retried"
    assert "swarm" in failures[0] and "the TLS handshake failed" in failures[0]
    assert "certificate verify failed" in failures[0]
    assert forwarder.refused > refused
    assert not leaked(pki, result.output)
    assert "app" not in str([i for i in cfy.node_instances(no_leftovers) if i.get("state")
                             == "started"])
    assert not docker_leftovers(no_leftovers)
    assert not private_files_holding(pki)
