"""The Docker client sends nothing of the worker's own (issue 24): no registry auths, credential
helpers, HttpHeaders or proxies from ~/.docker/config.json, no ~/.netrc password. Pins the
docker-py private attributes docker_engine.drop_ambient_config relies on (through
cloudify_shared.internals, written against the docker-py version it names): a docker-py that
renames or reloads them fails here and in tests/unit/shared/test_internals.py (which also
checks the version)."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
import requests.adapters

from cloudify_swarm import docker_engine
from cloudify_swarm.endpoint import Endpoint, TlsSettings

REGISTRY = "registry.example.net"
AMBIENT = "X-Ambient-Header"


@pytest.fixture
def worker_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A worker account whose Docker config has a registry password, a credential helper,
    HttpHeaders and proxies, and whose netrc has a password for the Engine's host."""
    config = tmp_path / "docker"
    config.mkdir()
    auth = base64.b64encode(b"worker:hunter2").decode()
    (config / "config.json").write_text(json.dumps({
        "auths": {REGISTRY: {"auth": auth}, "https://index.docker.io/v1/": {"auth": auth}},
        "credHelpers": {"other.example.net": "vnf-test-helper-that-must-not-run"},
        "HttpHeaders": {AMBIENT: "from-the-worker"},
        "proxies": {"default": {"httpProxy": "http://proxy.worker:3128"}},
    }))
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login worker password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.setenv("NETRC", str(netrc))
    return tmp_path


class Recorder(requests.adapters.HTTPAdapter):
    """Answers every request as an Engine would, and keeps what was sent."""

    sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, *args: Any,
             **kwargs: Any) -> requests.Response:
        Recorder.sent.append(request)
        response = requests.Response()
        response.status_code = 201 if request.method == "POST" else 200
        body = {"ApiVersion": "1.43"} if str(request.url).endswith("/version") else {"ID": "svc1"}
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = str(request.url)
        response.request = request
        return response


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[requests.PreparedRequest]:
    Recorder.sent = []
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", Recorder.send)
    return Recorder.sent


def test_plain_docker_py_would_send_the_workers_config(worker_home: Path) -> None:
    """What drop_ambient_config undoes is really there (the attribute names are pinned)."""
    plain = docker.APIClient(base_url="tcp://127.0.0.1:1", version="1.43")
    try:
        assert plain._general_configs["HttpHeaders"] == {AMBIENT: "from-the-worker"}
        assert plain._proxy_configs.get_environment()
        assert docker.auth.get_config_header(plain, REGISTRY)
    finally:
        plain.close()


def test_the_engine_client_sends_no_ambient_credentials(
        worker_home: Path, recorded: list[requests.PreparedRequest]) -> None:
    client = docker_engine.EngineApiClient(base_url="tcp://127.0.0.1:1", version="auto")
    try:
        assert client.api_version == "1.43"  # negotiated once the config was dropped
        assert docker.auth.get_config_header(client, REGISTRY) is None
        assert docker.auth.get_config_header(client, "other.example.net") is None  # no helper run
        assert client._proxy_configs.get_environment() == {}
        task = {"ContainerSpec": {"Image": f"{REGISTRY}/app:1"}}
        client.create_service(task, name="web")
        client.update_service("svc1", 1, task_template=task, name="web", fetch_current_spec=False)
    finally:
        client.close()
    assert [r.method for r in recorded] == ["GET", "POST", "POST"]
    for request in recorded:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert "x-registry-auth" not in headers, request.url
        assert "authorization" not in headers, request.url  # no netrc
        assert AMBIENT.lower() not in headers, request.url
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        assert "proxy.worker" not in body and "hunter2" not in body, request.url


def test_a_ssh_endpoint_on_a_manager_never_shells_out(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []

    class Client:
        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)

    monkeypatch.setattr(docker_engine, "EngineApiClient", Client)
    endpoint = Endpoint("ssh://ops@engine.example.net:22", TlsSettings(), 60)
    docker_engine.open_client(endpoint, on_manager=True)
    docker_engine.open_client(endpoint, on_manager=False)
    assert [m["use_ssh_client"] for m in made] == [False, True]
