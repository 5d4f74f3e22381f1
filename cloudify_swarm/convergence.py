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

import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from cloudify_shared.waiting import Verdict

_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$")

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


def failed_tasks(tasks: Iterable[dict[str, Any]], baseline: frozenset[str]) -> list[dict[str, Any]]:
    """Tasks created since the operation began that failed, or cannot be scheduled."""
    found = []
    for task in tasks:
        if task.get("ID") in baseline:
            continue
        state = task_state(task)
        error = (task.get("Status") or {}).get("Err")
        if state in FAILED_STATES or (state == "pending" and error):
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


def timestamp(text: Any) -> datetime:
    """An Engine API RFC 3339 time (nanoseconds cut to microseconds); missing -> the epoch."""
    match = _RFC3339.match(str(text or ""))
    if not match:
        return datetime.min.replace(tzinfo=UTC)
    fraction = (match.group(2) or "")[:6].ljust(6, "0")
    return datetime.strptime(f"{match.group(1)}.{fraction}+0000", "%Y-%m-%dT%H:%M:%S.%f%z")


def update_verdict(service: dict[str, Any], failed: list[dict[str, Any]]) -> Verdict | None:
    """What the engine says about an update we issued; None once it completed."""
    status = service.get("UpdateStatus") or {}
    state = status.get("State")
    if state is None or timestamp(status.get("StartedAt")) < timestamp(service.get("UpdatedAt")):
        return Verdict.waiting("the update has not started yet")
    if state in ("paused", "rollback_paused", "rollback_completed"):
        why = failure_message(failed) or status.get("Message", "")
        return Verdict.failed(f"update {state.replace('_', ' ')}: {status.get('Message', '')}"
                              + (f" ({why})" if why and why != status.get("Message") else ""))
    if state in ("updating", "rollback_started"):
        if failed and not _rolls_back(service):
            return Verdict.failed(failure_message(failed))
        return Verdict.waiting(f"update {state.replace('_', ' ')}")
    return None


def _rolls_back(service: dict[str, Any]) -> bool:
    update = (service.get("Spec") or {}).get("UpdateConfig") or {}
    return update.get("FailureAction") == "rollback"


def service_converged(service: dict[str, Any], tasks: list[dict[str, Any]],
                      baseline: frozenset[str] = frozenset(), expect_update: bool = False) -> Verdict:
    """Done (detail: the running task ids), waiting or failed; see the module docstring."""
    failed = failed_tasks(tasks, baseline)
    if expect_update:
        verdict = update_verdict(service, failed)
        if verdict is not None:
            return verdict
    elif failed:
        return Verdict.failed(failure_message(failed))
    wanted = desired_replicas(service, tasks)
    running = sorted(t["ID"] for t in tasks
                     if t.get("DesiredState") == "running" and task_state(t) == "running")
    starting = [t for t in tasks if t.get("DesiredState") == "running" and task_state(t) != "running"]
    stopping = [t for t in tasks if t.get("DesiredState") in ("shutdown", "remove")
                and task_state(t) in STOPPING_STATES]
    if wanted is None:
        return Verdict.waiting("no task scheduled yet")
    if len(running) == wanted and not starting and not stopping:
        return Verdict.done(f"{wanted}/{wanted} task(s) running", detail=frozenset(running))
    states = sorted({task_state(t) for t in starting})
    return Verdict.waiting(f"{len(running)}/{wanted} task(s) running"
                           + (f", {len(starting)} {'/'.join(states)}" if starting else "")
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
