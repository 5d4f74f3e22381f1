"""A compose stack installed by the real manager's mgmtworker (issue 14): the blueprint's
compose_variables and the .env beside the compose file are used, the manager's own environment
never is (the file's ${HOME:-...} takes its default there, where offline it takes the operation's
HOME); keys Swarm ignores are logged in the events; uninstall leaves nothing."""
from __future__ import annotations

import pytest

from examples.manager import ManagerCfy
from tests.helpers.clusters import docker_client
from tests.helpers.paths import TEST_BLUEPRINTS

pytestmark = pytest.mark.usefixtures("swarm")
BLUEPRINT = TEST_BLUEPRINTS / "swarm-stack-compose" / "blueprint.yaml"


def test_compose_stack_takes_no_variable_from_the_manager(on_manager: ManagerCfy,
                                                          manager_deployment: str) -> None:
    stack = f"cm{manager_deployment[-6:]}"
    on_manager.install(BLUEPRINT, manager_deployment,
                       {"stack_name": stack, "greeting": "from-input"})
    client = docker_client()
    try:
        spec = client.api.inspect_service(f"{stack}_app")["Spec"]
    finally:
        client.close()
    assert spec["TaskTemplate"]["ContainerSpec"]["Env"] == [
        "ESCAPED=$NOT_A_VARIABLE", "FROM_ENV_FILE=yes", "FROM_OPERATION=unset",
        "GREETING=from-input",
        "WORKER_HOME=not-from-the-environment"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == "local/busybox:1"  # TAG from the .env
    install = [e for e in on_manager.executions(manager_deployment) if e.workflow_id
               == "install"][-1]
    events = on_manager.events(install.id)
    assert ("services.app: ignoring what Swarm does not use: build, container_name, depends_on, "
            "expose" in events)
    on_manager.uninstall(manager_deployment)
