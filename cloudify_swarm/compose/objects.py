"""The creation options of a stack's networks, volumes, configs and secrets, as the docker
CLI's compose loader reads them (labels and driver_opts as strings: strings.py; ipam as
format 3's schema has it). Pure: no I/O, no ctx."""
from __future__ import annotations

from typing import Any

from cloudify_shared.errors import UserError
from cloudify_swarm.compose import keys
from cloudify_swarm.compose.strings import string_map


def object_options(kind: str, values: dict[str, Any], path: str) -> dict[str, Any]:
    """Creation options; labels and driver_opts as the strings docker's loader makes of them."""
    labels = string_map(values.get("labels"), f"{path}.labels")
    driver_opts = string_map(values.get("driver_opts"), f"{path}.driver_opts", lists=False,
                             nulls=False) or None
    if kind == "network":
        options: dict[str, Any] = {"driver": values.get("driver") or "overlay",
                                   "attachable": bool(values.get("attachable")),
                                   "internal": bool(values.get("internal")),
                                   "options": driver_opts, "extra_labels": labels}
        ipam = values.get("ipam")
        if ipam:
            options["ipam"] = ipam_config(ipam, f"{path}.ipam")
        return options
    if kind == "volume":
        return {"driver": values.get("driver") or "local", "declared_driver": values.get("driver"),
                "driver_opts": driver_opts, "extra_labels": labels}
    return {"extra_labels": labels}


def ipam_config(ipam: Any, path: str) -> dict[str, Any]:
    """driver and config[].subnet: all docker's schema takes (3.0 to 3.13 have no ipam options)."""
    keys.check_keys(ipam, {"driver", "config"}, path, extensions=False)
    config = ipam.get("config") or []
    if not isinstance(config, list):
        raise UserError(f"{path}.config: expected a list")
    for index, item in enumerate(config):
        keys.check_keys(item, {"subnet"}, f"{path}.config[{index}]", extensions=False)
    return {"Driver": ipam.get("driver") or "default", "Options": None,
            "Config": [{"Subnet": item.get("subnet")} for item in config]}
