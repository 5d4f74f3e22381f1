"""The local-file policy on the real manager (issue 17): a blueprint that points a Swarm secret, a
Kubernetes token_file or a compose file at a manager file outside the blueprint is refused by the
mgmtworker, the execution's events name the field, the path and the administrator's setting (and
none of the file's content), and nothing is made on either cluster. The harness allows only the
local clusters' pki directory (CLOUDIFY_VNF_ALLOWED_DIRS, scripts/manager/common.sh), so the
token and CA files there keep working (test_microservices.py, test_hybrid_chain.py). The same
kinds of host path in the local profile: tests/integration/test_local_files.py."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from examples.manager import ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import K8S_CA, TEST_BLUEPRINTS
from tests.integration.manager.test_microservices import failed_install_events

pytestmark = pytest.mark.usefixtures("swarm", "kube")

HOST_FILES = TEST_BLUEPRINTS / "swarm-host-files"
K8S_CONFIG = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
# the manager's own keys (scripts/real-manager links /opt/manager to its state, as a manager has it)
MANAGER_FILE = Path("/opt/manager/rest-security.conf")
CONFIG_MAP = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "policy-probe"},
               "data": {"a": "b"}}]


def manager_keys() -> list[str]:
    data = json.loads(MANAGER_FILE.read_text())
    return [str(data[key]) for key in ("secret_key", "hash_salt", "encryption_key")
            if data.get(key)]


def assert_refused(events: str, field: str, path: str = str(MANAGER_FILE)) -> None:
    assert f"{field}: '{path}'" in events, events[-3000:]
    assert "is a file of the manager's own host, outside the blueprint" in events
    assert "CLOUDIFY_VNF_ALLOWED_DIRS" in events
    assert not [key for key in manager_keys()
                if key in events], "the manager's keys are in the events"


def test_a_swarm_secret_from_a_manager_file_is_refused_and_nothing_is_made(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    assert manager_keys(), f"{MANAGER_FILE} holds no keys to look for"
    secrets = [{"name": f"{manager_deployment}-keys", "file": str(MANAGER_FILE), "target": "keys"}]
    events = failed_install_events(on_manager, manager_deployment, HOST_FILES / "blueprint.yaml",
                                   {"secrets": secrets})
    assert_refused(events, "properties.secrets[0].file")
    assert clusters.docker_leftovers(manager_deployment) == []


def test_a_swarm_config_dotted_out_of_the_allowed_directory_is_refused(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    # `..` out of the allowed pki directory, as a blueprint could write it
    sneaky = f"{K8S_CA.parent}/../../../../opt/manager/rest-security.conf"
    configs = [{"name": f"{manager_deployment}-cfg", "file": sneaky, "target": "/keys"}]
    events = failed_install_events(on_manager, manager_deployment, HOST_FILES / "blueprint.yaml",
                                   {"configs": configs})
    assert_refused(events, "properties.configs[0].file", sneaky)
    assert clusters.docker_leftovers(manager_deployment) == []


def test_a_kubernetes_token_file_from_a_manager_file_is_refused_and_nothing_is_made(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    api = {"host": "https://127.0.0.1:6443", "token_file": str(MANAGER_FILE),
           "ca_file": str(K8S_CA)}
    events = failed_install_events(on_manager, manager_deployment, K8S_CONFIG,
                                   {"api": api, "config": CONFIG_MAP, "timeout": 30})
    assert_refused(events, "properties.api.token_file")
    assert clusters.kubernetes_leftovers(manager_deployment) == []


def test_an_absolute_compose_file_on_the_manager_is_refused_and_nothing_is_made(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, HOST_FILES / "stack.yaml",
                                   {"compose_file": str(MANAGER_FILE),
                                    "stack_name": manager_deployment})
    assert_refused(events, "properties.compose_file")
    assert clusters.docker_leftovers(manager_deployment) == []
