"""A trivial blueprint of this plugin.yaml installs and uninstalls through both runners,
against the real local Swarm."""
from __future__ import annotations

import pytest

from tests.helpers.cfy_cli import CfyCli
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "swarm-manager" / "blueprint.yaml"
pytestmark = pytest.mark.usefixtures("swarm")


def test_python_runner_installs_and_uninstalls() -> None:
    deployment = LocalDeployment(BLUEPRINT)
    deployment.install()
    info = deployment.outputs()["swarm_info"]
    assert info["swarm_id"] and info["managers"] == ["127.0.0.1:2377"]
    assert "JoinTokens" not in str(info)
    deployment.uninstall()
    assert [i.state for i in deployment.instances("swarm")] == ["deleted"]
    # the Manager's delete is not mapped (b0a33a4): swarm_info, which holds no key material,
    # stays on the uninstalled instance until a reinstall's create writes it again
    assert deployment.runtime_properties("swarm").get("swarm_info", info) == info


def test_cfy_cli_installs_and_uninstalls(cfy: CfyCli, deployment_id: str) -> None:
    cfy.install(BLUEPRINT, deployment_id, {"docker_host": "unix:///var/run/docker.sock"}).check()
    info = cfy.outputs(deployment_id)["swarm_info"]
    assert info["endpoint"]["docker_host"] == "unix:///var/run/docker.sock"
    assert info["managers"] == ["127.0.0.1:2377"]
    assert [i["state"] for i in cfy.node_instances(deployment_id)] == ["started"]
    cfy.uninstall(deployment_id).check()
    # the local profile forgets an uninstalled deployment entirely
    assert not (cfy.profile_dir / "deployments" / deployment_id).exists()


def test_cfy_cli_reports_bad_input_with_node_and_field(cfy: CfyCli, deployment_id: str) -> None:
    result = cfy.install(BLUEPRINT, deployment_id, {"docker_host": "http://127.0.0.1:2375"})
    assert result.returncode != 0
    assert "node 'swarm'" in result.output
    assert "properties.endpoint.docker_host" in result.output
