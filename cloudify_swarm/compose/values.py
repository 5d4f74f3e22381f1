"""Compose value conversions (durations, image references, resources, restart and update
policies) into the Engine API shape, as the docker CLI converts them. Pure: no I/O, no ctx."""
from __future__ import annotations

import math
import re
from typing import Any

from cloudify_shared import limits
from cloudify_shared.errors import UserError
from cloudify_swarm.compose import keys
from cloudify_swarm.spec.values import nanos, parse_bytes

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")
_SCALE = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_DOMAIN = re.compile(r"^(localhost|[^/]*[.:][^/]*)$")
_RESTART = {"always": "any", "unless-stopped": "any", "on-failure": "on-failure"}


def duration(value: Any, path: str) -> float:
    """'1m30s', '500ms', 10 -> seconds; like every duration a blueprint gives, not negative
    and at most the administrator's bound (cloudify_shared.limits.duration)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise UserError(f"{path}: {value!r} is not a duration (e.g. 10s, 1m30s, 500ms)")
        return float(limits.duration(float(value), path))
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise UserError(f"{path}: {value!r} is not a duration (e.g. 10s, 1m30s, 500ms)")
    return float(limits.duration(sum(float(n) * _SCALE[u] for n, u in parts), path))


def compose_duration(value: Any, path: str) -> float:
    """A compose duration: a string, as docker's schema says ("10s", "1m30s"; "0" alone may
    go without a unit, as in Go's time.ParseDuration); a YAML number is refused."""
    if not isinstance(value, str):
        raise UserError(f"{path}: {value!r} must be a string with a unit (e.g. '10s', '1m30s'), "
                        "as docker's compose schema says")
    return 0.0 if value.strip() == "0" else duration(value, path)


def integer(value: Any, path: str) -> int:
    """An integer, or a string of one (interpolation leaves strings: replicas: ${N})."""
    if (isinstance(value, bool) or not isinstance(value, (int, str))
            or not str(value).strip().lstrip("-").isdigit()):
        raise UserError(f"{path}: {value!r} is not an integer")
    return int(value)


