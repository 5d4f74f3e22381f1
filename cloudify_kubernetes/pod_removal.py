"""Hurrying a removal along where the cluster is slow: while a deleted workload's pods are waited
for (waits.wait_gone), do what the garbage collector and the kubelet would do, sooner.

- The garbage collector deletes a workload's dependents with its own API client, rate limited
  (kube-controller-manager's 20 requests/s in 1.20): 50 Deployments deleted at once had their
  ReplicaSets marked for deletion 6.4 s (median) after the request and their pods 15.6 s after
  it. `hurry` marks them itself: a ReplicaSet of the deleted Deployment (foreground), then the
  pods whose controller is being deleted or gone (background: a pod has no dependents). A
  controller never makes new pods once it is being deleted, so nothing is made again; only the
  workload's own dependents are touched, each by its uid.
- The kubelet removes a stopped pod's object at its next status sync; `hurry` removes it as soon
  as its containers have stopped (stopped_pod). Under load that sync has lagged a minute behind
  (50 Deployments deleted at once: pods 52-67 s past their deletion's due time, every container
  reported waiting in ContainerCreating, a container the kubelet had already removed).
A refused deletion (no right to delete pods or ReplicaSets) leaves the work to the cluster: the
removal is slower, never different. Service layer: no ctx.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cloudify_kubernetes.backend import (
    BACKGROUND,
    FOREGROUND,
    NOW,
    ClusterBackend,
    ObjectRef,
    live_object,
    pod_ref,
)
from cloudify_kubernetes.volume_claims import parse_time, pod_claim_names
from cloudify_shared.errors import TransientError, UserError

# A container waiting for one of these has no process and will not get one while its pod is
# being deleted (ContainerCreating and PodInitializing may be about to start one: not here).
NEVER_STARTING = frozenset({"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull",
                            "InvalidImageName", "CrashLoopBackOff", "CreateContainerError",
                            "CreateContainerConfigError", "RunContainerError"})
# How long after a pod's deletion was due (deletionTimestamp) a container still reported waiting
# counts as having no process: room for the kubelet's kill and for the clocks of this host and
# the API server to differ.
DUE_SLACK = 5.0


def stopped_pod(pod: Mapping[str, Any], now: datetime | None = None) -> bool:
    """Whether a pod being deleted has no container process left, as its kubelet reports (every
    container terminated, or waiting for a reason that never starts one; or, `now` more than
    DUE_SLACK after the deletion was due, waiting at all: the kubelet has killed what ran by
    then and starts nothing in a pod being deleted, and 1.20's reports a container it has
    removed as waiting in ContainerCreating), and mounts no claim.
    What is left before its API object goes is the kubelet's clean-up and its next status sync
    (measured 6.5-14 s after the containers stopped, Kubernetes 1.20; up to a minute for a pod
    whose container never started), which a deletion with grace period 0 skips: the kubelet
    tears the sandbox down and cleans up after it all the same. A pod with a claim (or a generic
    ephemeral volume, whose claim the pod owns) waits for the kubelet: the claim may go next,
    and must not while it is mounted."""
    due = (pod.get("metadata") or {}).get("deletionTimestamp")
    if not due or _mounts_a_claim(pod):
        return False
    overdue = now is not None and (seconds_since(due, now) or 0.0) > DUE_SLACK
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    declared = (pod.get("spec") or {}).get("containers") or []
    return (len(containers) >= len(declared) > 0
            and all(_no_process(c, overdue) for c in containers)
            and all(_no_process(c, overdue) for c in status.get("initContainerStatuses") or []))


def seconds_since(timestamp: Any, now: datetime) -> float | None:
    """Seconds from an API timestamp to `now` (negative: still ahead); None if it does not
    read (volume_claims.parse_time)."""
    when = parse_time(timestamp)
    return None if when is None else (now - when).total_seconds()


def _mounts_a_claim(pod: Mapping[str, Any]) -> bool:
    """A persistentVolumeClaim volume, or a generic ephemeral one (its claim is the pod's)."""
    volumes = (pod.get("spec") or {}).get("volumes") or []
    return bool(pod_claim_names(pod)) or any(isinstance(v, dict) and "ephemeral" in v
                                             for v in volumes)


def _no_process(container: Mapping[str, Any], overdue: bool = False) -> bool:
    state = container.get("state") or {}
    waiting = state.get("waiting")
    return "terminated" in state or (isinstance(waiting, dict)
                                     and (overdue or waiting.get("reason") in NEVER_STARTING))


def pod_state(pod: Mapping[str, Any], now: datetime) -> str:
    """What a removal waits for in one pod, for its progress lines: its name, whether and how
    long ago its deletion was due (deletionTimestamp: the request plus the grace period, when
    the kubelet kills what is left), and its containers as the kubelet last reported them."""
    meta = pod.get("metadata") or {}
    due = meta.get("deletionTimestamp")
    late = seconds_since(due, now) if due else None
    if not due:
        when = "not being deleted yet"
    elif late is None:
        when = f"deletion due {due}"
    elif late >= 0:
        when = f"deletion due {late:.0f}s ago"
    else:
        when = f"deletion due in {-late:.0f}s"
    states = [f"{c.get('name')} {_state_name(c)}"
              for c in (pod.get("status") or {}).get("containerStatuses") or []]
    return (f"{meta.get('name')}: {when}, containers "
            f"{', '.join(states) if states else 'not reported'}")


def _state_name(container: Mapping[str, Any]) -> str:
    state = container.get("state") or {}
    waiting = state.get("waiting")
    if isinstance(waiting, dict):
        return f"waiting ({waiting.get('reason') or 'no reason'})"
    return next(iter(state), "unknown")


def controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference that is the object's controller, if any."""
    for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(owner, dict) and owner.get("controller"):
            return owner
    return None


def deleting(obj: Mapping[str, Any] | None) -> bool:
    """Whether the object is gone (None) or being deleted."""
    return obj is None or bool((obj.get("metadata") or {}).get("deletionTimestamp"))


class PodRemoval:
    """The deletions one wait has asked for (each once per object and mode, by uid: a pod this
    wait marked in the background is still released with grace 0 once it has stopped), and how
    to ask them."""

    def __init__(self, backend: ClusterBackend, logger: logging.Logger) -> None:
        self.backend = backend
        self.logger = logger
        self.asked: set[tuple[str, str]] = set()

    def hurry(self, pods: list[dict[str, Any]], owner_uid: str) -> None:
        """Release the stopped pods among `pods`; when `owner_uid` (the workload they belong
        to, being deleted or gone) is given, mark its pods and its ReplicaSets for deletion."""
        now = datetime.now(UTC)
        for pod in pods:
            if stopped_pod(pod, now):
                self._delete(pod_ref(pod), NOW, "its containers have stopped")
            elif owner_uid and not deleting(pod):
                self._mark(pod, owner_uid)

    def _mark(self, pod: Mapping[str, Any], owner_uid: str) -> None:
        controller = controller_of(pod)
        if controller is None:
            return
        if controller.get("uid") == owner_uid:
            self._delete(pod_ref(pod), BACKGROUND, "its controller is being deleted")
            return
        if controller.get("kind") != "ReplicaSet":
            return
        namespace = (pod.get("metadata") or {}).get("namespace")
        rs_ref = ObjectRef("apps/v1", "ReplicaSet", str(controller.get("name")), namespace,
                           str(controller.get("uid") or ""))
        try:
            replica_set = live_object(self.backend, rs_ref)
        except (UserError, TransientError) as refused:
            self.logger.debug("%s: left to the garbage collector (%s)", rs_ref, refused)
            return
        if replica_set is None or deleting(replica_set):
            # gone (another of its name does not count) or being deleted: makes no more pods
            self._delete(pod_ref(pod), BACKGROUND, "its ReplicaSet is being deleted")
        elif (controller_of(replica_set) or {}).get("uid") == owner_uid:
            self._delete(rs_ref, FOREGROUND, "its Deployment is being deleted")

    def _delete(self, ref: ObjectRef, mode: str, why: str) -> None:
        if not ref.uid or (ref.uid, mode) in self.asked:
            return
        self.asked.add((ref.uid, mode))
        self.logger.debug("%s: %s; deleting it now", ref, why)
        try:
            self.backend.delete(ref, mode)
        except (UserError, TransientError) as refused:
            self.logger.debug("%s: left to the cluster (%s)", ref, refused)
