"""Cloudify secrets on the real manager (issue 17): every credential the suite takes comes from
get_secret (tests/blueprints/secrets-from-manager: a Kubernetes token, a kubeconfig's content,
an SSH private key, a Kubernetes Secret's data, a Swarm secret's data and a container env value,
the proxy's manager password), installs, and none of those values shows in `cfy events list`,
the node instances (runtime and system properties), the deployment's outputs or the
mgmtworker's logs. A drift check after changing the Kubernetes Secret and the Swarm service's
env by hand names the fields and shows no value, old or new. A proxy in another tenant with
`manager: {}` acts as its execution and fails naming the deployment and the tenant."""
from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cloudify_rest_client.exceptions import CloudifyClientError

from examples.manager import STATE, CfyFailed, ManagerAccess, ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import (
    K8S_CA,
    K8S_TOKEN_FILE,
    KUBECONFIG,
    KUBECTL,
    ROOT,
    SSH_CLIENT_KEY,
    TEST_BLUEPRINTS,
)

pytestmark = pytest.mark.usefixtures("swarm", "kube")

BLUEPRINT = TEST_BLUEPRINTS / "secrets-from-manager" / "blueprint.yaml"
UPSTREAM = TEST_BLUEPRINTS / "proxy-upstream" / "blueprint.yaml"
DOWNSTREAM = TEST_BLUEPRINTS / "proxy-downstream" / "blueprint.yaml"
MGMTWORKER_LOGS = (STATE / "mgmtworker" / "log", STATE / "logs")
TENANT_B = "vnf_tenant_b"
RUN = uuid.uuid4().hex[:6]


def kubeconfig_text(token: str) -> str:
    ca = base64.b64encode(K8S_CA.read_bytes()).decode()
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "local",
        "clusters": [{"name": "local", "cluster": {"server": "https://127.0.0.1:6443",
                                                   "certificate-authority-data": ca}}],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}]})


def key_lines() -> list[str]:
    """The private key's body lines (a key leaked in part is still leaked)."""
    return [line for line in SSH_CLIENT_KEY.read_text().splitlines()
            if line and "PRIVATE KEY" not in line]


@dataclass
class Installed:
    deployment_id: str
    prefix: str
    values: dict[str, str]  # secret key -> value
    log_sizes: dict[Path, int]  # the mgmtworker's log files when the module began


def log_sizes() -> dict[Path, int]:
    return {path: path.stat().st_size for folder in MGMTWORKER_LOGS
            for path in folder.rglob("*") if path.is_file()}


def logs_since(sizes: dict[Path, int]) -> str:
    """What the mgmtworker logged since `sizes` were taken (earlier runs' lines are not ours)."""
    text = []
    for path, size in log_sizes().items():
        start = sizes.get(path, 0)
        with path.open("rb") as handle:
            handle.seek(start if start <= size else 0)
            text.append(handle.read().decode(errors="replace"))
    return "\n".join(text)


@pytest.fixture(scope="module")
def cli(manager_access: ManagerAccess, suite_plugin: str,
        tmp_path_factory: pytest.TempPathFactory) -> ManagerCfy:
    return ManagerCfy(tmp_path_factory.mktemp("cfy-secrets"), manager_access)


@pytest.fixture(scope="module")
def manager_secrets(manager_access: ManagerAccess) -> Iterator[dict[str, str]]:
    """Cloudify secrets (tenant visibility) for every credential; deleted afterwards."""
    token = K8S_TOKEN_FILE.read_text().strip()
    values = {"token": token, "kubeconfig": kubeconfig_text(token),
              "ssh_key": SSH_CLIENT_KEY.read_text(), "k8s_data": f"k8s-secret-data-{RUN}-7f3a",
              "swarm_data": f"swarm-secret-data-{RUN}-41c2", "env": f"env-secret-value-{RUN}-9d0e",
              "password": manager_access.password}
    secrets = {f"vnf-{name.replace('_', '-')}-{RUN}": value for name, value in values.items()}
    with cloudify_secrets(manager_access, secrets):
        yield secrets


