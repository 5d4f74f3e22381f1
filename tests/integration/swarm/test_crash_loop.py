"""A crash-looping task is caught although install waits only a short stability window (1.5 s,
where `docker service create --detach=false` watches for 5 s): the container starts, runs for a
moment, exits non-zero, and the install fails on that exit instead of reporting success or waiting
for its timeout (issue 7's Swarm target: faster than the CLI and still catching this)."""
from __future__ import annotations

import pytest
from cloudify.exceptions import WorkflowFailed

from tests.helpers.clusters import docker_leftovers
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import TEST_BLUEPRINTS

SERVICE = TEST_BLUEPRINTS / "swarm-service" / "blueprint.yaml"
pytestmark = pytest.mark.usefixtures("swarm")


def test_task_exiting_after_a_second_fails_the_install(no_leftovers: str,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    deployment = LocalDeployment(SERVICE, {"command": ["sleep 1; exit 3"], "published_port": 18095},
                                 name=no_leftovers, retries=0)
    capfd.readouterr()
    with pytest.raises(WorkflowFailed):
        deployment.install()
    failures = [line for line in capfd.readouterr().out.splitlines() if "Task failed '" in line]
    assert failures, "no task failure was logged"
    message = "\n".join(failures)
    assert "node 'web_container'" in message
    assert "non-zero exit (3)" in message, message
    assert not docker_leftovers(no_leftovers)
    deployment.uninstall()
