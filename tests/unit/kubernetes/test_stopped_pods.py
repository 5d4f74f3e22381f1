"""Pods whose containers the kubelet has stopped are removed at once while a deletion is waited
for (waits.stopped_pod, release_stopped); the rest are left to the kubelet."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from cloudify_kubernetes.backend import ObjectRef, delete_options
from cloudify_kubernetes.waits import release_stopped, stopped_pod
from cloudify_shared.errors import UserError

LOG = logging.getLogger("test")
TERMINATED = {"terminated": {"exitCode": 0}}
RUNNING = {"running": {"startedAt": "2026-12-07T08:00:00Z"}}


def pod(*states: dict[str, Any], deleting: bool = True, claim: bool = False,
        init: dict[str, Any] | None = None, uid: str = "u1") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web-1", "namespace": "default", "uid": uid}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-07T08:00:00Z"
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}"} for i in range(len(states))]}
    if claim:
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data-0"}}]
    status: dict[str, Any] = {"containerStatuses": [
        {"name": f"c{i}", "state": state} for i, state in enumerate(states)]}
    if init is not None:
        status["initContainerStatuses"] = [{"name": "init", "state": init}]
    return {"metadata": meta, "spec": spec, "status": status}


@pytest.mark.parametrize("subject, stopped", [
    (pod(TERMINATED), True),
    (pod(TERMINATED, TERMINATED), True),
    (pod({"waiting": {"reason": "ErrImageNeverPull"}}), True),
    (pod({"waiting": {"reason": "CrashLoopBackOff"}}, TERMINATED), True),
    (pod(TERMINATED, RUNNING), False),                      # one container still runs
    (pod({"waiting": {"reason": "ContainerCreating"}}), False),  # may be about to start
    (pod(TERMINATED, deleting=False), False),                # not being deleted: never ours to cut
    (pod(TERMINATED, claim=True), False),                    # its claim must wait for the kubelet
    (pod(TERMINATED, init=RUNNING), False),
    (pod(TERMINATED, init=TERMINATED), True),
    ({**pod(TERMINATED), "status": {}}, False),              # the kubelet has said nothing yet
])
def test_stopped_pod(subject: dict[str, Any], stopped: bool) -> None:
    assert stopped_pod(subject) is stopped


def test_a_pod_with_a_generic_ephemeral_volume_waits_for_its_kubelet() -> None:
    subject = pod(TERMINATED)
    claim = {"spec": {"accessModes": ["ReadWriteOnce"],
                      "resources": {"requests": {"storage": "1Gi"}}}}
    subject["spec"]["volumes"] = [{"name": "scratch",
                                   "ephemeral": {"volumeClaimTemplate": claim}}]
    assert not stopped_pod(subject)


def test_a_pod_with_fewer_statuses_than_containers_is_not_stopped() -> None:
    subject = pod(TERMINATED)
    subject["spec"]["containers"].append({"name": "late"})
    assert not stopped_pod(subject)


class Recorder:
    def __init__(self, refuse: bool = False) -> None:
        self.deleted: list[tuple[ObjectRef, bool]] = []
        self.refuse = refuse

    def delete(self, ref: ObjectRef, now: bool = False) -> None:
        self.deleted.append((ref, now))
        if self.refuse:
            raise UserError("deleting Pod default/web-1: HTTP 403 forbidden")


def test_released_once_by_uid_with_grace_zero() -> None:
    backend, asked = Recorder(), set[str]()
    pods = [pod(TERMINATED, uid="u1"), pod(RUNNING, uid="u2")]
    release_stopped(backend, pods, asked, LOG)  # type: ignore[arg-type]
    release_stopped(backend, pods, asked, LOG)  # type: ignore[arg-type]
    assert [(ref.name, ref.uid, now) for ref, now in backend.deleted] == [("web-1", "u1", True)]
    options = delete_options(backend.deleted[0][0], now=True)
    assert options["gracePeriodSeconds"] == 0
    assert options["propagationPolicy"] == "Background"
    assert options["preconditions"] == {"uid": "u1"}


def test_a_refused_release_leaves_the_pod_to_its_kubelet() -> None:
    backend = Recorder(refuse=True)
    release_stopped(backend, [pod(TERMINATED)], set(), LOG)  # type: ignore[arg-type]
    assert len(backend.deleted) == 1


def test_an_ordinary_deletion_is_foreground_with_its_grace_period() -> None:
    options = delete_options(ObjectRef("apps/v1", "Deployment", "web", "default", "u9"))
    assert options["propagationPolicy"] == "Foreground"
    assert "gracePeriodSeconds" not in options
