"""Is the upstream deployment ready? Pure functions over a snapshot of it.

A Snapshot is what a DeploymentSource saw at one moment (does the deployment exist, its
executions, outputs and capabilities). `judge` turns it and the user's WaitFor into a Verdict:
done, still waiting (saying on what) or failed (a failed or cancelled install, a missing
deployment, an output the upstream does not declare). Comparisons are declarative data, never
evaluated strings. No I/O, no ctx.
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cloudify_proxy.config import Condition, WaitFor
from cloudify_shared.waiting import Verdict

FAILED_STATES = ("failed", "cancelled")
ACTIVE_UNINSTALL = ("pending", "queued", "scheduled", "started", "terminated")


@dataclass(frozen=True)
class Snapshot:
    deployment_id: str
    exists: bool
    executions: tuple[Mapping[str, Any], ...] = ()
    outputs: Mapping[str, Any] | None = None
    capabilities: Mapping[str, Any] | None = None  # read only when the proxy copies some


def _created(execution: Mapping[str, Any]) -> str:
    return str(execution.get("created_at") or "")


def chronological(executions: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Oldest first. Sorted by created_at (the local profile keeps whole seconds only), ties
    kept in the order the source listed them, which is the order they were created in."""
    return sorted(executions, key=_created)


def latest(executions: Sequence[Mapping[str, Any]],
           workflow: str) -> tuple[int, Mapping[str, Any]] | None:
    """(position in chronological order, execution) of the latest run of `workflow`."""
    runs = [(i, e) for i, e in enumerate(chronological(executions))
            if e.get("workflow_id") == workflow]
    return runs[-1] if runs else None


def last_line(text: Any) -> str:
    lines = [line for line in str(text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""


def install_verdict(snapshot: Snapshot) -> Verdict:
    """Done once the latest install terminated; failed at once if it failed or was cancelled."""
    name = f"deployment '{snapshot.deployment_id}'"
    found = latest(snapshot.executions, "install")
    if found is None:
        return Verdict.waiting(f"{name} exists but no install has run yet")
    position, install = found
    status = str(install.get("status"))
    if status in FAILED_STATES:
        error = last_line(install.get("error"))
        return Verdict.failed(f"the latest install of {name} (execution {install.get('id')}) "
                              f"ended with status '{status}'" + (f": {error}" if error else ""))
    if status != "terminated":
        return Verdict.waiting(f"install of {name} is {status}")
    later = latest(snapshot.executions, "uninstall")
    if later is not None and later[0] > position and later[1].get("status") in ACTIVE_UNINSTALL:
        return Verdict.waiting(f"{name} was uninstalled after its install (uninstall "
                               f"{later[1].get('status')}); waiting for a new install")
    return Verdict.done(f"install of {name} finished", detail=install)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict, tuple)) and not value)


def undeclared(snapshot: Snapshot, names: Sequence[str]) -> Verdict | None:
    outputs = snapshot.outputs or {}
    missing = [n for n in names if n not in outputs]
    if not missing:
        return None
    return Verdict.failed(f"deployment '{snapshot.deployment_id}' has no output "
                          f"{', '.join(repr(m) for m in missing)}; its outputs are: "
                          f"{', '.join(sorted(outputs)) or '(none)'}")


def resolve(value: Any, path: Sequence[str | int]) -> tuple[bool, Any]:
    """Follow a key path into an output value; (False, None) if it does not lead anywhere."""
    for step in path:
        if isinstance(value, Mapping) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return False, None
    return True, value


def _contains(container: Any, item: Any) -> bool:
    return item in container


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "equals": operator.eq,
    "not_equals": operator.ne,
    "contains": _contains,
    "not_contains": lambda a, b: not _contains(a, b),
    "greater_than": operator.gt,
    "greater_or_equal": operator.ge,
    "less_than": operator.lt,
    "less_or_equal": operator.le,
    "length_at_least": lambda a, b: len(a) >= b,
}


def condition_holds(condition: Condition, outputs: Mapping[str, Any],
                    show_value: bool = False) -> tuple[bool, str]:
    """Whether the condition holds, and a message for the log; the output's value is in it
    only with `show_value` (the proxy's log_values_of names the output)."""
    found, value = resolve(outputs.get(condition.output), condition.path)
    if not found:
        return False, f"{condition.describe()}: that value is not there yet"
    try:
        holds = COMPARE[condition.operator](value, condition.value)
    except TypeError:
        holds = False
    now = f"it is {value!r}" if show_value else "it does not hold yet (value not shown)"
    return holds, f"{condition.describe()}: {now}"


def outputs_verdict(snapshot: Snapshot, wait_for: WaitFor,
                    shown: Collection[str] = ()) -> Verdict:
    outputs = snapshot.outputs or {}
    names = [*wait_for.outputs, *(c.output for c in wait_for.conditions)]
    failed = undeclared(snapshot, names)
    if failed:
        return failed
    empty = [n for n in wait_for.outputs if is_empty(outputs[n])]
    if empty:
        return Verdict.waiting(f"output {', '.join(empty)} of deployment "
                               f"'{snapshot.deployment_id}' not set yet")
    for condition in wait_for.conditions:
        holds, message = condition_holds(condition, outputs, condition.output in shown)
        if not holds:
            return Verdict.waiting(f"waiting until {message}")
    return Verdict.done(f"deployment '{snapshot.deployment_id}' is ready")


def missing_verdict(snapshot: Snapshot, wait_for: WaitFor) -> Verdict:
    name = f"deployment '{snapshot.deployment_id}'"
    if wait_for.missing_deployment == "wait":
        return Verdict.waiting(f"{name} does not exist yet")
    return Verdict.failed(f"{name} does not exist (set wait_for.missing_deployment: wait "
                          f"to wait for it to be created)")


def judge(snapshot: Snapshot, wait_for: WaitFor, shown: Collection[str] = ()) -> Verdict:
    """The verdict on one snapshot. Outputs are only looked at once the install part holds;
    messages show the values of the outputs in `shown` only."""
    if not snapshot.exists:
        return missing_verdict(snapshot, wait_for)
    if wait_for.install:
        verdict = install_verdict(snapshot)
        if not verdict.is_done:
            return verdict
    if snapshot.outputs is None:
        return Verdict.waiting(f"outputs of deployment '{snapshot.deployment_id}' not read yet")
    return outputs_verdict(snapshot, wait_for, shown)
