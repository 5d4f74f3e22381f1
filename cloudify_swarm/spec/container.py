"""A Container's settings (a Container node's properties, or a compose service's as the compose
parser hands them over) and their Engine API ContainerSpec shape. Pure: no I/O, no ctx."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.limits import duration
from cloudify_shared.validation import (
    Field,
    apply_aliases,
    non_negative,
    parse_mapping,
    string_mapping,
)
from cloudify_swarm.spec.values import nanos, property_str_list

MOUNT_FIELDS = {
    "type": Field((str,), default="volume", choices=("bind", "volume", "tmpfs")),
    "source": Field((str,)),
    "target": Field((str,), required=True),
    "read_only": Field((bool,), default=False),
}

HEALTHCHECK_FIELDS = {
    "test": Field((str, list), required=True),
    "interval": Field((float,), default=None, check=duration),
    "timeout": Field((float,), default=None, check=duration),
    "retries": Field((int,), default=None, check=non_negative),
    "start_period": Field((float,), default=None, check=duration),
}

CONTAINER_FIELDS = {
    "image": Field((str,), required=True),
    "entrypoint": Field((str, list), check=property_str_list),
    "command": Field((str, list), check=property_str_list),
    "args": Field((list,), default=[], check=property_str_list),
    "env": Field((dict,), default={}),
    "workdir": Field((str,)),
    "user": Field((str,)),
    "hostname": Field((str,)),
    "labels": Field((dict,), default={}),
    "mounts": Field((list,), default=[]),
    "healthcheck": Field((dict,)),
    "cap_add": Field((list,), default=[], check=property_str_list),
    "cap_drop": Field((list,), default=[], check=property_str_list),
    "init": Field((bool,)),
    "tty": Field((bool,), default=False),
    "read_only": Field((bool,), default=False),
    "stop_signal": Field((str,)),
    "stop_grace_period": Field((float,), check=duration),
}


@dataclass(frozen=True)
class ContainerSpec:
    image: str
    entrypoint: list[str] | None = None
    command: list[str] | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str | None = None
    user: str | None = None
    hostname: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    mounts: list[dict[str, Any]] = field(default_factory=list)
    healthcheck: dict[str, Any] | None = None
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    init: bool | None = None
    tty: bool = False
    read_only: bool = False
    stop_signal: str | None = None
    stop_grace_period: float | None = None


def parse_mount(data: Any, path: str) -> dict[str, Any]:
    values = parse_mapping(data, MOUNT_FIELDS, path)
    if values["type"] != "tmpfs" and not values["source"]:
        raise UserError(f"{path}.source: required for a {values['type']} mount")
    mount = {"Type": values["type"], "Target": values["target"], "ReadOnly": values["read_only"]}
    if values["source"]:
        mount["Source"] = values["source"]
    return mount


def parse_healthcheck(data: Any, path: str) -> dict[str, Any]:
    values = parse_mapping(data, HEALTHCHECK_FIELDS, path)
    test = values["test"]
    check: dict[str, Any] = {"Test": ["CMD-SHELL", test] if isinstance(test, str)
                             else property_str_list(test, f"{path}.test")}
    for key, api in (("interval", "Interval"), ("timeout", "Timeout"),
                     ("start_period", "StartPeriod")):
        if values[key] is not None:
            check[api] = nanos(values[key])
    if values["retries"] is not None:
        check["Retries"] = values["retries"]
    return check


# the 2016 swarm plugin's property names, still accepted (plugin_1_5.yaml documents them)
CONTAINER_ALIASES = {"entry_point": "entrypoint"}


def parse_container(data: Any, path: str, env_override: Any = None) -> ContainerSpec:
    """Container properties; `env_override` (operation inputs) wins over `env`."""
    values = parse_mapping(apply_aliases(data, CONTAINER_ALIASES, path), CONTAINER_FIELDS, path)
    env = string_mapping(values["env"], f"{path}.env")
    if env_override:
        env.update(string_mapping(env_override, "inputs.env"))
    values["env"] = env
    values["labels"] = string_mapping(values["labels"], f"{path}.labels")
    values["mounts"] = [parse_mount(m, f"{path}.mounts[{i}]")
                        for i, m in enumerate(values["mounts"])]
    # empty = not set: the typed plugin yaml gives an absent healthcheck as {}
    values["healthcheck"] = (parse_healthcheck(values["healthcheck"], f"{path}.healthcheck")
                             if values["healthcheck"] else None)
    return ContainerSpec(**values)


def container_api(spec: ContainerSpec, labels: dict[str, str]) -> dict[str, Any]:
    """ContainerSpec in the Engine API shape; entrypoint -> Command, command + args -> Args."""
    api: dict[str, Any] = {
        "Image": spec.image,
        "Env": [f"{k}={v}" for k, v in sorted(spec.env.items())],
        "Labels": {**spec.labels, **labels},
    }
    optional = {
        "Command": spec.entrypoint, "Args": (spec.command or []) + spec.args or None,
        "Dir": spec.workdir, "User": spec.user, "Hostname": spec.hostname,
        "Mounts": spec.mounts or None, "HealthCheck": spec.healthcheck,
        "CapabilityAdd": spec.cap_add or None, "CapabilityDrop": spec.cap_drop or None,
        "Init": spec.init, "TTY": spec.tty or None, "ReadOnly": spec.read_only or None,
        "StopSignal": spec.stop_signal,
        "StopGracePeriod": (nanos(spec.stop_grace_period)
                            if spec.stop_grace_period is not None else None),
    }
    api.update({k: v for k, v in optional.items() if v is not None})
    return api
