"""Readiness verdicts for Kubernetes objects: `verdict(obj) -> Verdict`, one function per kind in
a lookup keyed by kind, plus `failing_pod(pods)` that turns a failing pod (image missing, crash
loop, unschedulable) into a failure so a wait ends at once. Done and failed are separate.

Image pulls (`pull_problem`): a missing image (ErrImageNeverPull, InvalidImageName, "not found",
"manifest unknown", "repository does not exist") or refused credentials ("unauthorized",
"denied", "authentication required") fail at once; a registry that cannot be reached right now
("dial tcp", "connection refused", "i/o timeout", "TLS handshake timeout", "no such host", 5xx)
is waited out until the operation's timeout. The kubelet gives no status code for these, only
its message, so this is the one place that reads message text. ImagePullBackOff only says
"Back-off pulling image": the caller passes the pod's latest pull-failure event messages, and a
back-off nobody can explain fails at once (as before).
Pure: canned dicts in, Verdict out; no I/O, no ctx.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cloudify_shared.waiting import Verdict

Obj = Mapping[str, Any]

# Container waiting reasons that will not fix themselves.
FAILED_WAITING_REASONS = {
    "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName",
    "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
}
# Pull reasons whose message decides between "failed for good" and "wait" (see pull_problem).
PULL_REASONS = {"ErrImagePull", "ImagePullBackOff"}
MISSING_IMAGE = ("not found", "manifest unknown", "repository does not exist", "no such image",
                 "invalid reference format")
AUTH_FAILURE = ("unauthorized", "authentication required", "pull access denied", "denied",
                "no basic auth credentials", "forbidden")
UNREACHABLE = ("dial tcp", "connection refused", "i/o timeout", "tls handshake timeout",
               "no such host", "connection reset", "network is unreachable", "timeout exceeded",
               "context deadline exceeded", "service unavailable", "bad gateway",
               "gateway timeout", "too many requests")


def pull_problem(message: str) -> str | None:
    """'missing', 'auth' or 'unreachable' for an image pull failure message, None if unclear."""
    text = message.lower()
    if any(word in text for word in MISSING_IMAGE):
        return "missing"
    if any(word in text for word in AUTH_FAILURE):
        return "auth"
    if any(word in text for word in UNREACHABLE):
        return "unreachable"
    return None


def _status(obj: Obj) -> Mapping[str, Any]:
    return obj.get("status") or {}


def _condition(obj: Obj, kind: str) -> Mapping[str, Any] | None:
    conditions: list[Mapping[str, Any]] = _status(obj).get("conditions") or []
    for condition in conditions:
        if condition.get("type") == kind:
            return condition
    return None


def _is_true(obj: Obj, kind: str) -> bool:
    condition = _condition(obj, kind)
    return bool(condition and condition.get("status") == "True")


def _observed(obj: Obj) -> Verdict | None:
    """Waiting while the controller has not seen the latest spec yet."""
    generation = (obj.get("metadata") or {}).get("generation")
    observed = _status(obj).get("observedGeneration")
    if generation is not None and (observed is None or observed < generation):
        return Verdict.waiting(f"controller has not observed generation {generation} yet")
    return None


def _replicas(obj: Obj) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def deployment(obj: Obj) -> Verdict:
    progressing = _condition(obj, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Verdict.failed("rollout exceeded its progress deadline: "
                              f"{progressing.get('message')}")
    waiting = _observed(obj)
    if waiting:
        return waiting
    want, status = _replicas(obj), _status(obj)
    updated, total = status.get("updatedReplicas") or 0, status.get("replicas") or 0
    available = status.get("availableReplicas") or 0
    if updated < want:
        return Verdict.waiting(f"{updated} of {want} replicas updated")
    if total > updated:
        return Verdict.waiting(f"{total - updated} old replicas pending termination")
    if available < updated:
        return Verdict.waiting(f"{available} of {updated} updated replicas available")
    return Verdict.done(f"{available}/{want} replicas available")


def _replicas_ready(obj: Obj, *, exactly: bool) -> Verdict:
    """Done when the controller has seen the latest spec and as many replicas as wanted are
    ready (with `exactly`, and no more exist than wanted: none left over from a scale-down)."""
    waiting = _observed(obj)
    if waiting:
        return waiting
    want, status = _replicas(obj), _status(obj)
    ready = status.get("readyReplicas") or 0
    if ready < want or (exactly and (status.get("replicas") or 0) != want):
        return Verdict.waiting(f"{ready} of {want} replicas ready")
    return Verdict.done(f"{ready}/{want} replicas ready")


def replica_set(obj: Obj) -> Verdict:
    failure = _condition(obj, "ReplicaFailure")
    if failure and failure.get("status") == "True":
        return Verdict.failed(f"{failure.get('reason')}: {failure.get('message')}")
    return _replicas_ready(obj, exactly=True)


def daemon_set(obj: Obj) -> Verdict:
    waiting = _observed(obj)
    if waiting:
        return waiting
    status = _status(obj)
    want = status.get("desiredNumberScheduled") or 0
    updated = status.get("updatedNumberScheduled") or 0
    available = status.get("numberAvailable") or 0
    if updated < want or available < want:
        return Verdict.waiting(f"{available} of {want} pods available ({updated} updated)")
    return Verdict.done(f"{available}/{want} pods available")


def stateful_set(obj: Obj) -> Verdict:
    verdict = _replicas_ready(obj, exactly=False)
    if not verdict.is_done:
        return verdict
    status = _status(obj)
    strategy = ((obj.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
    if (strategy == "RollingUpdate"
            and status.get("updateRevision") != status.get("currentRevision")):
        updated = status.get("updatedReplicas") or 0
        return Verdict.waiting(f"{updated} of {_replicas(obj)} replicas updated")
    return verdict


def job(obj: Obj) -> Verdict:
    if _is_true(obj, "Failed"):
        failed = _condition(obj, "Failed") or {}
        return Verdict.failed(f"job failed: {failed.get('reason')}: {failed.get('message')}")
    if _is_true(obj, "Complete"):
        return Verdict.done(f"{_status(obj).get('succeeded') or 0} pod(s) succeeded")
    return Verdict.waiting(f"{_status(obj).get('active') or 0} pod(s) active, not complete yet")


def pod(obj: Obj) -> Verdict:
    failure = pod_failure(obj)
    if failure:
        return Verdict.failed(failure)
    phase = _status(obj).get("phase")
    if phase == "Succeeded":
        return Verdict.done("pod succeeded")
    if phase == "Failed":
        return Verdict.failed(f"pod failed: {_status(obj).get('reason') or ''} "
                              f"{_status(obj).get('message') or ''}".strip())
    if phase == "Running" and _is_true(obj, "Ready"):
        return Verdict.done("pod running and ready")
    return Verdict.waiting(f"pod {phase or 'Pending'}, not ready")


def namespace(obj: Obj) -> Verdict:
    phase = _status(obj).get("phase")
    return Verdict.done("active") if phase == "Active" else Verdict.waiting(f"phase {phase}")


def crd(obj: Obj) -> Verdict:
    names = _condition(obj, "NamesAccepted")
    if names and names.get("status") == "False":
        return Verdict.failed(f"names not accepted: {names.get('message')}")
    if _is_true(obj, "Established"):
        return Verdict.done("established")
    return Verdict.waiting("not established yet")


def service(obj: Obj, wait_for_load_balancer: bool = False) -> Verdict:
    spec = obj.get("spec") or {}
    if spec.get("type") == "LoadBalancer" and wait_for_load_balancer:
        ingress = (_status(obj).get("loadBalancer") or {}).get("ingress")
        if not ingress:
            return Verdict.waiting("load balancer has no ingress address yet")
    return Verdict.done(f"cluster IP {spec.get('clusterIP') or 'none'}")


def exists(obj: Obj) -> Verdict:
    return Verdict.done("exists")


VERDICTS: dict[str, Callable[[Obj], Verdict]] = {
    "Deployment": deployment,
    "ReplicaSet": replica_set,
    "ReplicationController": replica_set,
    "DaemonSet": daemon_set,
    "StatefulSet": stateful_set,
    "Job": job,
    "Pod": pod,
    "Namespace": namespace,
    "CustomResourceDefinition": crd,
    "Service": service,
}

# Kinds whose pods are inspected for failures while the verdict says "waiting".
WORKLOAD_KINDS = {"Deployment", "ReplicaSet", "ReplicationController", "DaemonSet",
                  "StatefulSet", "Job"}


def verdict(obj: Obj, wait_for_load_balancer: bool = False) -> Verdict:
    kind = str(obj.get("kind"))
    if kind == "Service":
        return service(obj, wait_for_load_balancer)
    return VERDICTS.get(kind, exists)(obj)


def pulling_image(obj: Obj) -> bool:
    """Whether a container of the pod is in ErrImagePull / ImagePullBackOff."""
    return any(((c.get("state") or {}).get("waiting") or {}).get("reason") in PULL_REASONS
               for c in _containers(obj))


def _containers(obj: Obj) -> list[Mapping[str, Any]]:
    status = _status(obj)
    return (list(status.get("initContainerStatuses") or [])
            + list(status.get("containerStatuses") or []))


def _gives_up(reason: str, message: str, pull_messages: Sequence[str]) -> bool:
    if reason not in PULL_REASONS:
        return True
    problems = [pull_problem(text) for text in [message, *pull_messages] if text]
    known = [p for p in problems if p]
    return not known or known[-1] != "unreachable"  # the latest explained attempt decides


def pod_failure(obj: Obj, pull_messages: Sequence[str] = ()) -> str | None:
    """Why a pod will not become ready on its own, or None (also None while a registry is
    unreachable: that is waited out). `pull_messages`: the pod's pull-failure event messages,
    oldest first."""
    scheduled = _condition(obj, "PodScheduled")
    if (scheduled and scheduled.get("status") == "False"
            and scheduled.get("reason") == "Unschedulable"):
        return f"unschedulable: {scheduled.get('message')}"
    for container in _containers(obj):
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason, message = str(waiting.get("reason") or ""), str(waiting.get("message") or "")
        if reason in FAILED_WAITING_REASONS and _gives_up(reason, message, pull_messages):
            cause = f" (last pull error: {pull_messages[-1]})" if reason == "ImagePullBackOff" \
                and pull_messages else ""
            return (f"container {container.get('name')}: {reason}"
                    f"{': ' + message if message else ''}{cause}")
    return None


def failing_pod(pods: Sequence[Obj],
                pull_messages: Callable[[Obj], Sequence[str]] | None = None,
                claims: Callable[[Obj], Verdict | None] | None = None) -> tuple[Obj, str] | None:
    """The first pod that has failed for good and why, or None. `pull_messages(pod)` gives a
    pod's pull-failure event messages (asked only for pods stuck pulling an image).
    `claims(pod)` judges the claims of an unschedulable pod: failed (e.g. no such
    StorageClass) is the pod's failure, waiting (a claim still binding) is no failure, None
    leaves the scheduler's verdict."""
    for item in pods:
        if (item.get("metadata") or {}).get("deletionTimestamp"):
            continue  # on its way out: not a reason to give up
        messages = pull_messages(item) if pull_messages and pulling_image(item) else ()
        reason = pod_failure(item, messages)
        if reason and claims and reason.startswith("unschedulable"):
            judged = claims(item)
            if judged is not None and not judged.is_failed:
                continue
            reason = judged.message if judged is not None else reason
        if reason:
            return item, reason
    return None


