"""Install->converged and uninstall->gone for a 2-replica busybox Swarm service: this plugin
(LocalDeployment of tests/blueprints/swarm-day2) next to `docker service create --detach=false`
and `docker service rm` (+ waiting until the containers are gone), interleaved, on this machine.

    .venv/bin/python -m benchmarks.swarm_compare [RUNS]   (or python -m benchmarks --only swarm)

Prints every run and the medians; asserts nothing (speed is measured, never asserted).
"""
from __future__ import annotations

import logging
import subprocess
import sys
import time
import uuid

from benchmarks.common import (
    Figure,
    cleanup_on_failure,
    install_then_uninstall,
    render_table,
    retried,
)
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
    deployment = LocalDeployment(BLUEPRINT, {"replicas": 2, "stability_seconds": stability},
                                 name=name)
    # uninstall returns once the service and its containers are gone
    installed, removed = install_then_uninstall(deployment)
    assert not docker_leftovers(name), docker_leftovers(name)
    return installed, removed


def cli_run() -> tuple[float, float]:
    name = f"bench-cli-{uuid.uuid4().hex[:6]}"
    start = time.monotonic()
    with cleanup_on_failure(lambda: subprocess.run(["docker", "service", "rm", name], check=False,
                                                   capture_output=True)):
        subprocess.run(["docker", "service", "create", "--detach=false", "--quiet", "--name", name,
                        "--replicas", "2", "--stop-grace-period", "5s", "local/busybox:1",
                        *COMMAND],
                       check=True, capture_output=True)
    installed = time.monotonic() - start
    start = time.monotonic()
    subprocess.run(["docker", "service", "rm", name], check=True, capture_output=True)
    wait_until(lambda: not containers_of(name))
    removed = time.monotonic() - start
    return installed, removed


def measure(runs: int = 5, stability: float = 1.5) -> list[Figure]:
    """Figure 2: install->converged and uninstall->gone, ours and the docker CLI interleaved."""
    logging.disable(logging.INFO)
    install = Figure("swarm install->converged, 2-replica service", "s", group="swarm",
                     raw_label="docker service create --detach=false", target="<= 0.6x",
                     note=f"ours: whole install workflow, stability window {stability:g} s")
    uninstall = Figure("swarm uninstall->gone (containers included)", "s", group="swarm",
                       raw_label="docker service rm + containers gone")
    for index in range(runs):
        order = (plugin_run, cli_run) if index % 2 == 0 else (cli_run, plugin_run)
        for action in order:
            side = "ours" if action is plugin_run else "raw"
            up, down = retried((lambda: plugin_run(stability)) if side == "ours" else cli_run,
                               f"swarm {side}")
            getattr(install, side).append(up)
            getattr(uninstall, side).append(down)
        print(f"  swarm run {index + 1}/{runs}: ours "
              f"{install.ours[-1]:.2f}/{uninstall.ours[-1]:.2f}  "
              f"docker CLI {install.raw[-1]:.2f}/{uninstall.raw[-1]:.2f}", flush=True)
    return [install, uninstall]


if __name__ == "__main__":
    print(render_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
