"""Secrets stay secret (issues 8 and 17): tokens, keys, passwords and secret contents given to each
plugin never appear in the cfy output, the cfy logs, the node instances' runtime properties or
the deployment outputs, also when the operation fails; turning TLS verification or SSH host-key
checking off logs a warning. Every case runs the real cfy CLI against the real clusters (the
proxy against the fake manager over HTTPS)."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import clusters
from tests.helpers.cfy_cli import CfyCli
from tests.helpers.fake_manager import FakeManager, self_signed_cert, serving
from tests.helpers.paths import (
    K8S_CA,
    K8S_TOKEN_FILE,
    KUBECONFIG,
    KUBECTL,
    SSH_CLIENT_KEY,
    TEST_BLUEPRINTS,
)

K8S = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
SWARM_OBJECTS = TEST_BLUEPRINTS / "swarm-objects" / "blueprint.yaml"
PROXY = TEST_BLUEPRINTS / "proxy-downstream" / "blueprint.yaml"
CONFIG = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "secrets-test"},
           "data": {"a": "b"}}]
CLIENT_KEY = SSH_CLIENT_KEY
SWARM_SECRET = "swarm-secret-value-5b1e0"
MANAGER_PASSWORD = "manager-password-9c2d4"
K8S_SECRET_DATA = "k8s-secret-data-3e8b1"
SECRET_OBJECT = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "secrets-test-secret"},
                 "stringData": {"password": K8S_SECRET_DATA}}
pytestmark = pytest.mark.usefixtures("swarm", "kube")


def token() -> str:
    return K8S_TOKEN_FILE.read_text().strip()


def key_lines() -> list[str]:
    """The private key's base64 body lines (a key leaked in part is still leaked)."""
    return [line for line in CLIENT_KEY.read_text().splitlines() if line
            and "PRIVATE KEY" not in line]


def secret_data() -> list[str]:
    return [K8S_SECRET_DATA, base64.b64encode(K8S_SECRET_DATA.encode()).decode()]


def kubeconfig_with_token() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Config", "current-context": "local",
            "clusters": [{"name": "local", "cluster": {"server": "https://127.0.0.1:6443",
                                                       "certificate-authority": str(K8S_CA)}}],
            "users": [{"name": "admin", "user": {"token": token()}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}]}


@dataclass
class Case:
    id: str
    blueprint: Path
    inputs: Callable[[dict[str, Any]], dict[str, Any]]
    secrets: Callable[[], list[str]]
    warning: str = ""
    fails: str = ""  # the install must fail with this text (and still not leak)
    prepare: list[str] = field(default_factory=list)