# How many sandbox creation failures of one pod mean it will not start (the kubelet retries
# every few seconds; a transient runtime hiccup fails once or twice, a broken one every time).
SANDBOX_FAILURES = 3
WAITING_PODS_SHOWN = 3


def _ready(obj: Obj) -> bool:
    return _status(obj).get("phase") == "Succeeded" or _is_true(obj, "Ready")


def telling(pull_messages: Sequence[str]) -> str:
    """The latest pull error that says what went wrong (the kubelet follows each with a bare
    'Error: ErrImagePull'), else the latest."""
    explained = [text for text in pull_messages if pull_problem(text)]
    return (explained or list(pull_messages))[-1]


def pod_waiting_reason(obj: Obj, pull_messages: Sequence[str] = ()) -> str:
    """Why a pod that has not failed is not ready yet, in the kubelet's and scheduler's words
    (a registry that cannot be reached says so, with its last pull error)."""
    scheduled = _condition(obj, "PodScheduled")
    if scheduled and scheduled.get("status") == "False":
        return f"not scheduled: {scheduled.get('reason')}: {scheduled.get('message')}"
    reasons = []
    for container in _containers(obj):
        state = container.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
        if waiting:
            text = f"container {container.get('name')} {waiting.get('reason')}"
            if waiting.get("message"):
                text += f": {waiting.get('message')}"
            if waiting.get("reason") in PULL_REASONS and pull_messages:
                text += (" (registry unreachable, waited out; last pull error: "
                         f"{telling(pull_messages)})")
            reasons.append(text)
        elif terminated:
            reasons.append(f"container {container.get('name')} exited {terminated.get('exitCode')} "
                           f"({terminated.get('reason')})")
        elif not container.get("ready"):
            reasons.append(f"container {container.get('name')} running, "
                           "not ready (readiness probe)")
    return "; ".join(reasons) or f"{_status(obj).get('phase') or 'Pending'}, not ready"


