"""Small helpers shared by the Swarm integration tests."""
from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from cloudify.exceptions import WorkflowFailed

from cloudify_shared.ownership import DEPLOYMENT, MANAGED_BY, MANAGED_BY_VALUE, label_value
from tests.helpers.clusters import docker_client


def task_failure(action: Callable[[], Any], capfd: pytest.CaptureFixture[str]) -> str:
    """Run a workflow that must fail; return the failed tasks' messages (the workflow error
    itself only names the task)."""
    capfd.readouterr()
    with pytest.raises(WorkflowFailed):
        action()
    lines = [line for line in capfd.readouterr().out.splitlines() if "Task failed '" in line]
    assert lines, "no task failure was logged"
    return "\n".join(lines)


def our_containers(deployment_id: str) -> list[dict[str, Any]]:
    """Running containers with this deployment's labels."""
    client = docker_client()
    try:
        labels = [f"{MANAGED_BY}={MANAGED_BY_VALUE}", f"{DEPLOYMENT}={label_value(deployment_id)}"]
        return list(client.api.containers(filters={"label": labels}))
    finally:
        client.close()


def container_env(container_id: str) -> dict[str, str]:
    client = docker_client()
    try:
        env = client.containers.get(container_id).attrs["Config"]["Env"]
    finally:
        client.close()
    return dict(item.split("=", 1) for item in env)


def http_get(port: int) -> str:
    """The body a service published on `port` of this host answers with."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return str(response.read().decode())
