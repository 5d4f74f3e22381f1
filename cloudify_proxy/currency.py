"""Is a proxy's copy still current? The checks behind check_status and check_drift.

Pure functions over a Snapshot of the upstream (verdicts.py), the proxy's settings as they are
now (a deployment update may have changed deployment_id, inherit_outputs or
inherit_capabilities) and the runtime properties the last copy wrote. They return problems as
lines of text that name deployments, outputs, capabilities and runtime properties but never a
value: copied values may be secrets, and these lines end up in logs, error messages and the
instance's system properties. No I/O, no ctx.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloudify_proxy.config import CAPABILITY, OUTPUT, RESERVED, Kind, ProxyConfig
from cloudify_proxy.mapping import Selection, copied_from
from cloudify_proxy.verdicts import Snapshot, install_verdict


def expected_outputs(outputs: Mapping[str, Any], selection: Selection,
                     ) -> tuple[dict[str, tuple[str, Any]], list[str]]:
    """What a copy made now would hold: ({runtime property: (output, value)}, names of
    selected outputs the upstream no longer has). Lenient where select_outputs is strict:
    a missing output is a finding here, not an error. The same for capabilities."""
    pairs = selection if selection is not None else tuple(
        (name, name) for name in outputs if name not in RESERVED)
    expected = {prop: (output, outputs[output]) for output, prop in pairs if output in outputs}
    missing = [output for output, _ in pairs if output not in outputs]
    return expected, missing


def label(output: str, prop: str, kind: Kind = OUTPUT) -> str:
    return f"{kind.name} '{output}'" + (f" (runtime property '{prop}')" if prop != output else "")


def stale_values(recorded: Mapping[str, Any], values: Mapping[str, Any], selection: Selection,
                 deployment_id: str, kind: Kind) -> list[str]:
    """Which copied outputs (or capabilities) differ from the upstream's present ones, by name
    only; `recorded` is what the last copy wrote for this kind."""
    expected, missing = expected_outputs(values, selection)
    where = f"deployment '{deployment_id}'"
    lines = [f"{kind.name} '{name}' is missing from {where}" for name in missing]
    for prop, (name, value) in sorted(expected.items()):
        if prop not in recorded:
            lines.append(f"{label(name, prop, kind)} is not copied yet")
        elif recorded[prop] != value:
            lines.append(f"{label(name, prop, kind)} changed")
    missing_props = {prop for name, prop in (selection or ()) if name in missing}
    for prop in sorted(set(recorded) - set(expected) - missing_props):
        lines.append(f"{kind.name} '{prop}' is missing from {where}" if selection is None
                     else f"runtime property '{prop}' is no longer in {kind.setting}")
    return lines


def stale_outputs(recorded: Mapping[str, Any], outputs: Mapping[str, Any],
                  config: ProxyConfig) -> list[str]:
    """Which copied outputs differ from the upstream's present ones, by name only."""
    return stale_values(recorded, outputs, config.selection, config.deployment_id, OUTPUT)


def stale_capabilities(runtime: Mapping[str, Any], snapshot: Snapshot,
                       config: ProxyConfig) -> list[str]:
    """The same for capabilities: those selected now, and those copied before that are no
    longer selected (inherit_capabilities set back to null)."""
    recorded = copied_from(runtime, (CAPABILITY,))
    if not config.wants_capabilities and not recorded:
        return []
    return stale_values(recorded, snapshot.capabilities or {}, config.capabilities,
                        config.deployment_id, CAPABILITY)


def upstream_problems(snapshot: Snapshot, config: ProxyConfig, where: str) -> list[str]:
    """Whether the upstream is still there (and still installed, if wait_for.install)."""
    name = f"deployment '{snapshot.deployment_id}'"
    if not snapshot.exists:
        return [f"{name} no longer exists on {where}"]
    if config.wait_for.install:
        verdict = install_verdict(snapshot)
        if not verdict.is_done:
            return [f"{name} is not installed as it was: {verdict.message}"]
    return []


def problems(snapshot: Snapshot, config: ProxyConfig, runtime: Mapping[str, Any],
             where: str) -> list[str]:
    """Everything that makes the proxy's copy not current; empty when it is."""
    found = []
    copied_id = runtime.get("deployment_id")
    if copied_id is None:
        found.append("no outputs have been copied yet (the proxy was not created)")
    elif copied_id != config.deployment_id:
        found.append(f"deployment_id is now '{config.deployment_id}' but the outputs were "
                     f"copied from '{copied_id}'")
    upstream = upstream_problems(snapshot, config, where)
    if upstream or snapshot.outputs is None:
        return found + upstream
    return (found + stale_outputs(copied_from(runtime, (OUTPUT,)), snapshot.outputs, config)
            + stale_capabilities(runtime, snapshot, config))