@contextlib.contextmanager
def cloudify_secrets(manager_access: ManagerAccess, secrets: dict[str, str]) -> Iterator[None]:
    """Cloudify secrets (key: value, tenant visibility) for the duration; deleted afterwards."""
    client = manager_access.client()
    try:
        for key, value in secrets.items():
            client.secrets.create(key, value, visibility="tenant")
        yield
    finally:
        for key in secrets:
            try:
                client.secrets.delete(key)
            except CloudifyClientError as error:  # not made (create failed before it): fine
                if getattr(error, "status_code", None) != 404:
                    raise


@pytest.fixture(scope="module")
def installed(cli: ManagerCfy, manager_access: ManagerAccess,
              manager_secrets: dict[str, str]) -> Iterator[Installed]:
    upstream = f"sec-up-{RUN}"
    name = f"secrets-{RUN}"
    key = {k.rsplit("-", 1)[0].removeprefix("vnf-"): k for k in manager_secrets}
    prefix = f"sec{RUN}"
    inputs: dict[str, object] = {"prefix": prefix, "token_secret": key["token"],
              "kubeconfig_secret": key["kubeconfig"], "ssh_key_secret": key["ssh-key"],
              "k8s_data_secret": key["k8s-data"], "swarm_data_secret": key["swarm-data"],
              "env_secret": key["env"], "password_secret": key["password"],
              "ca_pem": K8S_CA.read_text(), "ssh_kubectl": str(KUBECTL),
              "ssh_kubeconfig": str(KUBECONFIG), "upstream": upstream,
              "manager_port": manager_access.port}
    sizes = log_sizes()
    try:
        cli.install(UPSTREAM, upstream)
        cli.install(BLUEPRINT, name, inputs)
        yield Installed(name, prefix, manager_secrets, sizes)
    finally:
        cli.uninstall(name)
        cli.uninstall(upstream)
        clusters.wait_gone(lambda: clusters.leftovers(name), timeout=90)


def secret_values(installed: Installed) -> list[str]:
    found = []
    for value in installed.values.values():
        found += key_lines() if "PRIVATE KEY" in value else [value]
    data = next(v for v in installed.values.values() if v.startswith("k8s-secret-data-"))
    return found + [base64.b64encode(data.encode()).decode()]


def everything_kept(cli: ManagerCfy, manager_access: ManagerAccess, installed: Installed) -> str:
    """The events of every execution (logs included), every node instance (runtime and system
    properties), the outputs and what the mgmtworker logged since the module began."""
    deployment_id = installed.deployment_id
    client = manager_access.client()
    seen = [cli.events(e.id) for e in cli.executions(deployment_id)]
    seen += [json.dumps(dict(i), default=str)
             for i in client.node_instances.list(deployment_id=deployment_id)]
    seen.append(json.dumps(cli.outputs(deployment_id), default=str))
    seen.append(logs_since(installed.log_sizes))
    return "\n".join(seen)


def leaked(values: list[str], seen: str) -> list[str]:
    """Which values are in `seen`, shown by their length only."""
    return [f"a value of {len(v)} characters" for v in values if v in seen]