def waiting_reasons(pods: Sequence[Obj],
                    pull_messages: Callable[[Obj], Sequence[str]] | None = None) -> str:
    """The reasons of the first few pods that are not ready ('' when all are), for the
    progress line and the timeout's last state."""
    waiting = [item for item in pods
               if not _ready(item) and not (item.get("metadata") or {}).get("deletionTimestamp")]
    shown = []
    for item in waiting[:WAITING_PODS_SHOWN]:
        messages = pull_messages(item) if pull_messages and pulling_image(item) else ()
        shown.append(f"pod {(item.get('metadata') or {}).get('name')}: "
                     f"{pod_waiting_reason(item, messages)}")
    more = (f"; and {len(waiting) - WAITING_PODS_SHOWN} more pod(s)"
            if len(waiting) > WAITING_PODS_SHOWN else "")
    return "; ".join(shown) + more


def creating(obj: Obj) -> bool:
    """Whether the pod is still having its sandbox or containers made (ContainerCreating)."""
    return _status(obj).get("phase") == "Pending" and any(
        ((c.get("state") or {}).get("waiting") or {}).get("reason") == "ContainerCreating"
        for c in _containers(obj)) or (_status(obj).get("phase") == "Pending"
                                       and _is_true(obj, "PodScheduled") and not _containers(obj))


def sandbox_failure(events: Sequence[Obj]) -> str | None:
    """A pod's sandbox creation failing again and again (FailedCreatePodSandBox, counted over
    its events): it will not start; None while it failed fewer than SANDBOX_FAILURES times."""
    failures = [e for e in events if e.get("reason") == "FailedCreatePodSandBox"]
    count = sum(int(e.get("count") or 1) for e in failures)
    if count < SANDBOX_FAILURES:
        return None
    return (f"its sandbox could not be created ({count} times, FailedCreatePodSandBox): "
            f"{failures[-1].get('message')}")


def pod_selector(obj: Obj) -> dict[str, str] | None:
    """The label selector (matchLabels) of a workload's pods, or None for non-workloads."""
    if obj.get("kind") not in WORKLOAD_KINDS:
        return None
    selector = (obj.get("spec") or {}).get("selector") or {}
    if obj.get("kind") == "ReplicationController":
        labels = selector or (((obj.get("spec") or {}).get("template") or {}).get("metadata")
                              or {}).get("labels")
        return dict(labels or {})
    return dict(selector.get("matchLabels") or {})
