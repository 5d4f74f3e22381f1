"""What a Microservice keeps of its operation inputs in the runtime property `inputs_used`, and
how a later operation gets back the values it did not keep. Service layer: no ctx.

Decided here: values that may be secret are never stored. Runtime properties are shown by
`cfy node-instances get`, the UI and the REST API to anyone who may read the deployment, and
an operation input may come from get_secret. So `stored()` keeps:
- `config_files`, `env_containers`: as given (paths and container names);
- `env`: the names; every value is replaced by NOT_STORED (any may be a secret);
- `config` (inline descriptors): as given, except the values under a Secret's data /
  stringData / binaryData and every container env `value`, replaced by NOT_STORED;
- `overrides`: as given (they set structure: replicas, images, ports; scale writes them),
  except one whose path goes through env, data, stringData or binaryData: its value is
  replaced by NOT_STORED (the 2016 string form is stored as the mapping form).
A later operation (update, scale, heal, check_drift, start again) renders with the markers and
`restore()` takes every marked value from the live object at the same place (env entries and
containers matched by name, a Secret's stringData from its live data, decoded): the value as
it runs. Where the object or the field is gone (heal of a deleted object), the operation fails
naming the object and the field: such a value must be given again as an input, or come from the
node's properties (a get_secret there is resolved on the manager at every operation).
Values taken from a Secret, and every value restored, are registered for redaction.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cloudify_kubernetes.backend import ClusterBackend, ObjectRef
from cloudify_kubernetes.engine import place
from cloudify_kubernetes.overrides import parse_override
from cloudify_shared.errors import UserError
from cloudify_shared.redaction import register_secret

NOT_STORED = "(not stored: an operation input's value, taken from the live object)"
SECRET_FIELDS = ("data", "stringData", "binaryData")
MASKED_PATH_KEYS = {"env", *SECRET_FIELDS}


def stored(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The form of day-2 inputs kept in `inputs_used` (see the module's docstring)."""
    result = dict(inputs)
    if isinstance(result.get("env"), Mapping):
        result["env"] = dict.fromkeys(result["env"], NOT_STORED)
    if isinstance(result.get("config"), (Mapping, list)):
        docs = result["config"]
        result["config"] = (mask_descriptor(docs) if isinstance(docs, Mapping)
                            else [mask_descriptor(d) for d in docs])
    if isinstance(result.get("overrides"), list):
        result["overrides"] = [mask_override(o, i) for i, o in enumerate(result["overrides"])]
    return result


def mask_descriptor(doc: Any) -> Any:
    """A descriptor with its Secret values and container env values replaced by NOT_STORED."""
    if not isinstance(doc, Mapping):
        return doc
    result = mask_env(doc)
    if result.get("kind") == "Secret":
        for key in SECRET_FIELDS:
            if isinstance(result.get(key), Mapping):
                result[key] = dict.fromkeys(result[key], NOT_STORED)
    return result


def mask_env(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: ([{**e, "value": NOT_STORED} if isinstance(e, Mapping) and "value" in e else e
                     for e in v] if k == "env" and isinstance(v, list) else mask_env(v))
                for k, v in data.items()}
    if isinstance(data, list):
        return [mask_env(item) for item in data]
    return data


def mask_override(item: Any, index: int) -> Any:
    """An override whose path goes through env or a Secret's fields, with its value masked."""
    try:
        parsed = parse_override(item, f"overrides[{index}]")
    except UserError:
        return item  # refused when it is used, with the user's own text
    if not MASKED_PATH_KEYS & {str(step) for step in parsed.path}:
        return item
    masked = {"path": list(parsed.path), "value": NOT_STORED}
    masked.update({k: v for k, v in (("kind", parsed.kind), ("name", parsed.name)) if v})
    return masked


def has_marker(data: Any) -> bool:
    if isinstance(data, Mapping):
        return any(has_marker(v) for v in data.values())
    if isinstance(data, list):
        return any(has_marker(v) for v in data)
    return bool(data == NOT_STORED)


def register_secret_data(obj: Mapping[str, Any]) -> None:
    """A Secret's values, in the descriptors or live, are secrets (data also decoded)."""
    if obj.get("kind") != "Secret":
        return
    for key in SECRET_FIELDS:
        for value in (obj.get(key) or {}).values():
            register_secret(value if isinstance(value, str) else None)
            if key != "stringData" and isinstance(value, str):
                register_secret(decoded(value))


def decoded(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def as_live(live: Mapping[str, Any]) -> dict[str, Any]:
    """A live object with its Secret data also readable as stringData (decoded)."""
    result = dict(live)
    if result.get("kind") == "Secret" and isinstance(result.get("data"), Mapping):
        result["stringData"] = {k: decoded(v) for k, v in result["data"].items()
                                if isinstance(v, str)}
    return result


def restore(backend: ClusterBackend, objects: list[dict[str, Any]], default_namespace: str,
            strict: bool = True) -> list[dict[str, Any]]:
    """`objects` with every NOT_STORED value taken from the live object (see the docstring).
    Not `strict` (a drift check): a value the live object lacks keeps its marker, and the
    check reports the object missing or the field different."""
    result = []
    for obj in objects:
        register_secret_data(obj)
        if not has_marker(obj):
            result.append(obj)
            continue
        ref = ObjectRef.of(place(backend, obj, default_namespace))
        live = backend.get(ref)
        filled = fill(obj, as_live(live) if live else None, "", str(ref), strict)
        register_secret_data(filled)
        result.append(filled)
    return result


def fill(desired: Any, live: Any, path: str, where: str, strict: bool = True) -> Any:
    if isinstance(desired, Mapping):
        have = live if isinstance(live, Mapping) else {}
        return {k: fill(v, have.get(k), f"{path}.{k}" if path else str(k), where, strict)
                for k, v in desired.items()}
    if isinstance(desired, list):
        return [fill(item, live_item(live, item, i), f"{path}[{i}]", where, strict)
                for i, item in enumerate(desired)]
    if desired != NOT_STORED:
        return desired
    if live is None and not strict:
        return desired
    if live is None:
        raise UserError(f"{where}: {path} came from an operation input, whose value is not "
                        f"kept, and the live object does not have it: give it again as an "
                        f"input, or set it in the node's properties (get_secret works there)")
    register_secret(live if isinstance(live, str) else None)
    return live


def live_item(live: Any, item: Any, index: int) -> Any:
    """The live counterpart of a list item: by name when it has one (env, containers)."""
    if not isinstance(live, list):
        return None
    if isinstance(item, Mapping) and "name" in item:
        return next((x for x in live if isinstance(x, Mapping) and x.get("name") == item["name"]),
                    None)
    return live[index] if index < len(live) else None
