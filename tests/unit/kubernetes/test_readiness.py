"""Readiness verdicts per kind from canned API payloads: done, waiting and failed are separate."""
from __future__ import annotations

import pytest

from cloudify_kubernetes.readiness import failing_pod, pod_selector, verdict


def deployment(generation: int = 2, observed: int = 2, want: int = 2, **status: int) -> dict:
    return {"kind": "Deployment", "metadata": {"generation": generation},
            "spec": {"replicas": want, "selector": {"matchLabels": {"app": "w"}}},
            "status": {"observedGeneration": observed, **status}}


@pytest.mark.parametrize("obj, state, text", [
    (deployment(observed=1), "waiting", "not observed generation 2"),
    (deployment(updatedReplicas=1, replicas=2, availableReplicas=2), "waiting",
     "1 of 2 replicas updated"),
    (deployment(updatedReplicas=2, replicas=3, availableReplicas=2), "waiting", "1 old replicas"),
    (deployment(updatedReplicas=2, replicas=2, availableReplicas=1), "waiting", "1 of 2 updated"),
    (deployment(updatedReplicas=2, replicas=2, availableReplicas=2), "done", "2/2"),
    (deployment(want=0), "done", "0/0"),
])
def test_deployment(obj: dict, state: str, text: str) -> None:
    result = verdict(obj)
    assert result.state == state and text in result.message


def test_deployment_past_its_progress_deadline_failed() -> None:
    obj = deployment(updatedReplicas=1)
    obj["status"]["conditions"] = [{"type": "Progressing", "status": "False",
                                    "reason": "ProgressDeadlineExceeded", "message": "too slow"}]
    assert verdict(obj).is_failed


def test_replication_controller_and_daemon_set_and_stateful_set() -> None:
    rc = {"kind": "ReplicationController", "metadata": {"generation": 1},
          "spec": {"replicas": 1, "selector": {"app": "r"}},
          "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 0}}
    assert verdict(rc).state == "waiting"
    rc["status"]["readyReplicas"] = 1
    assert verdict(rc).is_done and pod_selector(rc) == {"app": "r"}
    ds = {"kind": "DaemonSet", "status": {"desiredNumberScheduled": 1, "updatedNumberScheduled": 1,
                                          "numberAvailable": 0}}
    assert verdict(ds).state == "waiting"
    ss = {"kind": "StatefulSet", "spec": {"replicas": 1},
          "status": {"readyReplicas": 1, "currentRevision": "a", "updateRevision": "b"}}
    assert verdict(ss).state == "waiting"
    ss["status"]["currentRevision"] = "b"
    assert verdict(ss).is_done


@pytest.mark.parametrize("conditions, state", [
    ([{"type": "Complete", "status": "True"}], "done"),
    ([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}], "failed"),
    ([], "waiting"),
])
def test_job(conditions: list, state: str) -> None:
    assert verdict({"kind": "Job", "status": {"conditions": conditions}}).state == state


def pod(waiting_reason: str | None = None, **status: object) -> dict:
    containers = [{"name": "c", "state": {"waiting": {"reason": waiting_reason, "message": "m"}}
                   if waiting_reason else {"running": {}}}]
    return {"kind": "Pod", "metadata": {"name": "p"},
            "status": {"containerStatuses": containers, **status}}


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "ErrImageNeverPull", "CrashLoopBackOff",
                                    "CreateContainerConfigError"])
def test_pods_that_will_not_recover_fail(reason: str) -> None:
    found = failing_pod([pod(), pod(reason)])
    assert found and reason in found[1]
    assert verdict(pod(reason)).is_failed


def test_unschedulable_pod_fails_and_starting_pods_wait() -> None:
    unschedulable = pod(conditions=[{"type": "PodScheduled", "status": "False",
                                     "reason": "Unschedulable", "message": "0/1 nodes match"}])
    assert failing_pod([unschedulable])[1] == "unschedulable: 0/1 nodes match"
    assert failing_pod([pod("ContainerCreating")]) is None
    assert verdict(pod("ContainerCreating", phase="Pending")).state == "waiting"
    ready = pod(phase="Running", conditions=[{"type": "Ready", "status": "True"}])
    assert verdict(ready).is_done


def test_services_namespaces_crds_and_others() -> None:
    lb = {"kind": "Service", "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.5"},
          "status": {}}
    assert verdict(lb).is_done
    assert verdict(lb, wait_for_load_balancer=True).state == "waiting"
    assert verdict({"kind": "Namespace", "status": {"phase": "Terminating"}}).state == "waiting"
    crd = {"kind": "CustomResourceDefinition", "status": {"conditions": [
        {"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "True"}]}}
    assert verdict(crd).is_done
    assert verdict({"kind": "ConfigMap"}).is_done
    assert verdict({"kind": "Widget"}).is_done


def pulling(reason: str, message: str = "") -> dict:
    return {"metadata": {"name": "p"}, "status": {"containerStatuses": [
        {"name": "c", "state": {"waiting": {"reason": reason, "message": message}}}]}}


@pytest.mark.parametrize("reason, message, events, fails", [
    ("ErrImageNeverPull", "image not present with pull policy of Never", [], True),
    ("InvalidImageName", "bad", [], True),
    ("ErrImagePull", "manifest for reg/x:1 not found: manifest unknown", [], True),
    ("ErrImagePull", "pull access denied for x, repository does not exist", [], True),
    ("ErrImagePull", "unauthorized: authentication required", [], True),
    ("ErrImagePull",
     "Get https://reg:5000/v2/: dial tcp 10.0.0.1:5000: connect: connection refused",
     [], False),
    ("ErrImagePull", "net/http: TLS handshake timeout", [], False),
    ("ImagePullBackOff", "Back-off pulling image", ["Failed to pull image: dial tcp: i/o timeout"],
     False),
    ("ImagePullBackOff", "Back-off pulling image", ["Failed to pull image: dial tcp: i/o timeout",
                                                    "Failed to pull image: manifest unknown"],
     True),
    ("ImagePullBackOff", "Back-off pulling image", [], True),  # nothing explains it: give up
    ("ErrImagePull", "something new", [], True),
])
def test_image_pull_failures_end_the_wait_unless_the_registry_is_unreachable(
        reason: str, message: str, events: list, fails: bool) -> None:
    found = failing_pod([pulling(reason, message)], lambda pod: events)
    assert (found is not None) == fails
    if found and events:
        assert events[-1] in found[1]


def test_a_terminating_pod_is_not_a_failure() -> None:
    item = pulling("CrashLoopBackOff")
    item["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert failing_pod([item]) is None
