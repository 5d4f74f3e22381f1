"""Parsing Microservice, Container and Port settings and assembling an Engine API ServiceSpec.

Pure: no I/O, no ctx, no docker import. Every problem raises UserError naming the field by its
dotted path (the caller prefixes the node). The built spec is the raw Engine API shape
(`Name`, `Labels`, `TaskTemplate`, `Mode`, `EndpointSpec`, ...), so it can be compared with
what the engine reports and sent through docker-py's low-level create/update calls.
"""
from __future__ import annotations

import re
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

NANO = 1_000_000_000
_BYTES = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
# A Swarm service name: 1-63 characters, letters, digits, '-' and '_', a letter or digit at both
# ends. Linear time (issue 24): the length is checked before the pattern, and the pattern has
# one starred class followed by one character, so a failed match backtracks at most once per
# character (the earlier `(?:[-_]*[A-Za-z0-9]+)*` took exponential time on 40 characters).
MAX_SERVICE_NAME = 63
_SERVICE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")


def valid_service_name(name: str) -> bool:
    return 0 < len(name) <= MAX_SERVICE_NAME and _SERVICE_NAME.fullmatch(name) is not None


def parse_bytes(value: Any, path: str) -> int:
    """64M, 1.5g, 1048576 -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _BYTES.match(str(value).strip())
    if not match:
        raise UserError(f"{path}: {value!r} is not a size (e.g. 67108864, 64M, 1G)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def nanos(value: float) -> int:
    return int(value * NANO)


def _port_number(value: int, path: str) -> int:
    if not 1 <= value <= 65535:
        raise UserError(f"{path}: {value} is not a port number (1-65535)")
    return value


def _str_list(value: Any, path: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise UserError(f"{path}[{index}]: expected a string, got {item!r}")
    return list(items)


# ----------------------------------------------------------------------------- ports

PORT_FIELDS = {
    "target": Field((int,), required=True, check=_port_number),
    "published": Field((int,), check=_port_number),
    "protocol": Field((str,), default="tcp", choices=("tcp", "udp", "sctp")),
    "mode": Field((str,), default="ingress", choices=("ingress", "host")),
}


@dataclass(frozen=True)
class PortSpec:
    target: int
    published: int | None = None
    protocol: str = "tcp"
    mode: str = "ingress"

    def api(self) -> dict[str, Any]:
        port: dict[str, Any] = {"TargetPort": self.target, "Protocol": self.protocol,
                                "PublishMode": self.mode}
        if self.published is not None:
            port["PublishedPort"] = self.published
        return port


def parse_port(data: Any, path: str) -> PortSpec:
    return PortSpec(**parse_mapping(data, PORT_FIELDS, path))


def parse_ports(data: Any, path: str) -> list[PortSpec]:
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a list of ports")
    return [parse_port(item, f"{path}[{i}]") for i, item in enumerate(data)]


def check_ports(ports: list[PortSpec], endpoint_mode: str, path: str) -> None:
    seen: set[tuple[int, str]] = set()
    for port in ports:
        if port.published is not None:
            key = (port.published, port.protocol)
            if key in seen:
                raise UserError(f"{path}: published port {port.published}/{port.protocol} is used twice")
            seen.add(key)
        if endpoint_mode == "dnsrr" and port.mode == "ingress":
            raise UserError(f"{path}: port {port.target} uses ingress publishing, which "
                            "endpoint_mode 'dnsrr' does not allow (use mode: host)")


# ----------------------------------------------------------------------------- container

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
    "entrypoint": Field((str, list), check=_str_list),
    "command": Field((str, list), check=_str_list),
    "args": Field((list,), default=[], check=_str_list),
    "env": Field((dict,), default={}),
    "workdir": Field((str,)),
    "user": Field((str,)),
    "hostname": Field((str,)),
    "labels": Field((dict,), default={}),
    "mounts": Field((list,), default=[]),
    "healthcheck": Field((dict,)),
    "cap_add": Field((list,), default=[], check=_str_list),
    "cap_drop": Field((list,), default=[], check=_str_list),
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
                             else _str_list(test, f"{path}.test")}
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
    values["mounts"] = [parse_mount(m, f"{path}.mounts[{i}]") for i, m in enumerate(values["mounts"])]
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
        "StopGracePeriod": nanos(spec.stop_grace_period) if spec.stop_grace_period is not None else None,
    }
    api.update({k: v for k, v in optional.items() if v is not None})
    return api
