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
              event("sending_task", 1.0, "svc1_x", "svc1"), event("task_started", 2.0, "svc1_x", "svc1"),
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
