"""The bad-input table (issue 8): one data-driven table of user errors across the three plugins.

Every case runs a real install (in-process local workflow) against the real local clusters (or the
fake manager for the proxy) and must: fail with a NonRecoverableError whose text names the node and
the field/file and the cause; leave the deployment uninstallable; leave nothing with our ownership
labels on either cluster after the uninstall.
"""
from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import clusters
from tests.helpers.fake_manager import FakeManager, serving
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import (
    LOCAL_API,
    LOCAL_SSH,
    TEST_BLUEPRINTS,
)

K8S = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
SWARM = TEST_BLUEPRINTS / "swarm-service" / "blueprint.yaml"
MANAGER = TEST_BLUEPRINTS / "swarm-manager" / "blueprint.yaml"
PROXY = TEST_BLUEPRINTS / "proxy-downstream" / "blueprint.yaml"
SSH = LOCAL_SSH
API = LOCAL_API
TAKEN_PORT = 18197
pytestmark = [pytest.mark.usefixtures("swarm", "kube")]

Env = dict[str, Any]

def web(image: str = "local/busybox:1") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "badin"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "badin"}},
                     "template": {"metadata": {"labels": {"app": "badin"}}, "spec": {
                         "terminationGracePeriodSeconds": 1,
                         "containers": [{"name": "main", "image": image, "imagePullPolicy": "Never",
                                         "command": ["/bin/sh", "-c",
                                                     "trap 'exit 0' TERM; sleep 600 & wait"]}]}}}}


def k8s(**inputs: Any) -> Callable[[Env], dict[str, Any]]:
    return lambda env: {"api": API, "timeout": 30, **inputs}


def k8s_api(**api: Any) -> Callable[[Env], dict[str, Any]]:
    return lambda env: {"api": {**API,
                                **{k: (v(env) if callable(v) else v) for k, v in api.items()}},
                        "config": web(), "timeout": 30}


def swarm(**inputs: Any) -> Callable[[Env], dict[str, Any]]:
    return lambda env: {"published_port": 18196, **inputs}


def proxy(upstream: str = "up", manager: dict[str, Any] | None = None,
          **inputs: Any) -> Callable[[Env], dict[str, Any]]:
    return lambda env: {"upstream": upstream, "timeout": 5,
                        "manager": {**env["manager"], **(manager or {})}, **inputs}


@dataclass(frozen=True)
class Case:
    id: str
    blueprint: Path
    inputs: Callable[[Env], dict[str, Any]]
    # words the failed task's error must contain (node, field/file, cause)
    expected: tuple[str, ...]
    retries: int = 1
    needs: tuple[str, ...] = field(default=())
    transient: bool = False  # a TransientError: retried `retries` times, then the install fails
    xfail: str = ""  # a known plugin bug (strict: the mark must be removed once it is fixed)


