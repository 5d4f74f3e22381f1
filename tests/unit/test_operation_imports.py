"""Issue 28: on a manager every operation is a fresh process, so what an operation imports to
talk to its backend is paid per operation. These pin what the adapters leave out until an
endpoint needs it (no timings: which modules load)."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers.paths import ROOT


def loaded_after(code: str, names: tuple[str, ...]) -> list[str]:
    script = (f"import sys, json\n{code}\nprint(json.dumps([m for m in {names!r} if m in "
              "sys.modules]))")
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", script], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_docker_adapter_loads_no_ssh_transport() -> None:
    assert loaded_after("import cloudify_swarm.docker_engine",
                        ("docker", "paramiko", "cryptography",
                         "docker.transport.sshconn")) == ["docker"]


def test_ssh_endpoint_gets_docker_py_ssh_transport() -> None:
    """An ssh:// client still gets docker-py's ssh adapter (the shell-client form, which does
    not connect when made), as docker-py gives it when it imports the transport itself."""
    code = """
from cloudify_swarm import docker_engine
import docker
assert "paramiko" not in sys.modules
docker_engine.ssh_transport()
api = docker.APIClient(base_url="ssh://nobody@127.0.0.1:1", use_ssh_client=True, version="1.41")
assert type(api._custom_adapter).__name__ == "SSHHTTPAdapter", api._custom_adapter
"""
    assert loaded_after(code, ("paramiko",)) == ["paramiko"]


def test_ssh_transport_is_importable_after_the_adapter_loaded() -> None:
    """The block on docker-py's ssh module lasts only while docker loads."""
    code = "import cloudify_swarm.docker_engine\nimport docker.transport.sshconn"
    assert loaded_after(code, ("paramiko", "docker.transport.sshconn")) == [
        "paramiko", "docker.transport.sshconn"]
