"""An object that existed before install is refused unless adoption is asked for; once adopted
it is updated, and uninstall leaves it in place."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cloudify.exceptions import WorkflowFailed

from tests.helpers.clusters import kubectl
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import LOCAL_API, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
API = LOCAL_API
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]


@pytest.fixture
def existing(deployment_id: str) -> Iterator[str]:
    name = f"pre-{deployment_id}"[:60].lower()
    kubectl("create", "configmap", name, "--from-literal=owner=someone-else")
    yield name
    kubectl("delete", "configmap", name, "--ignore-not-found")


def configmap(name: str) -> dict:
    return json.loads(kubectl("get", "configmap", name, "-o", "json").stdout)


def test_existing_object_is_refused_then_adopted_and_left_alone(
        capsys: pytest.CaptureFixture[str], existing: str, no_leftovers: str) -> None:
    config = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": existing},
               "data": {"owner": "someone-else", "extra": "ours"}},
              {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{existing}-new"},
               "data": {"a": "b"}}]
    refused = LocalDeployment(BLUEPRINT, {"api": API, "config": config}, name=no_leftovers,
                              retries=0)
    with pytest.raises(WorkflowFailed):
        refused.install()
    assert "already exists and was not made by this node instance" in capsys.readouterr().out
    assert "extra" not in configmap(existing)["data"]

    adopted = LocalDeployment(BLUEPRINT, {"api": API, "config": config, "adopt_existing": True},
                              name=no_leftovers, retries=0)
    adopted.install()
    objects = adopted.outputs()["objects"]
    assert [o["preexisting"] for o in objects] == [True, False]
    assert configmap(existing)["data"]["extra"] == "ours"
    adopted.uninstall()
    assert configmap(existing)["data"]["owner"] == "someone-else"  # left in place
    assert kubectl("get", "configmap", f"{existing}-new", check=False).returncode != 0
    # it carries our labels now: remove before the leak check
    kubectl("delete", "configmap", existing)