CASES = [
    # --- Kubernetes: descriptors -------------------------------------------------------------
    Case("k8s-missing-file", K8S, k8s(config_files=[{"file": "resources/missing.yaml"}]),
         ("node 'app'", "blueprint resource 'resources/missing.yaml' not found", "No such file")),
    Case("k8s-malformed-yaml", K8S, k8s(config_files=[{"file": "resources/malformed.yaml"}]),
         ("node 'app'", "config_files[0] (file resources/malformed.yaml)", "malformed YAML")),
    Case("k8s-descriptor-not-mapping", K8S, k8s(config=["just a string"]),
         ("node 'app'", "config", "mapping")),
    Case("k8s-unknown-kind", K8S, k8s(config=[{"apiVersion": "example.com/v1", "kind": "Widget",
                                               "metadata": {"name": "w"}}]),
         ("node 'app'", "Widget", "unknown kind")),
    Case("k8s-override-bad-path", K8S,
         k8s(config_files=[{"file": "resources/web.yaml",
                            "overrides": [{"path": "spec.nothing.replicas", "value": 2}]}]),
         ("node 'app'", "overrides", "['spec']['nothing']['replicas'] does not exist")),
    Case("k8s-override-not-literal", K8S,
         k8s(config_files=[{"file": "resources/web.yaml",
                            "overrides": ["['spec']['replicas']=__import__('os').system('id')"]}]),
         ("node 'app'", "overrides", "the value must be a literal")),
    Case("k8s-override-not-assignment", K8S,
         k8s(config_files=[{"file": "resources/web.yaml",
                            "overrides": ["['spec'].update({'replicas': 2})"]}]),
         ("node 'app'", "overrides", "must be exactly one assignment")),
    Case("k8s-override-syntax", K8S,
         k8s(config_files=[{"file": "resources/web.yaml", "overrides": ["['spec']['replicas'=2"]}]),
         ("node 'app'", "overrides")),
    Case("k8s-timeout-wrong-type", K8S, k8s(config=web(), timeout="soon"),
         ("node 'app'", "timeout")),
    Case("k8s-env-wrong-type", K8S, k8s(config=web(), env="A=1"),
         ("node 'app'", "env")),
    Case("k8s-config-files-wrong-type", K8S, k8s(config_files="resources/web.yaml"),
         ("node 'app'", "config_files")),
    Case("k8s-config-file-unknown-key", K8S, k8s(config_files=[{"fiel": "resources/web.yaml"}]),
         ("node 'app'", "config_files[0]", "unknown key 'fiel'")),
    Case("k8s-nonexistent-namespace", K8S, k8s(config=web(), namespace="no-such-namespace-x"),
         ("node 'app'", "no-such-namespace-x")),
    Case("k8s-image-not-present", K8S, k8s(config=web("local/not-here:1")),
         ("node 'app'", "ErrImageNeverPull", "local/not-here:1")),
    # --- Kubernetes: connection ----------------------------------------------------------------
    Case("k8s-api-unknown-key", K8S, k8s_api(hots="https://127.0.0.1:6443"),
         ("node 'master'", "api", "unknown key 'hots'")),
    Case("k8s-api-host-wrong-type", K8S, k8s_api(host=6443),
         ("node 'master'", "api.host")),
    Case("k8s-unreachable-endpoint", K8S, k8s_api(host="https://127.0.0.1:1"),
         ("node 'master'", "cannot reach the API server", "port=1"), transient=True),
    Case("k8s-wrong-token", K8S,
         lambda env: {"api": {"host": API["host"], "ca_file": API["ca_file"],
                              "token": "not-the-right-token"}, "config": web()},
         ("node 'master'", "HTTP 401 unauthorized")),
    Case("k8s-missing-token-file", K8S, k8s_api(token_file="/nonexistent/token"),
         ("node 'master'", "/nonexistent/token")),
    Case("k8s-wrong-ca", K8S, k8s_api(ca_file=lambda env: env["other_ca"]),
         ("node 'master'", "TLS verification failed"), needs=("other_ca",)),
    Case("k8s-ssh-host-key-mismatch", K8S,
         lambda env: {"ssh": {**SSH, "known_hosts": env["other_known_hosts"]}, "config": web()},
         ("node 'master'", "host key of 127.0.0.1 does not match"), needs=("other_known_hosts",)),
    Case("k8s-ssh-unknown-key", K8S, lambda env: {"ssh": {**SSH, "key_fiel": "x"}, "config": web()},
         ("node 'master'", "ssh", "unknown key 'key_fiel'")),
    # --- Swarm -----------------------------------------------------------------------------------
    Case("swarm-image-not-present", SWARM, swarm(image="local/does-not-exist:1"),
         ("node 'web_container'", "No such image: local/does-not-exist:1")),
    Case("swarm-two-containers", TEST_BLUEPRINTS / "swarm-two-containers" / "blueprint.yaml",
         lambda env: {},
         ("microservice 'web' already has container",
          "a Swarm service has exactly one container spec")),
    Case("swarm-port-taken", SWARM, swarm(published_port=TAKEN_PORT),
         ("node 'web_container'", str(TAKEN_PORT)), needs=("port_taken",)),
    Case("swarm-unknown-nested-key", TEST_BLUEPRINTS / "swarm-bad-key" / "blueprint.yaml",
         lambda env: {},
         ("node 'web'",
          "properties.resources.limits: unknown key 'memroy' (did you mean 'memory'?)")),
    Case("swarm-resources-not-mapping", SWARM, swarm(resources="64M"),
         ("node 'web'", "resources")),
    Case("swarm-memory-wrong-value", SWARM, swarm(resources={"limits": {"memory": "lots"}}),
         ("node 'web'", "resources.limits.memory")),
    Case("swarm-entrypoint-wrong-type", SWARM, swarm(entrypoint=42),
         ("node 'web_container'", "entrypoint")),
    Case("swarm-stability-wrong-type", SWARM, swarm(stability_seconds="soon"),
         ("node 'web'", "stability_seconds")),
    Case("swarm-port-out-of-range", SWARM, swarm(published_port=70000),
         ("node 'web_port'", "published")),
    Case("swarm-unreachable-docker-host", MANAGER, lambda env: {"docker_host": "tcp://127.0.0.1:1"},
         ("node 'swarm'", "cannot reach the Docker Engine"), transient=True),
    Case("swarm-docker-host-bad-scheme", MANAGER, lambda env: {"docker_host": "ftp://127.0.0.1"},
         ("node 'swarm'", "docker_host")),
    # --- Proxy (manager mode against the fake manager) ------------------------------------------
    Case("proxy-missing-deployment", PROXY, proxy(upstream="no-such-deployment"),
         ("node 'kubernetes_proxy'", "no-such-deployment")),
    Case("proxy-missing-output", PROXY, proxy(inherit_outputs=["no_such_output"]),
         ("node 'kubernetes_proxy'", "no_such_output")),
    Case("proxy-wrong-token", PROXY, proxy(manager={"token": "not-the-manager-token"}),
         ("node 'kubernetes_proxy'", "401")),
    Case("proxy-unreachable-manager", PROXY, proxy(manager={"port": 1}),
         ("node 'kubernetes_proxy'", "127.0.0.1"), transient=True),
    Case("proxy-failed-upstream", PROXY, proxy(upstream="failed-up"),
         ("node 'kubernetes_proxy'", "failed-up", "failed")),
    Case("proxy-timeout-wrong-type", PROXY, proxy(timeout="soon"),
         ("node 'kubernetes_proxy'", "timeout")),
    Case("proxy-manager-unknown-key", PROXY, proxy(manager={"tennant": "x"}),
         ("node 'kubernetes_proxy'", "manager", "unknown key 'tennant'")),
]


