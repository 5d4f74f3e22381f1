"""The local-file policy in the local profile (issue 17): on the operator's own machine the host
paths that a manager refuses (tests/integration/manager/test_local_files.py) keep working: a
Swarm secret and config from files in a temporary directory, a Kubernetes token_file there, an
absolute compose file with a config file beside it; and a relative `file:` is a blueprint
resource, as on a manager."""
from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest

from tests.helpers import clusters
from tests.helpers.local_workflows import deployed
from tests.helpers.paths import K8S_CA, K8S_TOKEN_FILE, TEST_BLUEPRINTS

HOST_FILES = TEST_BLUEPRINTS / "swarm-host-files"
K8S_CONFIG = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"

COMPOSE = """\
version: "3.8"
services:
  probe:
    image: local/busybox:1
    command: sh -c "trap 'exit 0' TERM; cat /motd.txt; sleep 100000 & wait"
    configs:
      - {source: motd, target: /motd.txt}
    stop_grace_period: 2s
configs:
  motd:
    file: ./motd.txt
"""


def config_data(name: str) -> str:
    client = clusters.docker_client()
    try:
        (config,) = client.configs.list(filters={"name": name})
        return base64.b64decode(config.attrs["Spec"]["Data"]).decode()
    finally:
        client.close()


@pytest.mark.usefixtures("swarm")
def test_swarm_secret_and_config_from_host_files(tmp_path: Path, no_leftovers: str) -> None:
    (tmp_path / "token.txt").write_text("offline-secret-value")
    (tmp_path / "app.conf").write_text("listen 8080\n")
    name = no_leftovers
    secrets = [{"name": f"{name}-s", "file": str(tmp_path / "token.txt"), "target": "token"}]
    configs = [{"name": f"{name}-c", "file": str(tmp_path / "app.conf"), "target": "/app.conf"}]
    with deployed(HOST_FILES / "blueprint.yaml", {"secrets": secrets, "configs": configs},
                  name=name) as deployment:
        ids = deployment.outputs()["object_ids"]
        assert set(ids["Secret"]) == {f"{name}-s"} and set(ids["Config"]) == {f"{name}-c"}
        assert config_data(f"{name}-c") == "listen 8080\n"


@pytest.mark.usefixtures("swarm")
def test_a_relative_secret_file_is_a_blueprint_resource(tmp_path: Path, no_leftovers: str) -> None:
    blueprint = tmp_path / "bp"
    shutil.copytree(HOST_FILES, blueprint)
    (blueprint / "conf").mkdir()
    (blueprint / "conf" / "app.conf").write_text("from the blueprint\n")
    name = no_leftovers
    configs = [{"name": f"{name}-c", "file": "conf/app.conf", "target": "/app.conf"}]
    with deployed(blueprint / "blueprint.yaml", {"configs": configs}, name=name):
        assert config_data(f"{name}-c") == "from the blueprint\n"


@pytest.mark.usefixtures("swarm")
def test_an_absolute_compose_file_with_a_file_beside_it(tmp_path: Path, no_leftovers: str) -> None:
    (tmp_path / "stack.yml").write_text(COMPOSE)
    (tmp_path / "motd.txt").write_text("motd from the host\n")
    name = no_leftovers
    with deployed(HOST_FILES / "stack.yaml", {"compose_file": str(tmp_path / "stack.yml"),
                                              "stack_name": name}, name=name) as deployment:
        assert "probe" in deployment.outputs()["stack"]["services"]
        assert config_data(f"{name}_motd") == "motd from the host\n"


@pytest.mark.usefixtures("kube")
def test_a_kubernetes_token_file_on_the_host(tmp_path: Path, no_leftovers: str) -> None:
    token = tmp_path / "token"
    token.write_text(K8S_TOKEN_FILE.read_text())
    token.chmod(0o600)
    name = no_leftovers
    api = {"host": "https://127.0.0.1:6443", "token_file": str(token), "ca_file": str(K8S_CA)}
    config = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
               "data": {"a": "b"}}]
    with deployed(K8S_CONFIG, {"api": api, "config": config, "timeout": 60}, name=name):
        assert f"ConfigMap/default/{name}" in clusters.kubernetes_leftovers(name)
