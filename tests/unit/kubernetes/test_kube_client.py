"""Issue 28: the Kubernetes client library is loaded for what api_backend uses (kube_client);
the rest (typed APIs, models, watch, stream) loads when first asked for and is the library's own.
Fresh processes: what a test process imported earlier would hide what an operation loads."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.helpers.paths import ROOT


def run(code: str) -> object:
    script = f"import sys, json\n{code}\n"
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", script], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_api_backend_loads_no_model_typed_api_or_stream() -> None:
    loaded = run("import cloudify_kubernetes.api_backend\n"
                 "print(json.dumps(sorted({m.rsplit('.', 1)[0] for m in sys.modules if "
                 "m.startswith("
                 "('kubernetes.client.models.', 'kubernetes.client.api.', 'kubernetes.stream', "
                 "'websocket', 'kubernetes.leaderelection'))})))")
    assert loaded == []


def test_deferred_names_are_the_librarys_own() -> None:
    code = """
import importlib.metadata
from cloudify_kubernetes.api_backend import kubernetes
import kubernetes.client.api_client as api_client, kubernetes.client.configuration as configuration
checks = {
    "version": kubernetes.__version__ == importlib.metadata.version("kubernetes"),
    "api_client": kubernetes.client.ApiClient is api_client.ApiClient,
    "configuration": kubernetes.client.Configuration is configuration.Configuration,
    "typed_api": kubernetes.client.CoreV1Api.__module__ == "kubernetes.client.api.core_v1_api",
    "model": kubernetes.client.V1Pod is kubernetes.client.models.V1Pod,
    "watch": kubernetes.watch.Watch.__name__ == "Watch",
    "stream": callable(kubernetes.stream.stream),
    "config": kubernetes.config.new_client_from_config_dict.__module__ == """ \
""""kubernetes.config.kube_config",
}
print(json.dumps(checks))
"""
    checks = run(code)
    assert isinstance(checks, dict) and all(checks.values()), checks


def test_a_typed_response_still_deserialises_into_its_model() -> None:
    """ApiClient reads kubernetes.client.models only to deserialise; the deferred package then
    loads the model as before."""
    code = """
from cloudify_kubernetes.api_backend import kubernetes
class Response:
    data = json.dumps({"gitVersion": "v1.20.2", "major": "1", "minor": "20", "buildDate": "x",
                       "compiler": "gc", "gitCommit": "c", "gitTreeState": "clean",
                       "goVersion": "go", "platform": "linux/amd64"})
info = kubernetes.client.ApiClient().deserialize(Response(), "VersionInfo")
print(json.dumps([type(info).__name__, info.git_version]))
"""
    assert run(code) == ["VersionInfo", "v1.20.2"]


class VersionHandler(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/version/" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def version_server() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), VersionHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def backend_for(server: HTTPServer) -> object:
    from cloudify_kubernetes.api_backend import ApiBackend, kubernetes
    config = kubernetes.client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_address[1]}"
    backend = ApiBackend.__new__(ApiBackend)  # no discovery: only /version is served
    backend.api_client, backend.timeout = kubernetes.client.ApiClient(config), 5
    return backend


def test_server_version_reads_git_version(version_server: HTTPServer) -> None:
    VersionHandler.body = json.dumps({"major": "1", "minor": "20",
                                      "gitVersion": "v1.20.2"}).encode()
    assert backend_for(version_server).server_version() == "v1.20.2"  # type: ignore[attr-defined]


@pytest.mark.parametrize("body",
                         [b"not json", b"[]", b'{"gitVersion": 1}', b"{" + b" " * 70000 + b"}"])
def test_a_version_without_git_version_is_a_user_error(version_server: HTTPServer,
                                                       body: bytes) -> None:
    from cloudify_shared.errors import UserError
    VersionHandler.body = body
    with pytest.raises(UserError, match="gitVersion"):
        backend_for(version_server).server_version()  # type: ignore[attr-defined]
