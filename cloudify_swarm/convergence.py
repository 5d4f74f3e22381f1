"""Verdicts on a Swarm service's rollout, as pure functions over the Engine API's task list.

docker-py has no rollout wait and `docker service create --detach=false` lives in the CLI, so
this module decides, from a service (inspect payload) and its tasks:
- done: the desired number of tasks run and nothing is still starting or stopping;
- failed at once: a task created since the operation began was rejected, failed, exited, or is
  pending with an error (no suitable node), or the engine paused / rolled back the update;
- waiting otherwise, with a message saying on what.
`StableFor` then holds a done verdict for a short stability window. No I/O, no ctx.

Image failures (the Engine reports them only as task error text, no status code, so this is
the one place that reads message text; `image_failure` decides it):
- the image is missing or refused ("No such image", "pull access denied", "manifest unknown",
  "repository does not exist", "unauthorized", "denied"): final, the wait ends at once;
- the registry cannot be reached (DNS, connection refused/reset, i/o or TLS handshake timeout,
  5xx, too many requests): transient, the task is not counted as failed and the wait goes on,
  showing the error, until its timeout (the scheduler makes a new task that pulls again).
A task whose error says neither is judged by its state, as before.

`service_status` is the one-shot health verdict check_status uses: converged on the current
spec (old tasks and tasks of earlier specs are history, not health).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from cloudify_shared.waiting import Verdict

FAILED_STATES = {"failed", "rejected", "complete", "orphaned"}
STOPPING_STATES = {"new", "allocated", "pending", "assigned", "accepted", "preparing", "ready",
                   "starting", "running"}


MISSING_IMAGE = ("no such image", "pull access denied", "manifest unknown", "not found: manifest",
                 "repository does not exist", "unauthorized", "denied:", "invalid reference format")
REGISTRY_UNREACHABLE = ("dial tcp", "i/o timeout", "connection refused", "connection reset",
                        "no such host", "tls handshake timeout",
                        "temporary failure in name resolution",
                        "network is unreachable", "context deadline exceeded",
                        "net/http: request canceled", "server misbehaving", "toomanyrequests",
                        "502 bad gateway", "503 service unavailable", "504 gateway timeout")


def image_failure(error: str) -> str | None:
    """'missing' (final), 'unreachable' (wait it out) or None (not about pulling the image).
    A network cause wins: "No such image" after a pull that could not reach the registry is
    reported with that cause when the engine gives it."""
    text = error.lower()
    if any(marker in text for marker in REGISTRY_UNREACHABLE):
        return "unreachable"
    if any(marker in text for marker in MISSING_IMAGE):
        return "missing"
    return None


def task_state(task: dict[str, Any]) -> str:
    return str((task.get("Status") or {}).get("State", "unknown"))


def task_error(task: dict[str, Any]) -> str:
    status = task.get("Status") or {}
    return str(status.get("Err") or status.get("Message") or task_state(task))


COMMAND_SHOWN = 200


def task_exit(task: dict[str, Any]) -> str:
    """' (exit code N, command ...)' for a task whose container ended ('' otherwise): a task
    'complete' with code 0 is a process that ended at once, not a failure of the Engine's."""
    status = task.get("Status") or {}
    code = (status.get("ContainerStatus") or {}).get("ExitCode")
    if code is None or task_state(task) not in ("complete", "failed"):
        return ""
    spec = ((task.get("Spec") or {}).get("ContainerSpec") or {})
    words = [*(spec.get("Command") or []), *(spec.get("Args") or [])]
    command = " ".join(str(w) for w in words) or "the image's entry point"
    if len(command) > COMMAND_SHOWN:
        command = command[:COMMAND_SHOWN] + "..."
    ended = "exited at once" if task_state(task) == "complete" else "exited"
    return f" (the container {ended} with code {code}; command: {command})"


def describe_task(task: dict[str, Any]) -> str:
    slot = f" (slot {task['Slot']})" if task.get("Slot") else ""
    return (f"task {str(task.get('ID', '?'))[:12]}{slot} {task_state(task)}: {task_error(task)}"
            f"{task_exit(task)}")