@pytest.fixture(scope="module")
def fake_manager() -> Iterator[dict[str, Any]]:
    fake = FakeManager()
    fake.add_deployment("up", {"vm_info": {"ips": ["10.30.0.2"]},
                               "kubernetes_url": "https://10.30.0.1:6443"})
    fake.end_execution(fake.start_execution("up"))
    fake.add_deployment("failed-up", {"vm_info": {}})
    fake.end_execution(fake.start_execution("failed-up"), status="failed",
                       error="boom: upstream task failed")
    with serving(fake) as port:
        yield {"host": "127.0.0.1", "port": port, "protocol": "http", "token": fake.token,
               "tenant": fake.tenant}


@pytest.fixture
def env(request: pytest.FixtureRequest, fake_manager: dict[str, Any],
        tmp_path: Path) -> Iterator[Env]:
    case: Case = request.node.callspec.params["case"]
    values: Env = {"manager": fake_manager}
    listener = None
    if "other_ca" in case.needs:
        ca = tmp_path / "other-ca.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=not-the-cluster-ca", "-keyout", str(tmp_path / "k"), "-out",
                        str(ca)],
                       check=True, capture_output=True)
        values["other_ca"] = str(ca)
    if "other_known_hosts" in case.needs:  # a well-formed key that is not the local master's
        other = tmp_path / "known_hosts"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(tmp_path / "other")],
                       check=True, capture_output=True)
        key = (tmp_path / "other.pub").read_text().split()[:2]
        other.write_text(f"[127.0.0.1]:2222 {' '.join(key)}\n")
        values["other_known_hosts"] = str(other)
    if "port_taken" in case.needs:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", TAKEN_PORT))
        listener.listen()
    try:
        yield values
    finally:
        if listener:
            listener.close()


def failure_text(deployment: LocalDeployment, capfd: pytest.CaptureFixture[str],
                 attempts: int = 1) -> str:
    """The failed task's error; asserts it was not retried (NonRecoverableError: with task
    retries allowed, a RecoverableError would have started the task again)."""
    capfd.readouterr()
    with pytest.raises(Exception) as error:
        deployment.install()
    out = capfd.readouterr()
    lines = (out.out + out.err).splitlines()
    failed = [line for line in lines if "Task failed '" in line]
    assert failed, f"install did not fail in a task: {error.value}\n{out.out[-3000:]}"
    where = failed[-1].split(" Task failed '")[0].rsplit("[", 1)[1]  # "instance.operation]"
    task = failed[-1].split("Task failed '")[1].split("'")[0]
    starts = [line for line in lines if f"[{where} Task started '{task}'" in line]
    assert len(starts) == attempts, (f"{task} started {len(starts)} times, expected {attempts}\n"
                                     + "\n".join(failed))
    return "\n".join(failed)


def params() -> list[Any]:
    return [pytest.param(c, id=c.id,
                         marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [])
            for c in CASES]


@pytest.mark.parametrize("case", params())
def test_bad_input(case: Case, env: Env, deployment_id: str,
                   capfd: pytest.CaptureFixture[str]) -> None:
    deployment = LocalDeployment(case.blueprint, case.inputs(env), name=deployment_id,
                                 retries=case.retries, retry_interval=1)
    try:
        message = failure_text(deployment, capfd, case.retries + 1 if case.transient else 1)
        for word in case.expected:
            assert word in message, f"{word!r} not in:\n{message}"
    finally:
        deployment.uninstall()  # a failed install must always be uninstallable
    clusters.wait_gone(lambda: clusters.leftovers(deployment_id), timeout=60)


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)
