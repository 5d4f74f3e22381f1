"""The raw tools at scale, the baseline of figure 6's largest size: the same N microservices
(same descriptors, image and command as benchmarks/scale_blueprints.py) made and removed
without Cloudify.

- Kubernetes: one `kubectl apply` of all N Deployments, `kubectl wait --for=condition=available`
  on all of them; `kubectl delete --cascade=foreground --wait` on all, then until the pods are gone.
- Kubernetes at the manager's concurrency (KubectlEach): per Deployment its own `kubectl apply`
  and `kubectl rollout status`, THREADS at a time (default 4, the manager's mgmtworker operation
  workers); per Deployment its own `kubectl delete --cascade=foreground --wait`, THREADS at a
  time, then until the pods are gone.
- Swarm: `docker service create --detach=false` per service, THREADS at a time (the concurrency
  `cfy` gets in the scale runs; the manager's figures use its mgmtworker's operation workers);
  one `docker service rm` of all, then until the containers are gone.
- Mixed: both at once (two threads), half the microservices each, as the mixed blueprint has
  them; each phase ends when both tools are done.
"""
from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import yaml

from benchmarks.common import busy_cpu_seconds, cleanup_on_failure
from benchmarks.scale_blueprints import COMMAND, IMAGE, deployment, mixed_split
from tests.helpers.clusters import docker_client, kubectl

THREADS = 10
MANAGER_WORKERS = 4  # the manager's mgmtworker runs this many operations at once


def wait_until_empty(listing: object, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while listing():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("gave up waiting for the raw tool's objects to go")
        time.sleep(0.1)


class KubectlRun:
    """N Deployments applied with one kubectl apply and removed with one kubectl delete."""

    def __init__(self, count: int) -> None:
        self.run = f"bench-raw-{uuid.uuid4().hex[:4]}"
        self.count = count
        self.selector = f"bench-run={self.run}"
        self.names = [f"{self.run}-{index}" for index in range(count)]

    def descriptor(self, name: str) -> dict[str, Any]:
        doc = deployment(name)
        doc["metadata"]["labels"] = {"bench-run": self.run}
        return doc

    def remove_all(self) -> None:
        kubectl("delete", "deployment", "-l", self.selector, check=False)

    def up(self) -> None:
        with cleanup_on_failure(self.remove_all):
            kubectl("apply", "-f", "-",
                    input=yaml.safe_dump_all([self.descriptor(name) for name in self.names]))
            kubectl("wait", "--for=condition=available", "deployment", "-l", self.selector,
                    "--timeout=600s")

    def down(self) -> None:
        kubectl("delete", "deployment", "-l", self.selector, "--cascade=foreground", "--wait=true")
        self.wait_for_pods()

    def wait_for_pods(self) -> None:
        wait_until_empty(lambda: [line
                                  for line in kubectl("get", "pods", "-o", "name").stdout.split()
                                  if line.startswith(f"pod/{self.run}-")])


class KubectlEach(KubectlRun):
    """The same N Deployments, each applied with its own kubectl apply and waited for with its
    own kubectl rollout status, and removed with its own kubectl delete, `threads` at a time:
    what one operation per Deployment costs at the manager's concurrency."""

    def __init__(self, count: int, threads: int = MANAGER_WORKERS) -> None:
        super().__init__(count)
        self.threads = threads

    def create(self, name: str) -> None:
        kubectl("apply", "-f", "-", input=yaml.safe_dump(self.descriptor(name)))
        kubectl("rollout", "status", f"deployment/{name}", "--timeout=600s")

    def delete(self, name: str) -> None:
        kubectl("delete", "deployment", name, "--cascade=foreground", "--wait=true")

    def up(self) -> None:
        with cleanup_on_failure(self.remove_all), ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(self.create, self.names))

    def down(self) -> None:
        with cleanup_on_failure(self.remove_all), ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(self.delete, self.names))
        self.wait_for_pods()


class DockerRun:
    """N services made with `docker service create`, `threads` CLI processes at a time."""

    def __init__(self, count: int, threads: int = THREADS) -> None:
        self.names = [f"bench-raw-{uuid.uuid4().hex[:4]}-{index}" for index in range(count)]
        self.threads = threads

    def create(self, name: str) -> None:
        subprocess.run(["docker", "service", "create", "--detach=false", "--quiet", "--name", name,
                        "--replicas", "1", "--stop-grace-period", "5s", IMAGE, *COMMAND],
                       check=True, capture_output=True)

    def remove(self) -> None:
        if self.names:
            subprocess.run(["docker", "service", "rm", *self.names], check=False,
                           capture_output=True)

    def up(self) -> None:
        with cleanup_on_failure(self.remove), ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(self.create, self.names))

    def down(self) -> None:
        self.remove()
        wait_until_empty(lambda: containers_of(self.names))


def up_and_down(*runs: KubectlRun | DockerRun, cpu: list[float] | None = None
                ) -> tuple[float, float]:
    """Make everything (the runs at the same time), then remove it: the two wall times (and
    appended to `cpu`, the machine's busy CPU seconds of each, common.busy_cpu_seconds)."""
    def all_at_once(phase: Callable[[KubectlRun | DockerRun], None]) -> float:
        start, busy = time.monotonic(), busy_cpu_seconds()
        with ThreadPoolExecutor(len(runs)) as pool:
            for future in [pool.submit(phase, run) for run in runs]:
                future.result()
        if cpu is not None:
            cpu.append(busy_cpu_seconds() - busy)
        return time.monotonic() - start

    def remove_all() -> None:
        for run in runs:
            try:
                run.down()
            except Exception as error:
                print(f"  cleanup after a failure failed too: {error}", flush=True)

    with cleanup_on_failure(remove_all):
        installed = all_at_once(lambda run: run.up())
    return installed, all_at_once(lambda run: run.down())


def kubectl_scale(count: int, threads: int = THREADS,
                  cpu: list[float] | None = None) -> tuple[float, float]:
    """(`threads` is not used: one kubectl apply makes them all.)"""
    return up_and_down(KubectlRun(count), cpu=cpu)


def kubectl_each_scale(count: int, threads: int = MANAGER_WORKERS,
                       cpu: list[float] | None = None) -> tuple[float, float]:
    return up_and_down(KubectlEach(count, threads), cpu=cpu)


def docker_scale(count: int, threads: int = THREADS,
                 cpu: list[float] | None = None) -> tuple[float, float]:
    return up_and_down(DockerRun(count, threads), cpu=cpu)


def mixed_scale(count: int, threads: int = THREADS) -> tuple[float, float]:
    """kubectl for the first half, the docker CLI for the rest, at the same time."""
    kube, swarm = mixed_split(count)
    return up_and_down(*([KubectlRun(kube)] if kube else []), DockerRun(swarm, threads))


def containers_of(names: list[str]) -> list[object]:
    client = docker_client()
    try:
        return [c for c in client.api.containers(all=True,
                                                 filters={"label": "com.docker.swarm.service.name"})
                if c["Labels"].get("com.docker.swarm.service.name") in names]
    finally:
        client.close()