def task_container(task: dict[str, Any]) -> str | None:
    """The id of the task's container, if it had one."""
    found = ((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID")
    return str(found) if found else None


def stopping_tasks(tasks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in tasks if t.get("DesiredState") in ("shutdown", "remove")
            and task_state(t) in STOPPING_STATES]


def failed_tasks(tasks: list[dict[str, Any]], baseline: frozenset[str]) -> list[dict[str, Any]]:
    """Tasks created since the operation began that failed, or cannot be scheduled.

    A pending task with a scheduler error is final only for a fresh service (no baseline) with
    no task stopping: while an update or scale replaces old tasks, a host-mode port or resource
    they hold is freed in a moment and the scheduler retries (the wait message shows the error)."""
    unschedulable_is_final = not baseline and not stopping_tasks(tasks)
    found = []
    for task in tasks:
        if task.get("ID") in baseline:
            continue
        state = task_state(task)
        error = (task.get("Status") or {}).get("Err")
        if error and image_failure(str(error)) == "unreachable":
            continue  # the registry may come back: waited out until the timeout
        if state in FAILED_STATES or (state == "pending" and error and unschedulable_is_final):
            found.append(task)
    return found


def failure_message(failed: list[dict[str, Any]]) -> str:
    errors: list[str] = []
    for task in failed:
        text = describe_task(task)
        if text.split(": ", 1)[-1] not in {e.split(": ", 1)[-1] for e in errors}:
            errors.append(text)
    return "; ".join(errors)


def desired_replicas(service: dict[str, Any], tasks: list[dict[str, Any]]) -> int | None:
    mode = (service.get("Spec") or {}).get("Mode") or {}
    if "Replicated" in mode:
        return int(mode["Replicated"].get("Replicas", 1))
    wanted = [t for t in tasks if t.get("DesiredState") == "running"]
    return len(wanted) or None


def update_marker(service: dict[str, Any]) -> str | None:
    """Identifies the engine's latest rolling update (its start time); None before any."""
    started = (service.get("UpdateStatus") or {}).get("StartedAt")
    return str(started) if started else None


def update_verdict(service: dict[str, Any], tasks: list[dict[str, Any]],
                   failed: list[dict[str, Any]]) -> Verdict | None:
    """What the engine says about the update we issued; None once it completed."""
    status = service.get("UpdateStatus") or {}
    state, message = status.get("State"), status.get("Message", "")
    if state == "rollback_completed" and not count_tasks(service, tasks).is_done:
        return Verdict.waiting("update rolled back; waiting for the previous spec's tasks")
    if state in ("paused", "rollback_paused", "rollback_completed"):
        why = failure_message(failed)
        return Verdict.failed(f"update {state.replace('_', ' ')}: {message}"
                              + (f" ({why})" if why and why != message else ""))
    if state in ("updating", "rollback_started"):
        if failed and not _rolls_back(service):
            return Verdict.failed(failure_message(failed))
        return Verdict.waiting(f"update {state.replace('_', ' ')}")
    return None


def _rolls_back(service: dict[str, Any]) -> bool:
    update = (service.get("Spec") or {}).get("UpdateConfig") or {}
    return update.get("FailureAction") == "rollback"


def is_current(task: dict[str, Any], service: dict[str, Any]) -> bool:
    """The task runs the service's present container spec."""
    template = (service.get("Spec") or {}).get("TaskTemplate") or {}
    spec = task.get("Spec") or {}
    return bool(spec.get("ContainerSpec") == template.get("ContainerSpec")
                and spec.get("ForceUpdate", 0) == template.get("ForceUpdate", 0))


def service_converged(service: dict[str, Any], tasks: list[dict[str, Any]],
                      baseline: frozenset[str] = frozenset(), expect_update: bool = False,
                      previous_update: str | None = None) -> Verdict:
    """Done (detail: the running task ids), waiting or failed; see the module docstring.

    `baseline`: ids of the tasks that existed before the operation (their old failures do not
    count). `expect_update`: we changed the spec; an engine update whose marker differs from
    `previous_update` is ours, and its paused / rolled-back outcome is a failure."""
    failed = failed_tasks(tasks, baseline)
    fresh = expect_update and update_marker(service) not in (None, previous_update)
    if fresh:
        verdict = update_verdict(service, tasks, failed)
        if verdict is not None:
            return verdict
    elif failed and not (expect_update and _rolls_back(service)):
        return Verdict.failed(failure_message(failed))
    verdict = count_tasks(service, tasks)
    unreachable = unreachable_registry(tasks, baseline) if not verdict.is_done else []
    if unreachable:
        return Verdict.waiting(f"{verdict.message}; registry unreachable, waiting: "
                               f"{'; '.join(unreachable)}")
    return verdict


def unreachable_registry(tasks: list[dict[str, Any]], baseline: frozenset[str]) -> list[str]:
    return sorted({task_error(t) for t in tasks if t.get("ID") not in baseline
                   and image_failure(task_error(t)) == "unreachable"})


def service_status(service: dict[str, Any], tasks: list[dict[str, Any]]) -> Verdict:
    """Health now, in one look: done when the desired tasks run the current spec and nothing
    is starting or stopping; failed otherwise, saying what (N/M running, the latest error of
    a task on the current spec, a paused update). Failures of tasks the engine has already
    replaced do not count once the service runs as asked."""
    status = service.get("UpdateStatus") or {}
    if status.get("State") in ("paused", "rollback_paused"):
        state = status["State"].replace("_", " ")
        return Verdict.failed(f"update {state}: {status.get('Message', '')}")
    verdict = count_tasks(service, tasks)
    if verdict.is_done:
        return verdict
    current = [t for t in tasks if is_current(t, service) and task_state(t) in FAILED_STATES]
    latest = sorted(current, key=lambda t: str((t.get("Status") or {}).get("Timestamp", "")))[-1:]
    last = f"; last failure: {describe_task(latest[0])}" if latest else ""
    return Verdict.failed(verdict.message + last)


def count_tasks(service: dict[str, Any], tasks: list[dict[str, Any]]) -> Verdict:
    wanted = desired_replicas(service, tasks)
    desired = [t for t in tasks if t.get("DesiredState") == "running"]
    running = sorted(t["ID"] for t in desired
                     if task_state(t) == "running" and is_current(t, service))
    starting = [t for t in desired if task_state(t) != "running"]
    outdated = [t for t in desired if task_state(t) == "running" and not is_current(t, service)]
    stopping = stopping_tasks(tasks)
    if wanted is None:
        return Verdict.waiting("no task scheduled yet")
    if len(running) == wanted and not (starting or outdated or stopping):
        return Verdict.done(f"{wanted}/{wanted} task(s) running", detail=frozenset(running))
    states = sorted({task_state(t) for t in starting})
    errors = sorted({task_error(t) for t in starting if (t.get("Status") or {}).get("Err")})
    return Verdict.waiting(f"{len(running)}/{wanted} task(s) running"
                           + (f", {len(starting)} {'/'.join(states)}" if starting else "")
                           + (f" ({'; '.join(errors)})" if errors else "")
                           + (f", {len(outdated)} on the previous spec" if outdated else "")
                           + (f", {len(stopping)} stopping" if stopping else ""))


def service_gone(service_exists: bool, containers: list[Any]) -> Verdict:
    if service_exists:
        return Verdict.waiting("the service is still listed")
    if containers:
        return Verdict.waiting(f"{len(containers)} container(s) still present")
    return Verdict.done("service and containers gone")


class StableFor:
    """Wraps a check: its done verdict must hold, with the same detail, for `seconds`."""

    def __init__(self, check: Callable[[], Verdict], seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.check, self.seconds, self.clock = check, seconds, clock
        self._since: float | None = None
        self._detail: Any = None

    def __call__(self) -> Verdict:
        verdict = self.check()
        if not verdict.is_done:
            self._since = None
            return verdict
        now = self.clock()
        if self._since is None or verdict.detail != self._detail:
            self._since, self._detail = now, verdict.detail
        held = now - self._since
        if held >= self.seconds:
            return Verdict.done(f"{verdict.message}, stable for {held:.1f}s", verdict.detail)
        return Verdict.waiting(f"{verdict.message}; holding {self.seconds:g}s to see them stay up")
