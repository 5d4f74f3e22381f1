"""How inline TLS material reaches docker-py: private files for the operation only
(LocalFiles.private_file via context_engine.checked_endpoint), never a PEM handed to the client;
a TLS handshake failure is a user error (not retried); the CA given is kept even where
REQUESTS_CA_BUNDLE is set."""
from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests.exceptions

from cloudify_shared.local_files import LocalFiles
from cloudify_swarm import docker_engine
from cloudify_swarm.context import engine as context_engine
from cloudify_swarm.endpoint import parse_endpoint
from tests.unit.swarm.test_endpoint import CA, CERT, KEY, inline

LOCAL_CTX: Any = SimpleNamespace(_local=True)  # the local profile: every endpoint allowed


def no_resources(path: str) -> bytes:
    raise AssertionError(f"no resource expected, asked for {path}")


def test_private_file_is_mode_600_in_a_mode_700_folder_and_removed_on_close() -> None:
    files = LocalFiles(True, no_resources)
    path = files.private_file(b"key material", "client_key.pem")
    again = files.private_file(b"other", "client_key.pem")
    assert path != again and Path(path).read_bytes() == b"key material"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    files.close()
    assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))


def test_checked_endpoint_writes_the_inline_pem_to_private_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = LocalFiles(True, no_resources)
    monkeypatch.setattr(context_engine, "local_files", lambda ctx: files)
    endpoint = context_engine.checked_endpoint(LOCAL_CTX,
                                               parse_endpoint(inline(), "properties.endpoint"),
                                             "properties.endpoint")
    try:
        tls = endpoint.tls
        assert (tls.ca_cert_pem, tls.client_cert_pem, tls.client_key_pem) == (None, None, None)
        assert [Path(p).read_text()
                for p in (tls.ca_cert, tls.client_cert, tls.client_key)] == [CA, CERT, KEY]
        # still published as inline
        assert tls.inline == ("ca_cert_pem", "client_cert_pem", "client_key_pem")
    finally:
        files.close()
    assert not os.path.exists(tls.client_key)


def test_open_client_refuses_inline_material_not_written_to_files() -> None:
    with pytest.raises(ValueError, match="write it to files first"):
        docker_engine.open_client(parse_endpoint(inline(), "properties.endpoint"))


def chained(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as error:
            raise outer from error
    except BaseException as error:
        return error


@pytest.mark.parametrize(("error", "is_tls"), [
    (chained(requests.exceptions.SSLError("wrapped"),
             ssl.SSLCertVerificationError(1, "certificate verify failed")), True),
    (requests.exceptions.ConnectionError(ssl.SSLError(1, "tlsv13 alert certificate required")),
     True),
    (chained(requests.exceptions.ConnectionError("cut"), ssl.SSLEOFError(8, "EOF")), False),
    (requests.exceptions.ConnectionError(ConnectionRefusedError(111, "refused")), False),
])
def test_a_tls_handshake_failure_is_told_apart_by_type(error: BaseException, is_tls: bool) -> None:
    assert docker_engine.tls_failure(error) is is_tls


def test_a_tls_failure_is_a_user_error_and_a_refused_connection_transient() -> None:
    from cloudify_shared.errors import TransientError, UserError
    with pytest.raises(UserError, match="the TLS handshake failed"):
        with docker_engine.engine_errors("connecting"):
            raise chained(requests.exceptions.SSLError("x"),
                          ssl.SSLCertVerificationError(1, "verify failed"))
    with pytest.raises(TransientError, match="cannot reach the Docker Engine"):
        with docker_engine.engine_errors("connecting"):
            raise requests.exceptions.ConnectionError(ConnectionRefusedError(111, "refused"))


def test_the_given_ca_wins_over_requests_ca_bundle(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    client: Any = docker_engine.EngineApiClient(base_url="tcp://127.0.0.1:1", version="1.41")
    try:
        client.verify = str(tmp_path / "ca.pem")
        settings = client.merge_environment_settings("https://127.0.0.1:1/version", {}, False, None,
                                                     None)
        assert settings["verify"] == str(tmp_path / "ca.pem")
        explicit = client.merge_environment_settings("https://127.0.0.1:1/version", {}, False,
                                                     False, None)
        assert explicit["verify"] is False
        client.verify = True  # no CA file: the environment's bundle, as requests does
        assert client.merge_environment_settings("https://x/", {}, False, None, None)["verify"] == \
            "/etc/ssl/certs/ca-certificates.crt"
    finally:
        client.close()


def test_connect_reads_the_material_through_the_microservice_it_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Container (or the Container -> Microservice relationship) passes the Microservice: the
    Manager is found through that instance's relationships, not the operation's own."""
    from cloudify_swarm.context.links import MANAGER
    from tests.unit.swarm.test_endpoint import node_ctx
    files = LocalFiles(True, no_resources)
    monkeypatch.setattr(context_engine, "local_files", lambda ctx: files)
    opened: list[Any] = []
    monkeypatch.setattr(docker_engine.Engine, "connect",
                        classmethod(lambda cls, endpoint,
                                    on_manager: opened.append(endpoint) or "engine"))
    published = parse_endpoint(inline(), "properties.endpoint").public()
    microservice = node_ctx(MANAGER, {"endpoint": inline()}, {})
    # its own instance has no Manager
    container_ctx = type("Ctx", (), {"instance": None, "_local": True})()
    try:
        assert context_engine.connect(container_ctx, {"endpoint": published},
                                      microservice) == "engine"
        (endpoint,) = opened
        assert [Path(p).read_text() for p in (endpoint.tls.ca_cert, endpoint.tls.client_cert,
                                              endpoint.tls.client_key)] == [CA, CERT, KEY]
        assert endpoint.tls.pem_items() == [] and endpoint.tls.missing_material() == []
        # its own ctx
        assert context_engine.connect(microservice, {"endpoint": published}) == "engine"
        assert context_engine.connect(microservice, {}) is None  # create never ran
    finally:
        files.close()
