"""Install->converged and uninstall->gone for a 2-replica busybox Swarm service: this plugin
(LocalDeployment of tests/blueprints/swarm-day2) next to `docker service create --detach=false`
and `docker service rm` (+ waiting until the containers are gone), interleaved, on this machine.

    .venv/bin/python -m benchmarks.swarm_compare [RUNS]

Prints every run and the medians; asserts nothing (speed is measured, never asserted).
"""
from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import time
import uuid

from tests.helpers.clusters import docker_client, docker_leftovers
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "swarm-day2" / "blueprint.yaml"
COMMAND = ["/bin/sh", "-c", "trap 'exit 0' TERM; mkdir -p /www; echo hi > /www/index.html; "
           "httpd -f -p 8080 -h /www & wait"]


def wait_until(check: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("gave up waiting")
        time.sleep(0.05)


def containers_of(service: str) -> list[object]:
    client = docker_client()
    try:
        return list(client.api.containers(all=True, filters={
            "label": [f"com.docker.swarm.service.name={service}"]}))
    finally:
        client.close()


def plugin_run(stability: float) -> tuple[float, float]:
    name = f"bench-{uuid.uuid4().hex[:6]}"
    deployment = LocalDeployment(BLUEPRINT, {"replicas": 2, "stability_seconds": stability}, name=name)
    start = time.monotonic()
    deployment.install()
    installed = time.monotonic() - start
    start = time.monotonic()
    deployment.uninstall()  # returns once the service and its containers are gone
    removed = time.monotonic() - start
    assert not docker_leftovers(name), docker_leftovers(name)
    return installed, removed


def cli_run() -> tuple[float, float]:
    name = f"bench-cli-{uuid.uuid4().hex[:6]}"
    start = time.monotonic()
    subprocess.run(["docker", "service", "create", "--detach=false", "--quiet", "--name", name,
                    "--replicas", "2", "--stop-grace-period", "5s", "local/busybox:1", *COMMAND],
                   check=True, capture_output=True)
    installed = time.monotonic() - start
    start = time.monotonic()
    subprocess.run(["docker", "service", "rm", name], check=True, capture_output=True)
    wait_until(lambda: not containers_of(name))
    removed = time.monotonic() - start
    return installed, removed


def main(runs: int = 5, stability: float = 1.5) -> None:
    logging.disable(logging.INFO)
    plugin: list[tuple[float, float]] = []
    cli: list[tuple[float, float]] = []
    for index in range(runs):
        plugin.append(plugin_run(stability))
        cli.append(cli_run())
        print(f"run {index + 1}: plugin install {plugin[-1][0]:.2f}s uninstall {plugin[-1][1]:.2f}s | "
              f"docker CLI create {cli[-1][0]:.2f}s rm {cli[-1][1]:.2f}s", flush=True)
    med = [statistics.median(x[i] for x in series) for series in (plugin, cli) for i in (0, 1)]
    print(f"median over {runs} runs (stability window {stability:g}s):")
    print(f"  install->converged: plugin {med[0]:.2f}s  docker service create --detach=false {med[2]:.2f}s"
          f"  ratio {med[0] / med[2]:.2f}")
    print(f"  uninstall->gone:    plugin {med[1]:.2f}s  docker service rm + containers gone {med[3]:.2f}s"
          f"  ratio {med[1] / med[3]:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
