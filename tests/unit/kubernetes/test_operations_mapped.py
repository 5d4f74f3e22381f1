"""Issue 28: on a manager every mapped operation is a process of its own, so the Kubernetes types
map only operations that do work. The Master's delete (it made nothing) and the Microservice's
create (start renders and checks the same before it opens a client) are not mapped; their
functions stay for plans parsed with an earlier plugin.yaml."""
from __future__ import annotations

import yaml

from cloudify_kubernetes import tasks
from tests.helpers.paths import ROOT

LIFECYCLE = "cloudify.interfaces.lifecycle"


def lifecycle(node_type: str) -> list[str]:
    plugin = yaml.safe_load((ROOT / "plugin_1_5.yaml").read_text())
    return list(plugin["node_types"][node_type]["interfaces"][LIFECYCLE])


def test_the_master_maps_create_only() -> None:
    assert lifecycle("cloudify.kubernetes.Master") == ["create"]


def test_the_microservice_maps_no_create() -> None:
    assert lifecycle("cloudify.kubernetes.Microservice")[:3] == ["start", "stop", "delete"]
    assert "create" not in lifecycle("cloudify.kubernetes.Microservice")


def test_the_unmapped_functions_stay_for_older_plans() -> None:
    assert callable(tasks.master_delete) and callable(tasks.microservice_create)
