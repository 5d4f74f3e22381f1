"""Day-2 operations on the real local Swarm: scale and update round trips, and a failed update
that the engine pauses or rolls back, reported with the reason."""
from __future__ import annotations

import urllib.request

import pytest

from tests.helpers.clusters import docker_leftovers
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import TEST_BLUEPRINTS
from tests.integration.swarm.helpers import container_env, our_containers, task_failure

BLUEPRINT = TEST_BLUEPRINTS / "swarm-day2" / "blueprint.yaml"
SCALE = "cloudify.interfaces.swarm.scale"
UPDATE = "cloudify.interfaces.swarm.update"
pytestmark = pytest.mark.usefixtures("swarm")


def running(deployment: LocalDeployment) -> list[dict]:
    tasks = deployment.runtime_properties("app")["service"]["tasks"]
    assert all(t["state"] == "running" for t in tasks)
    return tasks


def test_scale_round_trip(no_leftovers: str) -> None:
    deployment = LocalDeployment(BLUEPRINT, name=no_leftovers)
    deployment.install()
    try:
        assert len(running(deployment)) == 2 and len(our_containers(no_leftovers)) == 2
        deployment.operation("app", SCALE, replicas=3)
        assert len(running(deployment)) == 3 and len(our_containers(no_leftovers)) == 3
        deployment.operation("app", SCALE, replicas=1)
        # the wait covered the stopping tasks: exactly one container is left running
        assert len(running(deployment)) == 1 and len(our_containers(no_leftovers)) == 1
    finally:
        deployment.uninstall()
    assert not docker_leftovers(no_leftovers)


def test_scale_rejects_bad_replicas(no_leftovers: str, capfd: pytest.CaptureFixture[str]) -> None:
    deployment = LocalDeployment(BLUEPRINT, {"replicas": 1}, name=no_leftovers, retries=0)
    deployment.install()
    try:
        message = task_failure(lambda: deployment.operation("app", SCALE, replicas=-1), capfd)
        assert ("node 'app'" in message
                and "inputs.replicas: expected a non-negative integer" in message)
    finally:
        deployment.uninstall()


def test_update_env_and_ports_round_trip(no_leftovers: str) -> None:
    deployment = LocalDeployment(BLUEPRINT, {"replicas": 1}, name=no_leftovers)
    deployment.install()
    try:
        (before,) = running(deployment)
        deployment.operation("app", UPDATE, env={"GREETING": "updated"},
                             ports=[{"target": 8080, "published": 18099, "mode": "host"}])
        facts = deployment.runtime_properties("app")["service"]
        (after,) = running(deployment)
        assert after["id"] != before["id"]
        assert container_env(after["container_id"])["GREETING"] == "updated"
        assert facts["published_ports"] == [{"target": 8080, "published": 18099,
                                             "protocol": "tcp", "mode": "host"}]
        with urllib.request.urlopen("http://127.0.0.1:18099/", timeout=5) as response:
            assert response.read().decode().strip() == "updated"
        # and back: no ports, the old greeting
        deployment.operation("app", UPDATE, env={"GREETING": "hello"}, ports=[])
        (back,) = running(deployment)
        assert container_env(back["container_id"])["GREETING"] == "hello"
        assert deployment.runtime_properties("app")["service"]["published_ports"] == []
    finally:
        deployment.uninstall()
    assert not docker_leftovers(no_leftovers)


@pytest.mark.parametrize("failure_action", ["pause", "rollback"])
def test_failed_update_is_reported(failure_action: str, no_leftovers: str,
                                   capfd: pytest.CaptureFixture[str]) -> None:
    deployment = LocalDeployment(BLUEPRINT, {"replicas": 1, "failure_action": failure_action},
                                 name=no_leftovers, retries=0)
    deployment.install()
    try:
        (before,) = running(deployment)
        message = task_failure(
            lambda: deployment.operation("app", UPDATE, image="local/does-not-exist:1"), capfd)
        assert "node 'app'" in message and "No such image: local/does-not-exist:1" in message
        if failure_action == "rollback":
            assert "update rollback completed" in message
            # the engine put the old spec back and it runs
            (task,) = [c for c in our_containers(no_leftovers)]
            assert "local/busybox:1" in task["Image"]
        else:  # the first failed task ends the wait; the engine pauses the update
            assert "rejected" in message
        assert before["id"]
    finally:
        deployment.uninstall()
    assert not docker_leftovers(no_leftovers)


def test_global_mode_runs_one_task_per_node_and_cannot_scale(
    no_leftovers: str, capfd: pytest.CaptureFixture[str],
) -> None:
    deployment = LocalDeployment(BLUEPRINT, {"mode": "global", "replicas": 1}, name=no_leftovers,
                                 retries=0)
    deployment.install()
    try:
        assert len(running(deployment)) == 1  # one node in this swarm
        message = task_failure(lambda: deployment.operation("app", SCALE, replicas=2), capfd)
        assert "runs in global mode and cannot be scaled" in message
    finally:
        deployment.uninstall()
