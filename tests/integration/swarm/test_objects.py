"""Networks, secrets and configs a Microservice creates are removed with it; pre-existing ones
are used and left alone; secret contents never reach runtime properties or logs."""
from __future__ import annotations

import pytest

from tests.helpers.clusters import docker_client, docker_leftovers
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "swarm-objects" / "blueprint.yaml"
pytestmark = pytest.mark.usefixtures("swarm")
SECRET = "swarm-secret-value-7f3a9"


def test_created_objects_go_pre_existing_stay(no_leftovers: str,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    prefix = f"obj{no_leftovers[-6:]}"
    client = docker_client()
    existing = client.networks.create(f"{prefix}-pre", driver="overlay", attachable=True)
    try:
        deployment = LocalDeployment(BLUEPRINT,
                                     {"prefix": prefix, "existing_network": existing.name,
                                                 "secret_value": SECRET}, name=no_leftovers)
        deployment.install()
        try:
            (task,) = deployment.outputs()["service"]["tasks"]
            container = client.containers.get(task["container_id"])
            assert container.exec_run(["cat", "/run/secrets/token"]).output.decode() == SECRET
            assert container.exec_run(["cat", "/etc/app.conf"]).output.decode() == "listen 8080\n"
            assert any(a.startswith("10.") for a in task["addresses"])  # overlay addresses
            attached = set(container.attrs["NetworkSettings"]["Networks"])
            assert {f"{prefix}-net", existing.name} <= attached
            listed = docker_leftovers(no_leftovers)
            assert {f"network/{prefix}-net", f"secret/{prefix}-secret",
                    f"config/{prefix}-config"} <= set(listed)
            assert SECRET not in str(deployment.runtime_properties("app"))
        finally:
            deployment.uninstall()
        assert not docker_leftovers(no_leftovers)
        existing.reload()  # still there: not ours
        assert SECRET not in capfd.readouterr().out
    finally:
        existing.remove()
        client.close()
