"""Waiting on a cluster: until objects are ready (readiness verdicts + failing pods, with evidence
in the error) or gone (objects and their pods). Polls with a short capped backoff so readiness is
seen within half a second of the API showing it; logs progress. Service layer: no ctx.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloudify_kubernetes import readiness
from cloudify_kubernetes.backend import ClusterBackend, ObjectRef
from cloudify_shared.errors import UserError
from cloudify_shared.waiting import Backoff, Verdict, wait_until

FAST = Backoff(first=0.05, factor=1.5, cap=0.5)
LOG_LINES = 20
EVENT_LINES = 8


@dataclass(frozen=True)
class PodSet:
    """The pods of one workload: its namespace and label selector."""

    namespace: str | None
    selector: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> PodSet | None:
        labels = readiness.pod_selector(obj)
        if not labels:
            return None
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        return cls((obj.get("metadata") or {}).get("namespace"), selector)


def describe_events(events: list[dict[str, Any]]) -> list[str]:
    def key(event: dict[str, Any]) -> str:
        return str(event.get("lastTimestamp") or event.get("eventTime") or "")
    return [f"{e.get('type')} {e.get('reason')}: {e.get('message')}"
            for e in sorted(events, key=key)[-EVENT_LINES:]]


def evidence(backend: ClusterBackend, ref: ObjectRef, pod: Mapping[str, Any] | None) -> str:
    """Events of the object (and the failing pod) and the pod's last log lines, as text."""
    lines = [f"events of {ref}:"] + describe_events(backend.events(ref))
    if pod is not None:
        pod_ref = ObjectRef.of({**pod, "apiVersion": "v1", "kind": "Pod"})
        lines += [f"events of {pod_ref}:"] + describe_events(backend.events(pod_ref))
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            text = backend.logs(str(pod_ref.namespace), pod_ref.name, status.get("name"), LOG_LINES)
            if text.strip():
                lines += [f"last log lines of container {status.get('name')}:", text.rstrip()]
    return "\n  ".join(lines)


def object_verdict(backend: ClusterBackend, ref: ObjectRef, load_balancer: bool) -> Verdict:
    live = backend.get(ref)
    if live is None:
        return Verdict.waiting("not found (yet)")
    verdict = readiness.verdict(live, load_balancer)
    if verdict.is_failed:
        return Verdict.failed(f"{ref}: {verdict.message}\n  {evidence(backend, ref, None)}")
    pods = PodSet.of(live)
    if verdict.is_done or pods is None:
        return verdict
    failing = readiness.failing_pod(backend.list_objects("v1", "Pod", pods.namespace, pods.selector))
    if failing:
        pod, reason = failing
        name = (pod.get("metadata") or {}).get("name")
        return Verdict.failed(f"{ref}: pod {name}: {reason}\n  {evidence(backend, ref, pod)}")
    return verdict


def wait_ready(backend: ClusterBackend, refs: list[ObjectRef], timeout: float,
               logger: logging.Logger, load_balancer: bool = False) -> None:
    pending = list(refs)

    def check() -> Verdict:
        nonlocal pending
        still, messages = [], []
        for ref in pending:
            verdict = object_verdict(backend, ref, load_balancer)
            if verdict.is_failed:
                return verdict
            if not verdict.is_done:
                still.append(ref)
                messages.append(f"{ref}: {verdict.message}")
        pending = still
        if still:
            return Verdict.waiting("; ".join(messages))
        return Verdict.done(f"{len(refs)} object(s) ready")

    what = f"{len(refs)} object(s) to be ready" if len(refs) > 1 else f"{refs[0]} to be ready"
    wait_until(check, what, timeout, logger, backoff=FAST)


def exists(backend: ClusterBackend, ref: ObjectRef) -> bool:
    try:
        return backend.get(ref) is not None
    except UserError:
        return False  # its kind is gone with its CRD: so is the object


def wait_gone(backend: ClusterBackend, refs: list[ObjectRef], pod_sets: list[PodSet],
              timeout: float, logger: logging.Logger) -> None:
    def check() -> Verdict:
        left = [str(ref) for ref in refs if exists(backend, ref)]
        pods = [f"{len(found)} pod(s) {p.selector}" for p in pod_sets
                if (found := backend.list_objects("v1", "Pod", p.namespace, p.selector))]
        if left or pods:
            return Verdict.waiting("still there: " + ", ".join(left + pods))
        return Verdict.done("all gone")

    if refs:
        wait_until(check, f"{len(refs)} object(s) to be gone", timeout, logger, backoff=FAST)
