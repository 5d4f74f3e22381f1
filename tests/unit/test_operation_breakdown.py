"""benchmarks.operation_breakdown reads per-operation times out of a manager execution's events."""
from __future__ import annotations

from benchmarks.operation_breakdown import operation_times

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
    import yaml

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
