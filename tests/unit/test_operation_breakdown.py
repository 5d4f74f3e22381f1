"""benchmarks.operation_breakdown reads per-operation times out of a manager execution's events."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from benchmarks.operation_breakdown import operation_times
from benchmarks.scale_blueprints import NOOP_IMPLEMENTATION, noop_swarm_blueprint, swarm_blueprint

ROOT = Path(__file__).resolve().parents[2]

OP = "cloudify.interfaces.lifecycle.start"


def event(kind: str, second: float, instance: str = "svc0_abc", node: str = "svc0",
          operation: str = OP) -> dict[str, object]:
    return {"event_type": kind, "reported_timestamp": f"2026-12-06T20:00:{second:06.3f}Z",
            "node_instance_id": instance, "node_name": node, "operation": operation}


def test_run_and_queue_times_per_node_kind_and_operation() -> None:
    events = [event("sending_task", 1.0), event("task_started", 1.5), event("task_succeeded", 4.0),
              event("sending_task", 1.0, "svc1_x", "svc1"),
              event("task_started", 2.0, "svc1_x", "svc1"),
              event("task_succeeded", 3.0, "svc1_x", "svc1"),
              event("workflow_started", 0.5, "", "", "")]
    found = operation_times(events)
    assert list(found) == ["svc lifecycle.start"]
    assert sorted(found["svc lifecycle.start"]["run"]) == [1.0, 2.5]
    assert sorted(found["svc lifecycle.start"]["queued"]) == [0.5, 1.0]


def test_a_failed_attempt_is_not_counted_and_the_retry_is() -> None:
    events = [event("sending_task", 1.0), event("task_started", 1.5), event("task_failed", 2.0),
              event("sending_task", 3.0), event("task_started", 3.5), event("task_succeeded", 4.0)]
    assert operation_times(events)["svc lifecycle.start"]["run"] == [0.5]


def test_the_floor_maps_exactly_what_the_plugin_yaml_maps_each_to_the_empty_operation() -> None:
    """The floor of issue 28: the k8s scale graph, each operation the given plugin yaml maps for
    the Master, the Microservice and connected_to_master an empty one, and nothing else."""
    from benchmarks.scale_blueprints import NOOP_IMPLEMENTATION, noop_kubernetes_blueprint
    plugin = {"node_types": {
        "cloudify.kubernetes.Master": {"interfaces": {"cloudify.interfaces.lifecycle": {
            "create": {"implementation": "x.master_create"}}}},
        "cloudify.kubernetes.Microservice": {"interfaces": {"cloudify.interfaces.lifecycle": {
            "start": {"implementation": "x.start", "inputs": {"env": {"default": None}}},
            "delete": "x.delete"}}}},
        "relationships": {"cloudify.kubernetes.relationships.connected_to_master": {
            "derived_from": "cloudify.relationships.connected_to",
            "source_interfaces": {"cloudify.interfaces.relationship_lifecycle": {
                "preconfigure": "x.connect"}}}}}
    floor = yaml.safe_load(noop_kubernetes_blueprint(3, plugin))
    assert floor["node_types"]["floor.Master"]["interfaces"] == {
        "cloudify.interfaces.lifecycle": {"create": NOOP_IMPLEMENTATION}}
    assert floor["node_types"]["floor.Microservice"]["interfaces"] == {
        "cloudify.interfaces.lifecycle": {"start": NOOP_IMPLEMENTATION,
                                          "delete": NOOP_IMPLEMENTATION}}
    assert floor["relationships"]["floor.connected_to_master"]["source_interfaces"] == {
        "cloudify.interfaces.relationship_lifecycle": {"preconfigure": NOOP_IMPLEMENTATION}}
    assert sorted(floor["node_templates"]) == ["master", "svc0", "svc1", "svc2"]
    assert floor["node_templates"]["svc2"]["relationships"] == [
        {"type": "floor.connected_to_master", "target": "master"}]
    assert "plugin:cloudify-noop-bench?version=0.2.0" in floor["imports"]
    assert "plugin:cloudify-vnf-suite" not in floor["imports"]


def implementations(interfaces: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(interface, operation) -> implementation, of the operations that map one."""
    found = {}
    for interface, operations in interfaces.items():
        for operation, spec in operations.items():
            implementation = spec.get("implementation") if isinstance(spec, dict) else spec
            if implementation:
                found[(interface, operation)] = implementation
    return found


