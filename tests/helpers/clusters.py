"""Clients for the real local clusters (scripts/local-clusters up) and the leak check.

`leftovers(deployment_id)` lists everything on either cluster that carries this suite's
ownership labels for that deployment (or for any deployment when it is None): PersistentVolumeClaims
(a StatefulSet's claims carry them, and outlive it) and PersistentVolumes included.
`static_storage` gives a test a StorageClass with static hostPath volumes (the local cluster
has no dynamic provisioner) and removes them, and whatever claims are left in its namespace.
"""
from __future__ import annotations

import functools
import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
    ("v1", "PersistentVolume"),
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


def pod_container(name: str) -> bool:
    """A Kubernetes pod's docker container (k8s_*; dockershim copies the pod's labels onto it):
    not a leftover of ours. Pods are checked at the API (kubernetes_leftovers), and tearing down
    the containers of a pod whose object is gone is its kubelet's work (the sandbox of a pod that
    never started has lingered about 40 s after its object went)."""
    return name.startswith("k8s_")


def docker_leftovers(deployment_id: str | None = None) -> list[str]:
    labels = _selector(deployment_id)
    filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
    client = docker_client()
    try:
        found = [f"service/{s.name}" for s in client.services.list(filters=filters)]
        # the low-level list: one call, no per-container inspect that races a removal (NotFound)
        found += [f"container/{name}"
                  for c in client.api.containers(all=True, filters=filters)
                  if not pod_container(name := c["Names"][0].lstrip("/"))]
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


def remove_leftovers(deployment_id: str | None = None) -> None:
    """Delete everything `leftovers(deployment_id)` lists, so one test's leak is reported once
    and does not also fail every later test that happens to reuse a name."""
    selector = ",".join(f"{k}={v}" for k, v in _selector(deployment_id).items())
    filters = {"label": [f"{k}={v}" for k, v in _selector(deployment_id).items()]}
    client = docker_client()
    try:
        for collection in (client.services, client.containers, client.networks, client.volumes,
                           client.secrets, client.configs):
            listed = collection.list(all=True, filters=filters) if collection is client.containers \
                else collection.list(filters=filters)
            for item in listed:
                if pod_container(getattr(item, "name", "")):
                    continue
                try:
                    item.remove(force=True) if collection is client.containers else item.remove()
                except docker.errors.APIError:
                    pass  # already going (a service's task container) or still in use: next pass
    finally:
        client.close()
    dynamic = kube_dynamic()
    for api_version, kind in K8S_LEAK_KINDS:
        resource = dynamic.resources.get(api_version=api_version, kind=kind)
        for item in resource.get(label_selector=selector).items:
            try:
                resource.delete(name=item.metadata.name, namespace=item.metadata.namespace,
                                body={"propagationPolicy": "Background"})
            except kubernetes.client.exceptions.ApiException as error:
                if error.status != 404:
                    raise


def assert_nothing_left(deployment_id: str | None = None, timeout: float = 90.0,
                        remove: bool = False) -> None:
    """The leak check: fail with what is left after `timeout` (with `remove`, after removing it,
    so the next module starts on clean clusters)."""
    try:
        wait_gone(lambda: leftovers(deployment_id), timeout=timeout)
    except AssertionError:
        if not remove:
            raise
        for _ in range(3):
            remove_leftovers(deployment_id)
            try:
                wait_gone(lambda: leftovers(deployment_id), timeout=60)
                break
            except AssertionError:
                continue
        raise


def wait_gone(check: Any, timeout: float = 120.0) -> None:
    """Poll `check()` (returns a list) until it is empty; fail with what is left."""
    import time
    deadline = time.monotonic() + timeout
    left = check()
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = check()
    assert not left, f"still present after {timeout:g}s: {left}"


HOST_VOLUMES = Path("/tmp/cloudify-vnf-test-volumes")


@contextmanager
def static_storage(namespace: str, volumes: int, size: str = "64Mi",
                   name: str | None = None) -> Iterator[str]:
    """A namespace (not ours: the test's), a StorageClass with no provisioner that binds on
    first use, and `volumes` hostPath PersistentVolumes of it (reclaim policy Retain); yields
    the class's name (`name`, or a random one). Afterwards the namespace (with any claim left
    in it), the volumes, the class and the host directories are removed."""
    name = name or f"vc-{uuid.uuid4().hex[:8]}"
    storage_class = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                     "metadata": {"name": name}, "provisioner": "kubernetes.io/no-provisioner",
                     "volumeBindingMode": "WaitForFirstConsumer", "reclaimPolicy": "Retain"}
    pvs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"{name}-{i}"},
         "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                  "persistentVolumeReclaimPolicy": "Retain", "storageClassName": name,
                  "hostPath": {"path": str(HOST_VOLUMES / f"{name}-{i}"), "type": "DirectoryOrCreate"}}}
        for i in range(volumes)]
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
             storage_class, *pvs]
    try:
        kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                      "items": items}))
        yield name
    finally:
        kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=true",
                "--timeout=120s", check=False)
        if pvs:
            kubectl("delete", "pv", *[pv["metadata"]["name"] for pv in pvs], "--ignore-not-found",
                    "--wait=true", "--timeout=60s", check=False)
        kubectl("delete", "storageclass", name, "--ignore-not-found", check=False)
        for i in range(volumes):
            shutil.rmtree(HOST_VOLUMES / f"{name}-{i}", ignore_errors=True)


def claims(namespace: str) -> dict[str, dict[str, Any]]:
    """The PersistentVolumeClaims in `namespace` by name (live objects)."""
    listed = json.loads(kubectl("get", "pvc", "-n", namespace, "-o", "json").stdout)
    return {item["metadata"]["name"]: item for item in listed["items"]}
