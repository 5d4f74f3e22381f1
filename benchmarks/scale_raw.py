"""The raw tools at scale, the baseline of figure 6's largest size: the same N microservices
(same descriptors, image and command as benchmarks/scale_blueprints.py) made and removed
without Cloudify.

- Kubernetes: one `kubectl apply` of all N Deployments, `kubectl wait --for=condition=available`
  on all of them; `kubectl delete --cascade=foreground --wait` on all, then until the pods are gone.
- Swarm: `docker service create --detach=false` per service, THREADS at a time (the concurrency
  `cfy` gets in the scale runs); one `docker service rm` of all, then until the containers are gone.
"""
from __future__ import annotations

import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import yaml

from benchmarks.common import cleanup_on_failure
from benchmarks.scale_blueprints import COMMAND, IMAGE, deployment
from tests.helpers.clusters import docker_client, kubectl

THREADS = 10


def wait_until_empty(listing: object, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while listing():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("gave up waiting for the raw tool's objects to go")
        time.sleep(0.1)


def kubectl_scale(count: int) -> tuple[float, float]:
    run = f"bench-raw-{uuid.uuid4().hex[:4]}"
    docs = []
    for index in range(count):
        doc = deployment(f"{run}-{index}")
        doc["metadata"]["labels"] = {"bench-run": run}
        docs.append(doc)
    selector = f"bench-run={run}"
    start = time.monotonic()
    with cleanup_on_failure(lambda: kubectl("delete", "deployment", "-l", selector, check=False)):
        kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs))
        kubectl("wait", "--for=condition=available", "deployment", "-l", selector, "--timeout=600s")
    installed = time.monotonic() - start
    start = time.monotonic()
    kubectl("delete", "deployment", "-l", selector, "--cascade=foreground", "--wait=true")
    wait_until_empty(lambda: [line for line in kubectl("get", "pods", "-o", "name").stdout.split()
                              if line.startswith(f"pod/{run}-")])
    return installed, time.monotonic() - start


def docker_scale(count: int) -> tuple[float, float]:
    names = [f"bench-raw-{uuid.uuid4().hex[:4]}-{index}" for index in range(count)]

    def create(name: str) -> None:
        subprocess.run(["docker", "service", "create", "--detach=false", "--quiet", "--name", name,
                        "--replicas", "1", "--stop-grace-period", "5s", IMAGE, *COMMAND],
                       check=True, capture_output=True)

    def remove() -> None:
        subprocess.run(["docker", "service", "rm", *names], check=False, capture_output=True)

    start = time.monotonic()
    with cleanup_on_failure(remove), ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(create, names))
    installed = time.monotonic() - start
    start = time.monotonic()
    remove()
    wait_until_empty(lambda: containers_of(names))
    return installed, time.monotonic() - start


def containers_of(names: list[str]) -> list[object]:
    client = docker_client()
    try:
        return [c for c in client.api.containers(all=True, filters={"label": "com.docker.swarm.service.name"})
                if c["Labels"].get("com.docker.swarm.service.name") in names]
    finally:
        client.close()
