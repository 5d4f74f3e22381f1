"""Issue 28: the Swarm Manager maps only create (its delete made nothing: the swarm is its
maker's); the function stays for plans parsed with an earlier plugin.yaml."""
from __future__ import annotations

import yaml

from cloudify_swarm import tasks
from tests.helpers.paths import ROOT


def test_the_manager_maps_create_only() -> None:
    plugin = yaml.safe_load((ROOT / "plugin_1_5.yaml").read_text())
    interfaces = plugin["node_types"]["cloudify.swarm.Manager"]["interfaces"]
    assert list(interfaces["cloudify.interfaces.lifecycle"]) == ["create"]
    assert callable(tasks.manager_delete)


def test_contained_in_microservice_maps_no_source_operation() -> None:
    """Issue 28: the Container's create, start and delete claim, publish and release (see
    test_container_claims); container_claim, container_publish and container_release stay for
    plans parsed with an earlier plugin.yaml."""
    plugin = yaml.safe_load((ROOT / "plugin_1_5.yaml").read_text())
    relationship = plugin["relationships"]["cloudify.swarm.relationships.contained_in_microservice"]
    assert relationship == {"derived_from": "cloudify.relationships.contained_in"}
    assert all(callable(f) for f in (tasks.container_claim, tasks.container_publish,
                                     tasks.container_release))