CASES = [
    Case("k8s-inline-token-tls-off", K8S,
         lambda env: {"api": {"host": "https://127.0.0.1:6443", "token": token(),
                              "verify_tls": False},
                      "config": CONFIG},
         lambda: [token()], warning="TLS verification is OFF for https://127.0.0.1:6443"),
    Case("k8s-kubeconfig-content", K8S,
         lambda env: {"api": {"kubeconfig_content": kubeconfig_with_token()}, "config": CONFIG},
         lambda: [token()]),
    Case("k8s-kubeconfig-content-as-yaml-text", K8S,
         lambda env: {"api": {"kubeconfig_content": yaml.safe_dump(kubeconfig_with_token())},
                      "config": CONFIG},
         lambda: [token()]),
    Case("k8s-secret-data-in-the-descriptors", K8S,
         lambda env: {"api": {"host": "https://127.0.0.1:6443", "token_file": str(K8S_TOKEN_FILE),
                              "ca_file": str(K8S_CA)}, "config": [*CONFIG, SECRET_OBJECT]},
         secret_data),
    Case("k8s-ssh-inline-private-key", K8S,
         lambda env: {"ssh": {"host": "127.0.0.1", "port": 2222,
                              "private_key": CLIENT_KEY.read_text(),
                              "check_host_key": False, "kubectl": str(KUBECTL),
                              "kubeconfig": str(KUBECONFIG)}, "config": CONFIG},
         key_lines, warning="SSH host key checking is OFF for ssh://root@127.0.0.1:2222"),
    Case("k8s-wrong-inline-token", K8S,
         lambda env: {"api": {"host": "https://127.0.0.1:6443", "ca_file": str(K8S_CA),
                              "token": "wrong-token-d41d8cd98f00b204"}, "config": CONFIG},
         lambda: ["wrong-token-d41d8cd98f00b204"], fails="HTTP 401 unauthorized"),
    Case("k8s-ssh-host-key-check-off", K8S,
         lambda env: {"ssh": {"host": "127.0.0.1", "port": 2222, "key_file": str(CLIENT_KEY),
                              "check_host_key": False, "kubectl": str(KUBECTL),
                              "kubeconfig": str(KUBECONFIG)}, "config": CONFIG},
         key_lines, warning="SSH host key checking is OFF for ssh://root@127.0.0.1:2222"),
    Case("swarm-secret-data", SWARM_OBJECTS,
         lambda env: {"prefix": env["prefix"], "existing_network": env["network"],
                      "secret_value": SWARM_SECRET},
         lambda: [SWARM_SECRET], prepare=["network"]),
    Case("proxy-manager-password-and-token", PROXY,
         lambda env: {"upstream": "up", "timeout": 10, "manager": env["manager"]},
         lambda: [MANAGER_PASSWORD], warning="TLS verification is OFF for manager 127.0.0.1",
         prepare=["manager"]),
]


@contextmanager
def prepared(case: Case, deployment_id: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """What a case needs besides the clusters: a pre-existing network, a fake manager."""
    env: dict[str, Any] = {"prefix": f"sec{deployment_id[-6:]}"}
    with ExitStack() as stack:
        if "network" in case.prepare:
            client = stack.enter_context(closing(clusters.docker_client()))
            network = client.networks.create(f"{env['prefix']}-pre", driver="overlay",
                                             attachable=True)
            stack.callback(network.remove)
            env["network"] = network.name
        if "manager" in case.prepare:
            fake = FakeManager(basic_auth=("admin", MANAGER_PASSWORD))
            fake.add_deployment("up", {"vm_info": {"ips": ["10.40.0.2"]}})
            fake.end_execution(fake.start_execution("up"))
            port = stack.enter_context(serving(fake, self_signed_cert(tmp_path)))
            env["manager"] = {"host": "127.0.0.1", "port": port, "protocol": "https",
                              "username": "admin", "password": MANAGER_PASSWORD, "verify": False}
        yield env


def everything_cfy_kept(cfy: CfyCli, deployment_id: str) -> str:
    """Logs under the cfy work dir, and every node instance (runtime properties included)."""
    logs = [p.read_text(errors="replace") for p in (cfy.workdir / ".cloudify" / "logs").rglob("*")
            if p.is_file()]
    return "\n".join(logs) + json.dumps(cfy.node_instances(deployment_id))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_secrets_never_in_the_clear(case: Case, cfy: CfyCli, no_leftovers: str,
                                    tmp_path: Path) -> None:
    cfy.retries = 0
    with prepared(case, no_leftovers, tmp_path) as env:
        installed = cfy.install(case.blueprint, no_leftovers, case.inputs(env))
        if case.fails:
            assert (installed.returncode != 0
                    and case.fails in installed.output), installed.output[-3000:]
        else:
            installed.check()
        seen = installed.output + everything_cfy_kept(cfy, no_leftovers)
        if not case.fails:
            seen += json.dumps(cfy.outputs(no_leftovers))
        uninstalled = cfy.uninstall(no_leftovers).check()
        seen += uninstalled.output
    leaked = [secret for secret in case.secrets() if secret in seen]
    assert not leaked, f"{len(leaked)} secret value(s) found in the clear"
    if case.warning:
        assert case.warning in installed.output, installed.output[-3000:]
