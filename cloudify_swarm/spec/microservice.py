"""A Microservice's settings: a Microservice node's properties (or a compose service's deploy
section, as the compose parser hands it over) validated into a frozen Microservice, and back
from the runtime properties its create recorded. UserError names the field. Pure: no I/O, no ctx.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.limits import duration
from cloudify_shared.redaction import register_secret
from cloudify_shared.validation import Field, non_negative, parse_mapping, string_mapping
from cloudify_swarm.spec.ports import PortSpec, parse_port
from cloudify_swarm.spec.values import (
    ROOT_PROPERTIES,
    nanos,
    parse_bytes,
    property_str_list,
    valid_service_name,
)

RESOURCE_FIELDS = {"cpus": Field((float,), check=non_negative), "memory": Field((int, str))}
RESTART_FIELDS = {
    "condition": Field((str,), default="any", choices=("none", "on-failure", "any")),
    "delay": Field((float,), check=duration),
    "max_attempts": Field((int,), check=non_negative),
    "window": Field((float,), check=duration),
}
UPDATE_FIELDS = {
    "parallelism": Field((int,), check=non_negative),
    "delay": Field((float,), check=duration),
    "failure_action": Field((str,), choices=("pause", "continue", "rollback")),
    "monitor": Field((float,), check=duration),
    "max_failure_ratio": Field((float,), check=non_negative),
    "order": Field((str,), choices=("stop-first", "start-first")),
}
NETWORK_FIELDS = {
    "name": Field((str,), required=True),
    "create": Field((bool,), default=False),
    "driver": Field((str,), default="overlay"),
    "attachable": Field((bool,), default=True),
    "aliases": Field((list,), default=[], check=property_str_list),
}
SECRET_FIELDS = {
    "name": Field((str,), required=True),
    "data": Field((str,)),
    "file": Field((str,)),
    "target": Field((str,)),
    "create": Field((bool,)),
}
CONVERGENCE_FIELDS = {
    "stability_seconds": Field((float,), default=1.5, check=duration),
    "timeout": Field((float,), default=300.0, check=duration),
}
MICROSERVICE_FIELDS = {
    "name": Field((str,), default=""),
    "mode": Field((str,), default="replicated", choices=("replicated", "global")),
    "replicas": Field((int,), default=1, check=non_negative),
    "labels": Field((dict,), default={}),
    "constraints": Field((list,), default=[], check=property_str_list),
    "preferences": Field((list,), default=[], check=property_str_list),
    "resources": Field((dict,), default={}),
    "restart_policy": Field((dict,), default={}),
    "update_config": Field((dict,), default={}),
    "rollback_config": Field((dict,), default={}),
    "networks": Field((list,), default=[]),
    "endpoint_mode": Field((str,), default="vip", choices=("vip", "dnsrr")),
    "secrets": Field((list,), default=[]),
    "configs": Field((list,), default=[]),
    "compose_file": Field((str,), default=""),
    "stack_name": Field((str,), default=""),
    "compose_variables": Field((dict,), default={}),
    "convergence": Field((dict,), default={}),
    "swarm_info_key": Field((str,), default="swarm_info"),
    "ports": Field((list,), default=[]),
}


@dataclass(frozen=True)
class NetworkRef:
    name: str
    create: bool = False
    driver: str = "overlay"
    attachable: bool = True
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SecretRef:
    """A secret or config the service mounts; created (with our labels) when data/file is given."""

    name: str
    data: str | None = None
    file: str | None = None
    target: str | None = None
    create: bool = False


@dataclass(frozen=True)
class Convergence:
    stability_seconds: float = 1.5
    timeout: float = 300.0


@dataclass(frozen=True)
class Microservice:
    name: str
    mode: str = "replicated"
    replicas: int = 1
    labels: dict[str, str] = field(default_factory=dict)
    constraints: list[str] = field(default_factory=list)
    preferences: list[str] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)
    restart_policy: dict[str, Any] = field(default_factory=dict)
    update_config: dict[str, Any] = field(default_factory=dict)
    rollback_config: dict[str, Any] = field(default_factory=dict)
    networks: list[NetworkRef] = field(default_factory=list)
    endpoint_mode: str = "vip"
    secrets: list[SecretRef] = field(default_factory=list)
    configs: list[SecretRef] = field(default_factory=list)
    compose_file: str = ""
    stack_name: str = ""
    compose_variables: dict[str, str] = field(default_factory=dict)
    convergence: Convergence = Convergence()
    swarm_info_key: str = "swarm_info"
    ports: list[PortSpec] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """For runtime properties: secret and config contents are left out (names only)."""
        data = asdict(self)
        # names only: a value may come from get_secret
        data["compose_variables"] = dict.fromkeys(self.compose_variables)
        for key in ("secrets", "configs"):
            for ref in data[key]:
                ref["data"] = None
        return data


def parse_network(data: Any, path: str) -> NetworkRef:
    return NetworkRef(**parse_mapping({"name": data} if isinstance(data, str) else data,
                                      NETWORK_FIELDS, path))


def parse_secret(data: Any, path: str) -> SecretRef:
    values = parse_mapping({"name": data} if isinstance(data, str) else data, SECRET_FIELDS, path)
    register_secret(values["data"])  # configs too: harmless, and their data may be sensitive
    if values["data"] is not None and values["file"] is not None:
        raise UserError(f"{path}: set either data or file, not both")
    if values["create"] is None:
        values["create"] = values["data"] is not None or values["file"] is not None
    if values["create"] and values["data"] is None and values["file"] is None:
        raise UserError(f"{path}: create needs data or file")
    return SecretRef(**values)


def _api_mapping(values: dict[str, Any], names: dict[str, str],
                 durations: set[str]) -> dict[str, Any]:
    return {names[k]: (nanos(v) if k in durations else v)
            for k, v in values.items() if v is not None}


def _resources(data: Any, path: str) -> dict[str, Any]:
    parsed = parse_mapping(data, {"limits": Field((dict,), default={}),
                                  "reservations": Field((dict,), default={})}, path)
    api: dict[str, Any] = {}
    for key, name in (("limits", "Limits"), ("reservations", "Reservations")):
        values = parse_mapping(parsed[key], RESOURCE_FIELDS, f"{path}.{key}")
        part: dict[str, Any] = {}
        if values["cpus"] is not None:
            part["NanoCPUs"] = nanos(values["cpus"])
        if values["memory"] is not None:
            part["MemoryBytes"] = parse_bytes(values["memory"], f"{path}.{key}.memory")
        if part:
            api[name] = part
    return api


RESTART_NAMES = {"condition": "Condition", "delay": "Delay", "max_attempts": "MaxAttempts",
                 "window": "Window"}
UPDATE_NAMES = {"parallelism": "Parallelism", "delay": "Delay", "failure_action": "FailureAction",
                "monitor": "Monitor", "max_failure_ratio": "MaxFailureRatio", "order": "Order"}


def _update_config(data: Any, path: str, rollback: bool) -> dict[str, Any]:
    values = parse_mapping(data, UPDATE_FIELDS, path)
    if rollback and values["failure_action"] == "rollback":
        raise UserError(f"{path}.failure_action: a rollback cannot itself roll back")
    return _api_mapping(values, UPDATE_NAMES, {"delay", "monitor"})


def _check_name(name: str, path: str) -> str:
    if name and not valid_service_name(name):
        shown = name if len(name) <= 80 else f"{name[:80]}... ({len(name)} characters)"
        raise UserError(f"{path}: {shown!r} is not a valid service name (1-63 letters, digits, "
                        "'-' or '_', a letter or digit at both ends)")
    return name


def parse_microservice(data: Any, path: str = "properties") -> Microservice:
    data = {k: v for k, v in dict(data or {}).items() if k not in ROOT_PROPERTIES}
    values = parse_mapping(data, MICROSERVICE_FIELDS, path)
    values["name"] = _check_name(values["name"], f"{path}.name")
    values["stack_name"] = _check_name(values["stack_name"], f"{path}.stack_name")
    values["compose_variables"] = string_mapping(values["compose_variables"],
                                                 f"{path}.compose_variables")
    values["labels"] = string_mapping(values["labels"], f"{path}.labels")
    values["resources"] = _resources(values["resources"], f"{path}.resources")
    values["restart_policy"] = _api_mapping(
        parse_mapping(values["restart_policy"], RESTART_FIELDS, f"{path}.restart_policy"),
        RESTART_NAMES, {"delay", "window"}) if values["restart_policy"] else {}
    for key, rollback in (("update_config", False), ("rollback_config", True)):
        values[key] = _update_config(values[key], f"{path}.{key}", rollback)
    for key, parse in (("networks", parse_network), ("secrets", parse_secret),
                       ("configs", parse_secret)):
        values[key] = [parse(item, f"{path}.{key}[{i}]") for i, item in enumerate(values[key])]
    values["convergence"] = Convergence(**parse_mapping(values["convergence"], CONVERGENCE_FIELDS,
                                                        f"{path}.convergence"))
    values["ports"] = [parse_port(p, f"{path}.ports[{i}]") for i, p in enumerate(values["ports"])]
    # plugin.yaml's default (1) is always present, so only another count is a contradiction
    if values["mode"] == "global" and values["replicas"] != 1:
        raise UserError(f"{path}.replicas: not allowed with mode 'global'")
    return Microservice(**values)


def microservice_from_dict(data: dict[str, Any]) -> Microservice:
    """The inverse of Microservice.to_dict (runtime properties -> dataclass)."""
    values = dict(data)
    values["networks"] = [NetworkRef(**n) for n in values["networks"]]
    values["secrets"] = [SecretRef(**s) for s in values["secrets"]]
    values["configs"] = [SecretRef(**s) for s in values["configs"]]
    values["convergence"] = Convergence(**values["convergence"])
    values["ports"] = [PortSpec(**p) for p in values["ports"]]
    return Microservice(**values)
