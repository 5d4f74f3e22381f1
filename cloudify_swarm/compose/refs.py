"""A compose service's references to the stack's networks, secrets and configs, resolved to
engine names as the docker CLI resolves them. Pure: no I/O, no ctx."""
from __future__ import annotations

import re
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_swarm.compose import keys
from cloudify_swarm.compose.strings import string_map
from cloudify_swarm.compose.values import compose_str_list


def parse_file_refs(value: Any, kind: str, names: dict[tuple[str, str], str],
                    path: str) -> list[dict[str, Any]]:
    """The secrets/configs a compose service mounts (`kind`: secret or config), each by its
    engine name with the File it is mounted as: target defaults to the source's key, uid/gid 0,
    mode 0444 (spec.service.file_refs adds the ids)."""
    result = []
    for index, item in enumerate(value or []):
        where = f"{path}[{index}]"
        item = {"source": item} if isinstance(item, str) else dict(item)
        keys.check_keys(item, keys.FILE_REF_KEYS, where)
        source = str(item.get("source"))
        if (kind, source) not in names:
            raise UserError(f"{where}: {kind} {source!r} is not declared under {kind}s")
        mode = item.get("mode", 0o444)
        if isinstance(mode, bool) or not isinstance(mode, (int, str)) or (
                isinstance(mode, str) and not re.fullmatch(r"[0-7]+", mode)):
            raise UserError(f"{where}.mode: {mode!r} is not a file mode (e.g. 0440)")
        result.append({"name": names[(kind, source)], "File": {
            "Name": str(item.get("target") or source), "UID": str(item.get("uid") or "0"),
            "GID": str(item.get("gid") or "0"),
            "Mode": int(mode, 8) if isinstance(mode, str) else int(mode)}})
    return result


# networks that are not user-defined (Go's container.NetworkMode.IsUserDefined): no aliases
BUILTIN_NETWORKS = {"default", "bridge", "host", "none"}


def user_defined(name: str) -> bool:
    return name not in BUILTIN_NETWORKS and not name.startswith("container:")


def service_networks(value: Any, service: str, names: dict[tuple[str, str], str],
                     path: str) -> list[dict[str, Any]]:
    """The service's networks, each with the service's short name as an alias when the network
    is user-defined (as the CLI does: not on host, bridge, none)."""
    if not value:
        value = ["default"]
    items = value.items() if isinstance(value, dict) else ((k, None) for k in value)
    result = []
    for key, options in items:
        if ("network", key) not in names:
            raise UserError(f"{path}: network {key!r} is not declared under networks")
        keys.check_keys(options or {}, keys.SERVICE_NETWORK_KEYS, f"{path}.{key}")
        name = names[("network", key)]
        aliases = compose_str_list((options or {}).get("aliases") or [], f"{path}.{key}.aliases")
        result.append({"name": name,
                       "aliases": [*aliases, service] if user_defined(name) else aliases})
    return sorted(result, key=lambda n: n["name"])


def network_driver_opts(value: Any, names: dict[tuple[str, str], str],
                        path: str) -> dict[str, dict[str, str]]:
    """A service's per-network driver_opts (format 3.13), by the network's engine name, as
    strings (strings.py); service_networks checked the networks are declared."""
    if not isinstance(value, dict):
        return {}
    return {names[("network", key)]: string_map(options["driver_opts"], f"{path}.{key}.driver_opts",
                                                lists=False, nulls=False)
            for key, options in value.items()
            if isinstance(options, dict) and options.get("driver_opts")}
