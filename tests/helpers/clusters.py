"""Clients for the real local clusters (scripts/local-clusters up) and the leak check.

`leftovers(deployment_id)` lists everything on either cluster that carries this suite's
ownership labels for that deployment (or for any deployment when it is None).
"""
from __future__ import annotations

import functools
import subprocess
from typing import Any

import docker
import kubernetes
from kubernetes.dynamic import DynamicClient

from cloudify_shared.ownership import DEPLOYMENT, MANAGED_BY, MANAGED_BY_VALUE, label_value
from tests.helpers.paths import DOCKER_HOST, KUBECONFIG, KUBECTL

# Kinds the leak check lists on Kubernetes (namespaced and cluster-wide).
K8S_LEAK_KINDS = [
    ("v1", "Pod"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "Secret"),
    ("v1", "ReplicationController"), ("v1", "Namespace"), ("v1", "PersistentVolumeClaim"),
    ("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("apps/v1", "DaemonSet"),
    ("apps/v1", "StatefulSet"), ("batch/v1", "Job"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
]


def docker_client() -> docker.DockerClient:
    return docker.DockerClient(base_url=DOCKER_HOST, version="auto")


@functools.lru_cache(maxsize=1)
def kube_api_client() -> kubernetes.client.ApiClient:
    return kubernetes.config.new_client_from_config(config_file=str(KUBECONFIG))


def kube_dynamic() -> DynamicClient:
    return DynamicClient(kube_api_client())


def kubectl(*args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KUBECTL), "--kubeconfig", str(KUBECONFIG), *args], input=input,
                          capture_output=True, text=True, check=check, timeout=300)


def _selector(deployment_id: str | None) -> dict[str, str]:
    labels = {MANAGED_BY: MANAGED_BY_VALUE}
    if deployment_id is not None:
        labels[DEPLOYMENT] = label_value(deployment_id)
    return labels


def docker_leftovers(deployment_id: str | None = None) -> list[str]:
    labels = _selector(deployment_id)
    filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
    client = docker_client()
    try:
        found = [f"service/{s.name}" for s in client.services.list(filters=filters)]
        found += [f"container/{c.name}" for c in client.containers.list(all=True, filters=filters)]
        found += [f"network/{n.name}" for n in client.networks.list(filters=filters)]
        found += [f"volume/{v.name}" for v in client.volumes.list(filters=filters)]
        found += [f"secret/{s.name}" for s in client.secrets.list(filters=filters)]
        found += [f"config/{c.name}" for c in client.configs.list(filters=filters)]
        return found
    finally:
        client.close()


def kubernetes_leftovers(deployment_id: str | None = None) -> list[str]:
    selector = ",".join(f"{k}={v}" for k, v in _selector(deployment_id).items())
    dynamic = kube_dynamic()
    found = []
    for api_version, kind in K8S_LEAK_KINDS:
        resource = dynamic.resources.get(api_version=api_version, kind=kind)
        for item in resource.get(label_selector=selector).items:
            namespace = item.metadata.namespace
            found.append(f"{kind}/{namespace + '/' if namespace else ''}{item.metadata.name}")
    return found


def leftovers(deployment_id: str | None = None) -> list[str]:
    return docker_leftovers(deployment_id) + kubernetes_leftovers(deployment_id)


def swarm_up() -> bool:
    try:
        client = docker_client()
        try:
            return bool(client.info().get("Swarm", {}).get("LocalNodeState") == "active")
        finally:
            client.close()
    except Exception:
        return False


def kubernetes_up() -> bool:
    try:
        nodes = kubernetes.client.CoreV1Api(kube_api_client()).list_node().items
    except Exception:
        return False
    return any(c.type == "Ready" and c.status == "True"
               for n in nodes for c in (n.status.conditions or []))


def wait_gone(check: Any, timeout: float = 120.0) -> None:
    """Poll `check()` (returns a list) until it is empty; fail with what is left."""
    import time
    deadline = time.monotonic() + timeout
    left = check()
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = check()
    assert not left, f"still present after {timeout:g}s: {left}"