def test_get_secret_values_install_and_never_show(cli: ManagerCfy, manager_access: ManagerAccess,
                                                  installed: Installed) -> None:
    outputs = cli.outputs(installed.deployment_id)
    assert outputs["proxied"]["ips"] == ["10.10.0.2", "10.10.0.3"]  # proxy-upstream's defaults
    assert outputs["ssh_info"]["ssh"]["inline_credentials"] is True
    assert outputs["token_info"]["api"]["inline_credentials"] is True
    made = clusters.leftovers(installed.deployment_id)
    assert any(item.startswith("Secret/") for item in made), made
    value = {v.split("-")[0]: v for v in installed.values.values()}
    live = clusters.kubectl("get", "secret", f"{installed.prefix}-secret", "-n", "default", "-o",
                            "jsonpath={.data.api_key}").stdout
    assert base64.b64decode(live).decode() == value["k8s"]  # get_secret resolved
    service = next(item.split("/", 1)[1]
                   for item in clusters.docker_leftovers(installed.deployment_id)
                   if item.startswith("service/"))
    env = (clusters.docker_client().services.get(service)
           .attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"])
    assert f"API_KEY={value['env']}" in env
    seen = everything_kept(cli, manager_access, installed)
    assert "kubernetes reachable at ssh://root@127.0.0.1:2222" in seen  # the events are read
    assert installed.deployment_id in logs_since(installed.log_sizes)  # and the mgmtworker's log
    assert not leaked(secret_values(installed), seen)


def test_drift_after_changes_by_hand_names_fields_without_values(
        cli: ManagerCfy, manager_access: ManagerAccess, installed: Installed) -> None:
    hand_secret, hand_env = f"hand-secret-{RUN}-0b1d", f"hand-env-{RUN}-77aa"
    patch = json.dumps({"stringData": {"api_key": hand_secret}})
    clusters.kubectl("patch", "secret", f"{installed.prefix}-secret", "-n", "default", "-p", patch)
    service = next(item.split("/", 1)[1]
                   for item in clusters.docker_leftovers(installed.deployment_id)
                   if item.startswith("service/"))
    subprocess.run(["docker", "service", "update", "--detach", "--env-add",
                    f"API_KEY={hand_env}", service], check=True, capture_output=True, timeout=120)
    cli.execute("check_drift", installed.deployment_id)
    drift = [e for e in cli.executions(installed.deployment_id) if e.workflow_id
             == "check_drift"][-1]
    events = cli.events(drift.id)
    assert (f"Secret default/{installed.prefix}-secret: data.api_key: "
            "differs" in events), events[-3000:]
    assert ("TaskTemplate.ContainerSpec.Env.API_KEY" in events
            and "differs (value not shown)" in events)
    seen = everything_kept(cli, manager_access, installed)
    assert not leaked([hand_secret, hand_env, *secret_values(installed)], seen)


@pytest.fixture(scope="module")
def in_tenant_b(manager_access: ManagerAccess, suite_plugin: str,
                tmp_path_factory: pytest.TempPathFactory) -> ManagerCfy:
    subprocess.run(["bash", str(ROOT / "scripts" / "real-manager"), "add-tenant", TENANT_B,
                    f"secrets_b_{RUN}"], input=f"pw-{uuid.uuid4().hex}\n", text=True, check=True,
                   capture_output=True)
    access = ManagerAccess(host=manager_access.host, port=manager_access.port,
                           ca_cert=manager_access.ca_cert,
                           password_file=manager_access.password_file, tenant=TENANT_B)
    return ManagerCfy(tmp_path_factory.mktemp("cfy-secrets-b"), access)


def test_a_proxy_with_manager_empty_acts_as_its_execution_and_names_the_tenant(
        in_tenant_b: ManagerCfy, installed: Installed) -> None:
    """The upstream exists in default_tenant only: from tenant B, without credentials for it,
    it is not there, and the error says where the proxy looked."""
    name = f"cross-tenant-{RUN}"
    try:
        with pytest.raises(CfyFailed):
            in_tenant_b.install(DOWNSTREAM, name,
                                {"upstream": installed.deployment_id, "timeout": 0})
        install = [e for e in in_tenant_b.executions(name) if e.workflow_id == "install"][-1]
        events = in_tenant_b.events(install.id)
        assert f"deployment '{installed.deployment_id}' does not exist" in events, events[-3000:]
        assert f"tenant '{TENANT_B}'" in events, events[-3000:]
    finally:
        in_tenant_b.uninstall(name)
