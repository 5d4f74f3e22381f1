"""The rules of docker's compose schema that depend on the file's own `version` (3.0 to 3.13;
"3" or none: the latest), and the types docker's schema gives the keys Swarm ignores.

Read from docker/cli's cli/compose/schema/data/config_schema_v3.*.json (docker 28): a key a
later format added is refused in an earlier one, as `docker stack deploy` refuses it ("Additional
property tmpfs is not allowed"). Keys Swarm does not use are logged, never refused
(keys.py), but docker still checks their types: a format-3 `depends_on` must be a list
(the mapping with conditions is format 2's), `privileged` a boolean, and so on. Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from cloudify_shared.errors import UserError

LATEST = 13

# path -> the first 3.x minor version whose schema has it ("*": any key, "[]": any list item)
SINCE: dict[str, int] = {
    "secrets": 1, "services.*.secrets": 1,
    "networks.*.attachable": 2, "services.*.deploy.endpoint_mode": 2,
    "services.*.ports[].target": 2, "services.*.ports[].published": 2,
    "services.*.ports[].protocol": 2, "services.*.ports[].mode": 2,
    "services.*.volumes[].type": 2, "services.*.volumes[].source": 2,
    "services.*.volumes[].target": 2,
    "configs": 3, "services.*.configs": 3, "services.*.credential_spec": 3,
    "services.*.deploy.placement.preferences": 3,
    "services.*.deploy.update_config.order": 4, "services.*.healthcheck.start_period": 4,
    "volumes.*.name": 4,
    "configs.*.name": 5, "networks.*.name": 5, "secrets.*.name": 5, "services.*.isolation": 5,
    "services.*.deploy.resources.reservations.generic_resources": 5,
    "services.*.volumes[].tmpfs": 6,
    "services.*.deploy.rollback_config": 7, "services.*.init": 7,
    "configs.*.template_driver": 8, "secrets.*.template_driver": 8, "secrets.*.driver": 8,
    "secrets.*.driver_opts": 8, "services.*.credential_spec.config": 8,
    "services.*.deploy.placement.max_replicas_per_node": 8,
    "services.*.cgroupns_mode": 9,
    "services.*.healthcheck.start_interval": 12,
    "services.*.networks.*.driver_opts": 13,
}

STRING, BOOLEAN, STRINGS = "a string", "true or false", "a list of strings"
# keys Swarm uses whose scalar type docker's schema checks (a YAML number or `yes` is refused)
USED_TYPES: dict[str, str] = {
    "user": STRING, "working_dir": STRING, "hostname": STRING, "stop_signal": STRING,
    "isolation": STRING,
    "tty": BOOLEAN, "read_only": BOOLEAN, "stdin_open": BOOLEAN, "init": BOOLEAN,
}
# keys Swarm ignores, with the type docker's schema checks them for (build and expose: below)
IGNORED_TYPES: dict[str, str] = {
    "cgroupns_mode": STRING, "cgroup_parent": STRING, "domainname": STRING, "ipc": STRING,
    "mac_address": STRING, "network_mode": STRING, "userns_mode": STRING, "container_name": STRING,
    "privileged": BOOLEAN,
    "devices": STRINGS, "external_links": STRINGS, "links": STRINGS, "security_opt": STRINGS,
    "depends_on": STRINGS,
}


def minor_version(version: str) -> int:
    """'3.8' -> 8; '3' (docker: the latest) -> LATEST. The version is checked before."""
    _, _, minor = version.partition(".")
    return int(minor) if minor else LATEST


def found(data: Any, parts: list[str], path: str) -> Iterator[str]:
    """The paths in `data` that match `parts` (a SINCE key split at its dots)."""
    if not parts:
        yield path
        return
    head, rest = parts[0], parts[1:]
    name, listed = (head[:-2], True) if head.endswith("[]") else (head, False)
    if not isinstance(data, dict):
        return
    matches = [(k, v) for k, v in data.items() if not str(k).startswith("x-")] if name == "*" \
        else [(name, data[name])] if name in data else []
    for key, value in matches:
        where = f"{path}.{key}"
        if not listed:
            yield from found(value, rest, where)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from found(item, rest, f"{where}[{index}]")


def check_version_keys(data: dict[str, Any], version: str, where: str) -> None:
    """Refuse, naming it, the first key that the file's own format version does not have."""
    minor = minor_version(version)
    for rule, since in SINCE.items():
        if minor < since:
            for path in found(data, rule.split("."), where):
                raise UserError(f"{path}: not allowed in a version {version} file (docker's "
                                f"schema has it from 3.{since}): raise the file's version, or "
                                "take it out")


def is_unique_strings(value: Any) -> bool:
    return (isinstance(value, list) and all(isinstance(i, str) for i in value)
            and len(set(value)) == len(value))


def check_service_types(service: dict[str, Any], path: str) -> None:
    """A service's scalar keys, and the keys Swarm ignores, have the types docker's schema
    gives them (checked here, so the error names the compose key)."""
    for key, kind in {**USED_TYPES, **IGNORED_TYPES}.items():
        if key not in service:
            continue
        value = service[key]
        ok = (isinstance(value, str) if kind == STRING
              else isinstance(value, bool) if kind == BOOLEAN
              else is_unique_strings(value))
        if not ok:
            hint = (" (format 3 has no mapping with conditions)"
                    if key == "depends_on" and isinstance(value, dict) else "")
            repeats = " without repeats" if kind == STRINGS else ""
            raise UserError(f"{path}.{key}: must be {kind}{repeats}{hint}, as docker's compose "
                            "schema for format 3 says")
    for key, (test, kind) in OTHER_TYPES.items():
        if key in service and not test(service[key]):
            raise UserError(f"{path}.{key}: must be {kind}, as docker's compose schema for "
                            "format 3 says")


def is_string_or_null(value: Any) -> bool:
    return value is None or isinstance(value, str)


def is_string_or_number(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def is_string_or_strings(value: Any) -> bool:
    return isinstance(value, str) or is_unique_strings(value)


def is_string_or_mapping(value: Any) -> bool:
    return isinstance(value, (str, dict))


def is_strings_or_numbers(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, (str, int)) and not isinstance(i, bool)
                                           for i in value)


# other keys Swarm ignores whose type docker's schema checks: the test and what it takes
OTHER_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "pid": (is_string_or_null, "a string or null"),
    "shm_size": (is_string_or_number, "a string or a number"),
    "tmpfs": (is_string_or_strings, "a string or a list of strings"),
    "build": (is_string_or_mapping, "a string or a mapping"),
    "expose": (is_strings_or_numbers, "a list of strings or numbers"),
}