def number(value: Any, path: str) -> float:
    if isinstance(value, bool):
        raise UserError(f"{path}: {value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise UserError(f"{path}: {value!r} is not a number") from error


def compose_str_list(value: Any, path: str) -> list[str]:
    """A string or a list of strings; docker's schema refuses a number in such a list
    (`command: [sleep, 3600]`: "command.1 must be a string"), and so do we, naming it."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise UserError(f"{path}: expected a string or a list of strings")
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise UserError(f"{path}[{index}]: must be a string (quote it: '{item}'), as "
                            "docker's compose schema says")
    return list(items)


def normalize_image(image: Any, path: str) -> str:
    """The reference as docker sends it with --resolve-image never: docker.io/ and library/
    dropped, :latest added to a bare name (docker's familiar, tagged form)."""
    if not isinstance(image, str) or not image:
        raise UserError(f"{path}: a service needs an image (Swarm does not build one)")
    name, at, digest = image.partition("@")
    first, _, rest = name.partition("/")
    if rest and _DOMAIN.match(first):
        domain, remainder = first, rest
    else:
        domain, remainder = "docker.io", name
    repository, colon, tag = remainder.rpartition(":") if ":" in remainder else (remainder, "", "")
    if not repository or repository != repository.lower() or " " in image:
        raise UserError(f"{path}: {image!r}: invalid reference format (the repository name "
                        "must be lowercase)")
    if domain in ("docker.io", "index.docker.io"):
        domain = ""
        if repository.startswith("library/") and repository.count("/") == 1:
            repository = repository[len("library/"):]
    result = f"{domain}/{repository}" if domain else repository
    if colon:
        result += f":{tag}"
    elif not at:
        result += ":latest"
    return result + (f"@{digest}" if at else "")


def _cpus(value: Any, path: str) -> int:
    if not isinstance(value, str):
        raise UserError(f"{path}: must be a string (e.g. '0.5'), as docker's compose schema says")
    return nanos(number(value, path))


def resources(value: Any, path: str) -> dict[str, Any]:
    if not value:
        return {}
    keys.check_keys(value, set(keys.RESOURCE_KEYS), path, extensions=False)
    api: dict[str, Any] = {}
    for part, name in (("limits", "Limits"), ("reservations", "Reservations")):
        values = value.get(part) or {}
        keys.check_keys(values, keys.RESOURCE_KEYS[part], f"{path}.{part}", extensions=False)
        result: dict[str, Any] = {}
        if values.get("cpus") is not None:
            result["NanoCPUs"] = _cpus(values["cpus"], f"{path}.{part}.cpus")
        if values.get("memory") is not None:
            result["MemoryBytes"] = parse_bytes(values["memory"], f"{path}.{part}.memory")
        generic = generic_resources(values.get("generic_resources"),
                                    f"{path}.{part}.generic_resources")
        if generic:
            result["GenericResources"] = generic
        if result:
            api[name] = result
    return api


def generic_resources(value: Any, path: str) -> list[dict[str, Any]]:
    result = []
    for index, item in enumerate(value or []):
        keys.check_keys(item, {"discrete_resource_spec"}, f"{path}[{index}]", extensions=False)
        spec = item.get("discrete_resource_spec") or {}
        keys.check_keys(spec, {"kind", "value"}, f"{path}[{index}].discrete_resource_spec",
                        extensions=False)
        result.append({"DiscreteResourceSpec": {
            "Kind": str(spec.get("kind")),
            "Value": integer(spec.get("value"), f"{path}[{index}].value")}})
    return result


def restart_policy(restart: Any, policy: Any, path: str) -> dict[str, Any]:
    """deploy.restart_policy, else the service's `restart` (docker's fallback: always and
    unless-stopped -> any, on-failure[:N] -> on-failure with N attempts, no -> not set)."""
    if policy is not None:
        where = f"{path}.deploy.restart_policy"
        keys.check_keys(policy, keys.RESTART_KEYS, where, extensions=False)
        result: dict[str, Any] = {}
        if policy.get("condition") is not None:
            if policy["condition"] not in ("none", "on-failure", "any"):
                raise UserError(f"{path}.deploy.restart_policy.condition: {policy['condition']!r} "
                                "is not one of none, on-failure, any")
            result["Condition"] = policy["condition"]
        for key, api in (("delay", "Delay"), ("window", "Window")):
            if policy.get(key) is not None:
                result[api] = nanos(compose_duration(policy[key], f"{where}.{key}"))
        if policy.get("max_attempts") is not None:
            result["MaxAttempts"] = integer(policy["max_attempts"], f"{where}.max_attempts")
        return result
    if restart in (None, "", "no"):
        return {}
    name, _, count = str(restart).partition(":")
    if name not in _RESTART or (count and (name != "on-failure" or not count.isdigit())):
        raise UserError(f"{path}.restart: unknown restart policy {restart!r}")
    result = {"Condition": _RESTART[name]}
    if name == "on-failure":
        result["MaxAttempts"] = int(count or 0)
    return result


def update_config(value: Any, path: str) -> dict[str, Any]:
    """update_config / rollback_config; parallelism 1 unless given, as docker sends it."""
    value = value or {}
    keys.check_keys(value, keys.UPDATE_KEYS, path, extensions=False)
    result: dict[str, Any] = {"Parallelism": integer(value.get("parallelism", 1),
                                                     f"{path}.parallelism")}
    for key, api in (("delay", "Delay"), ("monitor", "Monitor")):
        if value.get(key) is not None:
            result[api] = nanos(compose_duration(value[key], f"{path}.{key}"))
    for key, api in (("failure_action", "FailureAction"), ("order", "Order")):
        if value.get(key) is not None:
            result[api] = str(value[key])
    if value.get("max_failure_ratio") is not None:
        result["MaxFailureRatio"] = number(value["max_failure_ratio"], f"{path}.max_failure_ratio")
    return result
