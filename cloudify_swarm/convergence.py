"""Verdicts on a Swarm service's rollout, as pure functions over the Engine API's task list.

docker-py has no rollout wait and `docker service create --detach=false` lives in the CLI, so
this module decides, from a service (inspect payload) and its tasks:
- done: the desired number of tasks run and nothing is still starting or stopping;
- failed at once: a task created since the operation began was rejected, failed, exited, or is
  pending with an error (no suitable node), or the engine paused / rolled back the update;
- waiting otherwise, with a message saying on what.
`StableFor` then holds a done verdict for a short stability window. No I/O, no ctx.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from cloudify_shared.waiting import Verdict

FAILED_STATES = {"failed", "rejected", "complete", "orphaned"}
STOPPING_STATES = {"new", "allocated", "pending", "assigned", "accepted", "preparing", "ready",
                   "starting", "running"}


def task_state(task: dict[str, Any]) -> str:
    return str((task.get("Status") or {}).get("State", "unknown"))


def task_error(task: dict[str, Any]) -> str:
    status = task.get("Status") or {}
    return str(status.get("Err") or status.get("Message") or task_state(task))


def describe_task(task: dict[str, Any]) -> str:
    slot = f" (slot {task['Slot']})" if task.get("Slot") else ""
    return f"task {str(task.get('ID', '?'))[:12]}{slot} {task_state(task)}: {task_error(task)}"


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
    return count_tasks(service, tasks)


def count_tasks(service: dict[str, Any], tasks: list[dict[str, Any]]) -> Verdict:
    wanted = desired_replicas(service, tasks)
    desired = [t for t in tasks if t.get("DesiredState") == "running"]
    running = sorted(t["ID"] for t in desired if task_state(t) == "running" and is_current(t, service))
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
