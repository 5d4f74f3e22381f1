"""Waiting on a cluster: until objects are ready (readiness verdicts + failing pods, with evidence
in the error) or gone (objects and their pods). Polls with a short capped backoff; between two
polls of a readiness wait the backend watches the first object still waiting, so its turning ready
is seen at once (a backend that cannot watch sleeps: seen within half a second). Logs progress.
Service layer: no ctx.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudify_kubernetes import readiness
from cloudify_kubernetes.backend import (
    ClusterBackend,
    ObjectRef,
    UnknownKind,
    live_object,
    pod_ref,
)
from cloudify_kubernetes.manifests import pod_templates
from cloudify_kubernetes.pod_removal import PodRemoval, deleting, pod_state
from cloudify_kubernetes.volume_claims import CLAIM, claim_verdict, pod_claim_names
from cloudify_shared.errors import TransientError, WaitTimeout
from cloudify_shared.ownership import NODE_INSTANCE
from cloudify_shared.waiting import Backoff, Verdict, wait_until

FAST = Backoff(first=0.05, factor=1.5, cap=0.5)
LOG_LINES = 20
EVENT_LINES = 8
POD_STATES_SHOWN = 2  # of the pods a removal waits for, described in its progress lines


@dataclass(frozen=True)
class PodSet:
    """The pods of one workload: its namespace and label selector. Only the object's own pods:
    when its pod template carries the ownership label cloudify.co/node-instance, so does the
    selector (a workload applied before selectors were narrowed, or another instance's pods
    with the same app labels, are never counted); templates without it (adopted objects) keep
    the object's selector."""

    namespace: str | None
    selector: str
    owner_uid: str = field(default="", compare=False)  # the workload's (pod_removal.hurry)

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> PodSet | None:
        labels = readiness.pod_selector(obj)
        if not labels:
            return None
        owner = instance_label(obj)
        if owner is not None:
            labels[NODE_INSTANCE] = owner
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        meta = obj.get("metadata") or {}
        return cls(meta.get("namespace"), selector, str(meta.get("uid") or ""))


def instance_label(obj: Mapping[str, Any]) -> str | None:
    """The cloudify.co/node-instance label of the object's pod template, if it has one."""
    for template in pod_templates(dict(obj)):
        value = ((template.get("metadata") or {}).get("labels") or {}).get(NODE_INSTANCE)
        if value is not None:
            return str(value)
    return None


def describe_events(events: list[dict[str, Any]]) -> list[str]:
    def key(event: dict[str, Any]) -> str:
        return str(event.get("lastTimestamp") or event.get("eventTime") or "")
    return [f"{e.get('type')} {e.get('reason')}: {e.get('message')}"
            for e in sorted(events, key=key)[-EVENT_LINES:]]


def evidence(backend: ClusterBackend, ref: ObjectRef, pod: Mapping[str, Any] | None) -> str:
    """Events of the object (and the failing pod) and the pod's last log lines, as text."""
    lines = [f"events of {ref}:"] + describe_events(backend.events(ref))
    if pod is not None:
        ref_of_pod = pod_ref(pod)
        lines += [f"events of {ref_of_pod}:"] + describe_events(backend.events(ref_of_pod))
        for claim in pod_claim_names(pod):  # why a claim does not bind (ProvisioningFailed)
            claim_ref = ObjectRef(*CLAIM, claim, ref_of_pod.namespace)
            lines += [f"events of {claim_ref}:"] + describe_events(backend.events(claim_ref))
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            text = backend.logs(str(ref_of_pod.namespace), ref_of_pod.name, status.get("name"),
                                LOG_LINES)
            if text.strip():
                lines += [f"last log lines of container {status.get('name')}:", text.rstrip()]
    return "\n  ".join(lines)


def pull_messages(backend: ClusterBackend, pod: Mapping[str, Any]) -> list[str]:
    """The messages of a pod's image pull failure events, oldest first."""
    ref = pod_ref(pod)
    events = sorted(backend.events(ref), key=lambda e: str(e.get("lastTimestamp") or
                                                           e.get("eventTime") or ""))
    return [str(e.get("message")) for e in events
            if e.get("reason") == "Failed" and "pull" in str(e.get("message") or "").lower()]


def object_verdict(backend: ClusterBackend, ref: ObjectRef, load_balancer: bool,
                   judge_pods: bool = True) -> Verdict:
    return live_verdict(backend, ref, backend.get(ref), load_balancer, judge_pods)


def live_verdict(backend: ClusterBackend, ref: ObjectRef, live: Mapping[str, Any] | None,
                 load_balancer: bool, judge_pods: bool = True) -> Verdict:
    """The verdict on the object `ref` as just read (`live`), its pods judged too."""
    if live is None:
        return Verdict.waiting("not found (yet)")
    verdict = readiness.verdict(live, load_balancer)
    if verdict.is_failed:
        return Verdict.failed(f"{ref}: {verdict.message}\n  {evidence(backend, ref, None)}")
    pods = PodSet.of(live)
    if verdict.is_done or pods is None or not judge_pods:
        return verdict
    found = backend.list_objects("v1", "Pod", pods.namespace, pods.selector)
    failing = (readiness.failing_pod(found, lambda pod: pull_messages(backend, pod),
                                     lambda pod: claim_verdict(backend, pod))
               or sandbox_failing(backend, found))
    if failing:
        pod, reason = failing
        name = (pod.get("metadata") or {}).get("name")
        return Verdict.failed(f"{ref}: pod {name}: {reason}\n  {evidence(backend, ref, pod)}")
    why = readiness.waiting_reasons(found, lambda pod: pull_messages(backend, pod))
    return Verdict.waiting(f"{verdict.message} ({why})") if why else verdict


