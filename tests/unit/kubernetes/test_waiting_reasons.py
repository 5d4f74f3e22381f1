"""Every wait says why it is not done yet (issue 25): the reasons of the pods that are not ready
in the kubelet's and scheduler's words, an unreachable registry named as such, and a sandbox
that keeps failing to be made turned into a failure."""
from __future__ import annotations

from typing import Any

from cloudify_kubernetes import readiness


def pod(name: str, *containers: dict[str, Any], phase: str = "Pending",
        scheduled: dict[str, Any] | None = None) -> dict[str, Any]:
    conditions = [scheduled] if scheduled else [{"type": "PodScheduled", "status": "True"}]
    return {"metadata": {"name": name},
            "status": {"phase": phase, "conditions": conditions,
                       "containerStatuses": list(containers)}}


def waiting(name: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"name": name, "ready": False,
            "state": {"waiting": {"reason": reason, "message": message}}}


def test_an_unreachable_registry_is_named_with_its_last_pull_error() -> None:
    pods = [pod("web-1",
                waiting("web", "ImagePullBackOff", 'Back-off pulling image "reg.example/web:1"'))]
    text = readiness.waiting_reasons(pods, lambda _: ["dial tcp: lookup reg.example: no such host"])
    assert text == ('pod web-1: container web ImagePullBackOff: Back-off pulling image '
                    '"reg.example/web:1" (registry unreachable, waited out; last pull error: '
                    'dial tcp: lookup reg.example: no such host)')


def test_scheduling_probes_and_exits_are_named() -> None:
    unscheduled = pod("a", scheduled={"type": "PodScheduled", "status": "False",
                                      "reason": "Unschedulable", "message": "0/1 nodes match"})
    probing = pod("b", {"name": "app", "ready": False, "state": {"running": {}}}, phase="Running")
    exited = pod("c", {"name": "app", "ready": False,
                       "state": {"terminated": {"exitCode": 3, "reason": "Error"}}},
                 phase="Running")
    text = readiness.waiting_reasons([unscheduled, probing, exited])
    assert "pod a: not scheduled: Unschedulable: 0/1 nodes match" in text
    assert "pod b: container app running, not ready (readiness probe)" in text
    assert "pod c: container app exited 3 (Error)" in text


def test_ready_pods_give_no_reason_and_many_are_cut() -> None:
    ready = pod("r", {"name": "app", "ready": True, "state": {"running": {}}}, phase="Running")
    ready["status"]["conditions"].append({"type": "Ready", "status": "True"})
    assert readiness.waiting_reasons([ready]) == ""
    many = [pod(f"p{i}", waiting("app", "ContainerCreating")) for i in range(5)]
    assert readiness.waiting_reasons(many).endswith("; and 2 more pod(s)")


def test_a_sandbox_that_keeps_failing_is_a_failure() -> None:
    creating = pod("s", waiting("app", "ContainerCreating"))
    assert readiness.creating(creating)
    event = {"reason": "FailedCreatePodSandBox", "message": "failed to set up sandbox", "count": 1}
    assert readiness.sandbox_failure([event, {**event}]) is None
    failure = readiness.sandbox_failure([event, {**event, "count": 2}])
    assert failure == ("its sandbox could not be created (3 times, FailedCreatePodSandBox): "
                       "failed to set up sandbox")
