"""Which upstream outputs and capabilities land in which runtime properties, and what a refresh
changed.

Pure functions: no I/O, no ctx. Values whose names look like secrets are still copied (users
need them) but registered so that logs mask them. An output and a capability may land in the
same runtime property only when their values are equal; otherwise it is a UserError naming both.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudify_proxy.config import CAPABILITY, OUTPUT, RESERVED, Kind
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
                   deployment_id: str, kind: Kind = OUTPUT) -> dict[str, Any]:
    """{runtime property: value} for the selected outputs (all of them when selection is None);
    with kind=CAPABILITY the same for capabilities."""
    if selection is None:
        clashes = sorted(set(outputs) & set(RESERVED))
        if clashes:
            raise UserError(f"deployment '{deployment_id}' has {kind.name_with_article()} named "
                            f"'{clashes[0]}', which the proxy keeps for itself; list "
                            f"{kind.setting} as a mapping to give it another name")
        selection = tuple((name, name) for name in outputs)
    missing = [output for output, _ in selection if output not in outputs]
    if missing:
        raise UserError(f"{kind.setting}: deployment '{deployment_id}' has no {kind.name} "
                        f"{', '.join(repr(m) for m in missing)}; its {kind.plural} are: "
                        f"{', '.join(sorted(outputs)) or '(none)'}")
    copied = {}
    for output, prop in selection:
        register_secret_values(output, outputs[output])
        register_secret_values(prop, outputs[output])
        copied[prop] = outputs[output]
    return copied


def source_name(selection: Selection, prop: str) -> str:
    """The output (or capability) a runtime property was copied from."""
    return next((name for name, target in selection or () if target == prop), prop)


def check_overlap(outputs: Mapping[str, Any], capabilities: Mapping[str, Any],
                  selection: Selection, capability_selection: Selection) -> None:
    """An output and a capability copied to one runtime property must agree (the example
    clusters publish kubernetes_info as both); differing values are a UserError naming both."""
    for prop in sorted(set(outputs) & set(capabilities)):
        if outputs[prop] != capabilities[prop]:
            raise UserError(
                f"output '{source_name(selection, prop)}' and capability "
                f"'{source_name(capability_selection, prop)}' would both be copied to runtime "
                f"property '{prop}' with different values; map one of them to another name "
                f"(inherit_outputs or inherit_capabilities as a mapping)")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def proxy_properties(deployment_id: str, copied: Mapping[str, Any],
                     copied_at: str | None = None,
                     capabilities: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the proxy writes: the copied outputs and capabilities plus where and when
    they came from (check_overlap has made sure that shared names hold equal values)."""
    capabilities = capabilities or {}
    return {**copied, **capabilities, "deployment_id": deployment_id,
            "outputs_copied_at": copied_at or now_iso(),
            "copied_outputs": sorted(copied),
            "copied_capabilities": sorted(capabilities)}


@dataclass(frozen=True)
class Changes:
    added: dict[str, Any] = field(default_factory=dict)
    removed: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def describe(self, shown: Collection[str] = ()) -> str:
        """The names of what changed; values only of the runtime properties in `shown` (the
        proxy's log_values_of): copied outputs may be secrets whose names do not look like one."""
        if not self:
            return "no change"
        lines = [f"{k} changed" + (f": {old!r} -> {new!r}" if k in shown else "")
                 for k, (old, new) in sorted(self.changed.items())]
        lines += [f"{k} added" + (f": {v!r}" if k in shown else "")
                  for k, v in sorted(self.added.items())]
        lines += [f"{k} removed" for k in sorted(self.removed)]
        return "; ".join(lines)


def shown_properties(names: Collection[str], *selections: Selection) -> set[str]:
    """The runtime properties whose values logs may show: those named in log_values_of, and
    those the named outputs or capabilities are copied to."""
    shown = set(names)
    for selection in selections:
        shown |= {prop for name, prop in selection or () if name in names}
    return shown


def describe_values(copied: Mapping[str, Any], shown: Collection[str]) -> str:
    """'name = value' for the copied runtime properties in `shown`; '' when none is."""
    return "; ".join(f"{k} = {v!r}" for k, v in sorted(copied.items()) if k in shown)


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> Changes:
    """What changed between two {runtime property: value} mappings of copied outputs."""
    return Changes(
        added={k: v for k, v in new.items() if k not in old},
        removed={k: v for k, v in old.items() if k not in new},
        changed={k: (old[k], v) for k, v in new.items() if k in old and old[k] != v},
    )


def copied_names(runtime_properties: Mapping[str, Any],
                 kinds: tuple[Kind, ...] = (OUTPUT, CAPABILITY)) -> list[str]:
    """The runtime properties a proxy copied (outputs and capabilities by default), once each."""
    names: dict[str, None] = {}
    for kind in kinds:
        names.update(dict.fromkeys(runtime_properties.get(kind.record) or []))
    return list(names)


def copied_from(runtime_properties: Mapping[str, Any],
                kinds: tuple[Kind, ...] = (OUTPUT, CAPABILITY)) -> dict[str, Any]:
    """The copied values recorded in a proxy's runtime properties: {runtime property: value}."""
    return {name: runtime_properties[name] for name in copied_names(runtime_properties, kinds)
            if name in runtime_properties}


def is_proxy(runtime_properties: Mapping[str, Any]) -> bool:
    """Whether an instance's runtime properties are a DeploymentProxy's (for relationships of
    other plugins that accept a proxy as their target)."""
    return "copied_outputs" in runtime_properties and "deployment_id" in runtime_properties


def outputs_from_proxy(proxy_properties: Mapping[str, Any], selection: Selection) -> dict[str, Any]:
    """What a relationship copies from a proxy target: {runtime property: value} of the
    selected copied outputs and capabilities (all when selection is None); a missing one is a
    UserError listing what the proxy has."""
    source = str(proxy_properties.get("deployment_id") or "(unknown)")
    return select_outputs(copied_from(proxy_properties), selection, source)


def outputs_of(proxy_properties: Mapping[str, Any], selection: Selection) -> list[str]:
    """The runtime property names a relationship with this selection copies (for unlink)."""
    if selection is None:
        return copied_names(proxy_properties)
    return [prop for _, prop in selection]