def sandbox_failing(backend: ClusterBackend, pods: list[dict[str, Any]]
                    ) -> tuple[dict[str, Any], str] | None:
    """A pod whose sandbox keeps failing to be made (its events are read only for pods still
    being created)."""
    for pod in pods:
        if readiness.creating(pod):
            ref = pod_ref(pod)
            reason = readiness.sandbox_failure(backend.events(ref))
            if reason:
                return pod, reason
    return None


def wait_ready(backend: ClusterBackend, refs: list[ObjectRef], timeout: float,
               logger: logging.Logger, load_balancer: bool = False,
               judge_pods: bool = True) -> None:
    """Until every object passes its verdict. A failing pod ends the wait at once, unless
    `judge_pods` is False (after a rollback the failed pods linger until their controller
    removes them: only the objects' own verdicts count then)."""
    pending = list(refs)
    watched: tuple[ObjectRef, str] | None = None  # the first object still waiting, as last read

    def check() -> Verdict:
        nonlocal pending, watched
        still, messages = [], []
        watched = None
        for ref in pending:
            live = backend.get(ref)
            verdict = live_verdict(backend, ref, live, load_balancer, judge_pods)
            if verdict.is_failed:
                return verdict
            if not verdict.is_done:
                still.append(ref)
                messages.append(f"{ref}: {verdict.message}")
                version = ((live or {}).get("metadata") or {}).get("resourceVersion")
                if version and watched is None:
                    watched = (ref, str(version))
        pending = still
        if still:
            return Verdict.waiting("; ".join(messages))
        return Verdict.done(f"{len(refs)} object(s) ready")

    def pause(delay: float) -> None:
        """Until the next poll, cut short when the first waiting object changes (its status
        turning ready wakes the wait at once; pods are still judged at each poll)."""
        if watched is not None:
            backend.watch(*watched, delay)
        else:
            time.sleep(delay)

    what = f"{len(refs)} object(s) to be ready" if len(refs) > 1 else f"{refs[0]} to be ready"
    wait_until(check, what, timeout, logger, backoff=FAST, sleep=pause)


def exists(backend: ClusterBackend, ref: ObjectRef) -> bool:
    """Whether the object is there. Only an unknown kind (its CRD is gone) means gone; any other
    error (401/403 included) propagates: it says nothing about the object."""
    try:
        return backend.get(ref) is not None
    except UnknownKind:
        return False


def still_there(backend: ClusterBackend, ref: ObjectRef) -> bool:
    """Whether the object `ref` names is there: with a uid, that object (another one made
    under its name since does not count)."""
    return live_object(backend, ref) is not None


def wait_gone(backend: ClusterBackend, refs: list[ObjectRef], pod_sets: list[PodSet],
              timeout: float, logger: logging.Logger) -> None:
    removal = PodRemoval(backend, logger)

    def check() -> Verdict:
        left, going = [], set()
        for ref in refs:
            live = live_object(backend, ref)
            if deleting(live):
                going.add(ref.uid)
            if live is not None:
                left.append(str(ref))
        pods = []
        for pod_set in pod_sets:
            found = backend.list_objects("v1", "Pod", pod_set.namespace, pod_set.selector)
            if found:
                removal.hurry(found, pod_set.owner_uid if pod_set.owner_uid in going else "")
                now = datetime.now(UTC)
                shown = "; ".join(pod_state(pod, now) for pod in found[:POD_STATES_SHOWN])
                pods.append(f"{len(found)} pod(s) {pod_set.selector} ({shown})")
        if left or pods:
            return Verdict.waiting("still there: " + ", ".join(left + pods))
        return Verdict.done("all gone")

    if not refs:
        return
    try:
        wait_until(check, f"{len(refs)} object(s) to be gone", timeout, logger, backoff=FAST)
    except WaitTimeout as slow:
        # The deletion was asked and goes on at the cluster's pace (a kubelet can take a minute
        # to let go of a pod that never started): worth retrying, unlike a workload's failure.
        raise TransientError(f"{slow}; the deletion goes on, a retry waits again") from slow


def problem(backend: ClusterBackend, ref: ObjectRef, load_balancer: bool = False) -> str | None:
    """Why the object is not healthy right now ('missing', the failure, or what it waits for),
    or None when it passes its readiness verdict."""
    if not exists(backend, ref):
        return "missing"
    verdict = object_verdict(backend, ref, load_balancer)
    if verdict.is_done:
        return None
    first = verdict.message.split("\n")[0].removeprefix(f"{ref}: ")
    return first if verdict.is_failed else f"not ready: {first}"
