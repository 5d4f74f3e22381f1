"""Which upstream outputs land in which runtime properties, and what a refresh changed.

Pure functions: no I/O, no ctx. Output values whose names look like secrets are still copied
(users need them) but registered so that logs mask them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudify_proxy.config import RESERVED
from cloudify_shared.errors import UserError
from cloudify_shared.redaction import is_secret_key, register_secret

Selection = tuple[tuple[str, str], ...] | None


def register_secret_values(name: str, value: Any) -> None:
    """Register every string inside an output whose name looks like a secret."""
    if not is_secret_key(name):
        return
    if isinstance(value, str):
        register_secret(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            register_secret_values(name + "." + str(key), item)
    elif isinstance(value, list):
        for item in value:
            register_secret_values(name, item)


def select_outputs(outputs: Mapping[str, Any], selection: Selection,
                   deployment_id: str) -> dict[str, Any]:
    """{runtime property: value} for the selected outputs (all of them when selection is None)."""
    if selection is None:
        clashes = sorted(set(outputs) & set(RESERVED))
        if clashes:
            raise UserError(f"deployment '{deployment_id}' has an output named '{clashes[0]}', "
                            f"which the proxy keeps for itself; list inherit_outputs as a "
                            f"mapping to give it another name")
        selection = tuple((name, name) for name in outputs)
    missing = [output for output, _ in selection if output not in outputs]
    if missing:
        raise UserError(f"inherit_outputs: deployment '{deployment_id}' has no output "
                        f"{', '.join(repr(m) for m in missing)}; its outputs are: "
                        f"{', '.join(sorted(outputs)) or '(none)'}")
    copied = {}
    for output, prop in selection:
        register_secret_values(output, outputs[output])
        register_secret_values(prop, outputs[output])
        copied[prop] = outputs[output]
    return copied


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def proxy_properties(deployment_id: str, copied: Mapping[str, Any],
                     copied_at: str | None = None) -> dict[str, Any]:
    """Everything the proxy writes: the copied outputs plus where and when they came from."""
    return {**copied, "deployment_id": deployment_id,
            "outputs_copied_at": copied_at or now_iso(),
            "copied_outputs": sorted(copied)}


@dataclass(frozen=True)
class Changes:
    added: dict[str, Any] = field(default_factory=dict)
    removed: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def describe(self) -> str:
        """One line per change; values are rendered as text (secrets are masked by the logger)."""
        if not self:
            return "no change"
        lines = [f"{k}: {old!r} -> {new!r}" for k, (old, new) in sorted(self.changed.items())]
        lines += [f"{k}: added {v!r}" for k, v in sorted(self.added.items())]
        lines += [f"{k}: removed (was {v!r})" for k, v in sorted(self.removed.items())]
        return "; ".join(lines)


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> Changes:
    """What changed between two {runtime property: value} mappings of copied outputs."""
    return Changes(
        added={k: v for k, v in new.items() if k not in old},
        removed={k: v for k, v in old.items() if k not in new},
        changed={k: (old[k], v) for k, v in new.items() if k in old and old[k] != v},
    )


def copied_from(runtime_properties: Mapping[str, Any]) -> dict[str, Any]:
    """The copied outputs recorded in a proxy's runtime properties."""
    names = runtime_properties.get("copied_outputs") or []
    return {name: runtime_properties[name] for name in names if name in runtime_properties}


def is_proxy(runtime_properties: Mapping[str, Any]) -> bool:
    """Whether an instance's runtime properties are a DeploymentProxy's (for relationships of
    other plugins that accept a proxy as their target)."""
    return "copied_outputs" in runtime_properties and "deployment_id" in runtime_properties


def outputs_from_proxy(proxy_properties: Mapping[str, Any], selection: Selection) -> dict[str, Any]:
    """What a relationship copies from a proxy target: {runtime property: value} of the
    selected copied outputs (all when selection is None); a missing one is a UserError
    listing the proxy's outputs."""
    source = str(proxy_properties.get("deployment_id") or "(unknown)")
    return select_outputs(copied_from(proxy_properties), selection, source)


def outputs_of(proxy_properties: Mapping[str, Any], selection: Selection) -> list[str]:
    """The runtime property names a relationship with this selection copies (for unlink)."""
    if selection is None:
        return list(proxy_properties.get("copied_outputs") or [])
    return [prop for _, prop in selection]
