"""While a deletion is waited for (pod_removal): pods whose containers the kubelet has stopped are
removed at once (stopped_pod), and a deleted workload's ReplicaSets and pods are marked for
deletion without waiting for the garbage collector (PodRemoval.hurry)."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cloudify_kubernetes.backend import BACKGROUND, FOREGROUND, NOW, ObjectRef, delete_options
from cloudify_kubernetes.pod_removal import PodRemoval, pod_state, stopped_pod
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
    """Records deletions; `objects` answers get() by (kind, name)."""

    def __init__(self, refuse: bool = False, objects: dict[tuple[str, str], Any] | None = None
                 ) -> None:
        self.deleted: list[tuple[ObjectRef, str]] = []
        self.refuse = refuse
        self.objects = objects or {}

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        found = self.objects.get((ref.kind, ref.name))
        return dict(found) if found is not None else None

    def delete(self, ref: ObjectRef, mode: str = FOREGROUND) -> None:
        self.deleted.append((ref, mode))
        if self.refuse:
            raise UserError(f"deleting {ref}: HTTP 403 forbidden")


def removal(backend: Recorder) -> PodRemoval:
    return PodRemoval(backend, LOG)  # type: ignore[arg-type]


def owned(subject: dict[str, Any], kind: str, name: str, uid: str) -> dict[str, Any]:
    subject["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid, "controller": True}]
    return subject


def replica_set(owner_uid: str, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web-5d4", "namespace": "default", "uid": "rs1"}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-07T08:00:00Z"
    return owned({"metadata": meta}, "Deployment", "web", owner_uid)


def test_released_once_by_uid_with_grace_zero() -> None:
    backend = Recorder()
    pods = [pod(TERMINATED, uid="u1"), pod(RUNNING, uid="u2")]
    hurry = removal(backend)
    hurry.hurry(pods, "")
    hurry.hurry(pods, "")
    assert [(ref.name, ref.uid, mode) for ref, mode in backend.deleted] == [("web-1", "u1", NOW)]
    options = delete_options(backend.deleted[0][0], NOW)
    assert options["gracePeriodSeconds"] == 0
    assert options["propagationPolicy"] == "Background"
    assert options["preconditions"] == {"uid": "u1"}


def test_a_pod_marked_in_the_background_is_released_once_it_has_stopped() -> None:
    """The wait marks a running pod of the deleted workload; when the kubelet reports it
    stopped, the same wait still deletes it with grace 0 (it was once asked only once per uid,
    so a pod the wait had marked itself stayed until the kubelet's own status sync)."""
    backend = Recorder()
    hurry = removal(backend)
    running = owned(pod(RUNNING, deleting=False, uid="p1"), "StatefulSet", "db", "w1")
    hurry.hurry([running], "w1")
    stopped = owned(pod(TERMINATED, uid="p1"), "StatefulSet", "db", "w1")
    hurry.hurry([stopped], "w1")
    hurry.hurry([stopped], "w1")
    assert [(ref.uid, mode) for ref, mode in backend.deleted] == [("p1", BACKGROUND),
                                                                  ("p1", NOW)]


def test_a_refused_deletion_leaves_the_pod_to_the_cluster() -> None:
    backend = Recorder(refuse=True)
    removal(backend).hurry([pod(TERMINATED)], "")
    assert len(backend.deleted) == 1


def test_the_pods_of_a_deleted_workload_are_marked_in_the_background() -> None:
    backend = Recorder()
    running = owned(pod(RUNNING, deleting=False, uid="p1"), "StatefulSet", "db", "w1")
    removal(backend).hurry([running], "w1")
    assert [(ref.kind, ref.uid, mode) for ref, mode in backend.deleted] == [
        ("Pod", "p1", BACKGROUND)]


def test_without_a_deleted_owner_no_running_pod_is_touched() -> None:
    backend = Recorder()
    running = owned(pod(RUNNING, deleting=False, uid="p1"), "StatefulSet", "db", "w1")
    removal(backend).hurry([running], "")                 # its workload is not being deleted
    removal(backend).hurry([running], "another-uid")      # not this workload's pod
    unowned = pod(RUNNING, deleting=False, uid="p2")
    removal(backend).hurry([unowned], "w1")               # no controller at all
    assert backend.deleted == []


def test_a_deployments_replica_set_is_marked_first_then_its_pods() -> None:
    running = owned(pod(RUNNING, deleting=False, uid="p1"), "ReplicaSet", "web-5d4", "rs1")
    backend = Recorder(objects={("ReplicaSet", "web-5d4"): replica_set("d1")})
    hurry = removal(backend)
    hurry.hurry([running], "d1")
    assert [(ref.kind, ref.uid, mode) for ref, mode in backend.deleted] == [
        ("ReplicaSet", "rs1", FOREGROUND)]
    backend.objects[("ReplicaSet", "web-5d4")] = replica_set("d1", deleting=True)
    hurry.hurry([running], "d1")
    assert [(ref.kind, ref.uid, mode) for ref, mode in backend.deleted][1:] == [
        ("Pod", "p1", BACKGROUND)]


def test_a_replica_set_of_another_owner_is_left_alone() -> None:
    running = owned(pod(RUNNING, deleting=False, uid="p1"), "ReplicaSet", "web-5d4", "rs1")
    backend = Recorder(objects={("ReplicaSet", "web-5d4"): replica_set("someone-else")})
    removal(backend).hurry([running], "d1")
    assert backend.deleted == []


def test_a_gone_replica_set_lets_its_pods_be_marked() -> None:
    running = owned(pod(RUNNING, deleting=False, uid="p1"), "ReplicaSet", "web-5d4", "rs1")
    backend = Recorder()  # helm uninstall deletes in the background: the ReplicaSet is gone
    removal(backend).hurry([running], "d1")
    assert [(ref.kind, mode) for ref, mode in backend.deleted] == [("Pod", BACKGROUND)]


def test_an_ordinary_deletion_is_foreground_with_its_grace_period() -> None:
    options = delete_options(ObjectRef("apps/v1", "Deployment", "web", "default", "u9"))
    assert options["propagationPolicy"] == "Foreground"
    assert "gracePeriodSeconds" not in options


def test_a_pod_waited_for_says_when_its_deletion_was_due_and_what_its_containers_do() -> None:
    now = datetime(2026, 12, 7, 8, 0, 35, tzinfo=UTC)
    assert pod_state(pod(RUNNING, {"waiting": {"reason": "CrashLoopBackOff"}}), now) == (
        "web-1: deletion due 35s ago, containers c0 running, c1 waiting (CrashLoopBackOff)")
    assert pod_state(pod(TERMINATED, deleting=False), now) == (
        "web-1: not being deleted yet, containers c0 terminated")
    assert pod_state({**pod(deleting=True), "status": {}}, datetime(2026, 12, 7, 7, 59, 58,
                                                                     tzinfo=UTC)) == (
        "web-1: deletion due in 2s, containers not reported")


CREATING = {"waiting": {"reason": "ContainerCreating"}}
DUE = datetime(2026, 12, 7, 8, 0, 0, tzinfo=UTC)  # the pods' deletionTimestamp


@pytest.mark.parametrize("seconds_after_due, stopped", [(-10, False), (3, False), (6, True)])
def test_a_container_still_waiting_well_after_the_deletion_was_due_has_no_process(
        seconds_after_due: int, stopped: bool) -> None:
    now = DUE + timedelta(seconds=seconds_after_due)
    assert stopped_pod(pod(CREATING), now) is stopped
    assert stopped_pod(pod(CREATING, TERMINATED), now) is stopped
    assert not stopped_pod(pod(RUNNING), now)               # a process the kubelet still reports
    assert not stopped_pod(pod(CREATING, claim=True), now)  # its claim waits for the kubelet
    assert not stopped_pod(pod(CREATING, deleting=False), now)
    assert not stopped_pod(pod(CREATING))                    # without a clock: never overdue


def test_an_overdue_pod_is_released_by_the_wait() -> None:
    backend = Recorder()
    removal(backend).hurry([pod(CREATING, uid="late")], "")  # its deletion was due hours ago
    assert [(ref.uid, mode) for ref, mode in backend.deleted] == [("late", NOW)]
