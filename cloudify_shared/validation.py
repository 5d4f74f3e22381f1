"""Checking user input (node properties, operation inputs) before any backend call.

Every problem raises UserError naming the field by its dotted path; unknown keys are rejected
with the known ones listed. Plain Python: no I/O, no ctx.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cloudify_shared.errors import UserError

_MISSING = object()

TYPE_NAMES = {
    str: "a string", int: "an integer", float: "a number", bool: "a boolean",
    list: "a list", dict: "a mapping", type(None): "null",
}


@dataclass(frozen=True)
class Field:
    """One allowed key: accepted types, whether required, default, and an optional check."""

    types: tuple[type, ...]
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any, str], Any] | None = None  # returns the (possibly converted) value


def describe_types(types: tuple[type, ...]) -> str:
    return " or ".join(TYPE_NAMES.get(t, t.__name__) for t in types)


def type_name(value: Any) -> str:
    return TYPE_NAMES.get(type(value), type(value).__name__)


def check_type(value: Any, types: tuple[type, ...], path: str) -> Any:
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) and bool not in types:
        raise UserError(f"{path}: expected {describe_types(types)}, got a boolean ({value!r})")
    if not isinstance(value, types):
        raise UserError(f"{path}: expected {describe_types(types)}, "
                        f"got {type_name(value)} ({value!r})")
    return value


def reject_unknown(data: Mapping[str, Any], known: Mapping[str, Any], path: str) -> None:
    unknown = sorted(set(data) - set(known))
    if not unknown:
        return
    key = unknown[0]
    hint = difflib.get_close_matches(str(key), list(known), n=1)
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    raise UserError(
        f"{path}: unknown key '{key}'{suggestion}; allowed keys: {', '.join(sorted(known))}"
    )


def parse_mapping(data: Any, fields: Mapping[str, Field], path: str) -> dict[str, Any]:
    """Validate `data` against `fields`; return a new dict with defaults filled in."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise UserError(f"{path}: expected a mapping, got {type_name(data)} ({data!r})")
    reject_unknown(data, fields, path)
    result: dict[str, Any] = {}
    for name, field in fields.items():
        where = f"{path}.{name}"
        value = data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if field.required:
                raise UserError(f"{where}: required but not set")
            result[name] = field.default
            continue
        value = check_type(value, field.types, where)
        if field.choices is not None and value not in field.choices:
            allowed = ", ".join(repr(c) for c in field.choices)
            raise UserError(f"{where}: {value!r} is not one of {allowed}")
        if field.check is not None:
            value = field.check(value, where)
        result[name] = value
    return result


def non_negative(value: Any, path: str) -> Any:
    """A Field check: numbers must not be negative."""
    if value < 0:
        raise UserError(f"{path}: must not be negative, got {value!r}")
    return value


def render_scalar(item: Any) -> str:
    if item is None:
        return ""
    if isinstance(item, bool):
        return str(item).lower()
    return str(item)


def string_mapping(value: Any, path: str) -> dict[str, str]:
    """A mapping of names to values rendered as strings (env variables, labels).

    Scalars become their text (booleans lower-case, null empty); a list of scalars becomes its
    items joined by single spaces, so a list output of another deployment (say backend IPs,
    via get_attribute) can feed a shell-style variable such as SERVERS="10.0.0.2 10.0.0.3".
    """
    if not isinstance(value, Mapping):
        raise UserError(f"{path}: expected a mapping of names to values, got {type_name(value)}")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise UserError(f"{path}: keys must be non-empty strings, got {key!r}")
        if isinstance(item, list) and not any(isinstance(i, (dict, list)) for i in item):
            result[key] = " ".join(render_scalar(i) for i in item)
        elif isinstance(item, (dict, list)):
            raise UserError(f"{path}.{key}: expected a scalar or a list of scalars, "
                            f"got {type_name(item)}")
        else:
            result[key] = render_scalar(item)
    return result


def apply_aliases(data: Any, aliases: Mapping[str, str], path: str) -> Any:
    """`data` with each alias key (an older plugin's name, e.g. the 2016 swarm plugin's
    `entry_point`) renamed to its current name; setting both (non-null) is an error naming both.
    Anything but a mapping is returned as it is (parse_mapping reports it)."""
    if not isinstance(data, Mapping):
        return data
    result = dict(data)
    for old, new in aliases.items():
        if old not in result:
            continue
        value = result.pop(old)
        if value is None:
            continue
        if result.get(new) is not None:
            raise UserError(f"{path}.{old} and {path}.{new} are both set: {old} is the older name "
                            f"of {new}; set one of them")
        result[new] = value
    return result