def test_the_swarm_floor_has_the_swarm_graph_and_maps_what_plugin_1_5_maps_to_the_noop() -> None:
    """The Swarm floor of issue 28 from the repository's plugin_1_5.yaml: the node names, the
    relationship targets and Cloudify's own relationship of swarm_blueprint, the plugin's types
    and relationship replaced by floor ones mapping the same operations, each to the empty one."""
    plugin = yaml.safe_load((ROOT / "plugin_1_5.yaml").read_text())
    floor = yaml.safe_load(noop_swarm_blueprint(3, plugin))
    real = yaml.safe_load(swarm_blueprint(3))["node_templates"]
    renamed = {"cloudify.swarm.Manager": "floor.Manager",
               "cloudify.swarm.Microservice": "floor.Microservice",
               "cloudify.swarm.Container": "floor.Container",
               "cloudify.swarm.relationships.contained_in_microservice":
                   "floor.contained_in_microservice"}
    assert list(floor["node_templates"]) == list(real) == [
        "swarm", "svc0", "svc0_container", "svc1", "svc1_container", "svc2", "svc2_container"]
    for name, template in real.items():
        assert floor["node_templates"][name] == {
            "type": renamed[template["type"]], **({"relationships": [
                {"type": renamed.get(link["type"], link["type"]), "target": link["target"]}
                for link in template["relationships"]]} if "relationships" in template else {})}
    for kind in ("cloudify.swarm.Manager", "cloudify.swarm.Microservice",
                 "cloudify.swarm.Container"):
        mapped = implementations(plugin["node_types"][kind]["interfaces"])
        floor_type = floor["node_types"][renamed[kind]]
        assert mapped and floor_type["derived_from"] == "cloudify.nodes.Root"
        assert implementations(floor_type["interfaces"]) == dict.fromkeys(mapped,
                                                                          NOOP_IMPLEMENTATION)
    relationship = plugin["relationships"]["cloudify.swarm.relationships.contained_in_microservice"]
    floor_relationship = floor["relationships"]["floor.contained_in_microservice"]
    assert floor_relationship["derived_from"] == relationship["derived_from"]
    for side in ("source_interfaces", "target_interfaces"):
        assert implementations(floor_relationship.get(side, {})) == dict.fromkeys(
            implementations(relationship.get(side, {})), NOOP_IMPLEMENTATION)
    assert "plugin:cloudify-noop-bench?version=0.2.0" in floor["imports"]
    assert "plugin:cloudify-vnf-suite" not in floor["imports"]


def test_the_swarm_floor_maps_both_sides_of_the_relationship_and_skips_what_maps_nothing() -> None:
    lifecycle = "cloudify.interfaces.lifecycle"
    plugin = {"node_types": {
        "cloudify.swarm.Manager": {"interfaces": {lifecycle: {"create": "x.manager_create"}}},
        "cloudify.swarm.Microservice": {"interfaces": {lifecycle: {
            "create": {"implementation": "x.create", "inputs": {"env": {"default": {}}}},
            "configure": {"implementation": ""}}}},
        "cloudify.swarm.Container": {}},
        "relationships": {"cloudify.swarm.relationships.contained_in_microservice": {
            "derived_from": "cloudify.relationships.contained_in",
            "source_interfaces": {"cloudify.interfaces.relationship_lifecycle": {
                "establish": "x.claim"}},
            "target_interfaces": {"cloudify.interfaces.relationship_lifecycle": {
                "unlink": "x.release"}}}}}
    floor = yaml.safe_load(noop_swarm_blueprint(1, plugin))
    assert floor["node_types"]["floor.Microservice"]["interfaces"] == {
        lifecycle: {"create": NOOP_IMPLEMENTATION}}
    assert floor["node_types"]["floor.Container"]["interfaces"] == {}
    assert floor["relationships"] == {"floor.contained_in_microservice": {
        "derived_from": "cloudify.relationships.contained_in",
        "source_interfaces": {"cloudify.interfaces.relationship_lifecycle": {
            "establish": NOOP_IMPLEMENTATION}},
        "target_interfaces": {"cloudify.interfaces.relationship_lifecycle": {
            "unlink": NOOP_IMPLEMENTATION}}}}
