"""Microservice settings and the assembly of a whole Engine API ServiceSpec.

Pure: no I/O, no ctx, no docker import. `parse_microservice` validates a Microservice node's
properties (UserError naming the field); `build_service_spec` joins them with the Container and
Port specs and the ownership labels into the raw shape docker-py's low-level API sends.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.limits import duration
from cloudify_shared.redaction import register_secret
from cloudify_shared.validation import Field, non_negative, parse_mapping, string_mapping
from cloudify_swarm.spec import (
    ContainerSpec,
    PortSpec,
    _str_list,
    check_ports,
    container_api,
    nanos,
    parse_bytes,
    parse_port,
    valid_service_name,
)

ROOT_PROPERTIES = ("use_external_resource", "resource_id")
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
    "aliases": Field((list,), default=[], check=_str_list),
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
    "constraints": Field((list,), default=[], check=_str_list),
    "preferences": Field((list,), default=[], check=_str_list),
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


def _api_mapping(values: dict[str, Any], names: dict[str, str], durations: set[str]) -> dict[str, Any]:
    return {names[k]: (nanos(v) if k in durations else v) for k, v in values.items() if v is not None}


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
    values["compose_variables"] = string_mapping(values["compose_variables"], f"{path}.compose_variables")
    values["labels"] = string_mapping(values["labels"], f"{path}.labels")
    values["resources"] = _resources(values["resources"], f"{path}.resources")
    values["restart_policy"] = _api_mapping(
        parse_mapping(values["restart_policy"], RESTART_FIELDS, f"{path}.restart_policy"),
        RESTART_NAMES, {"delay", "window"}) if values["restart_policy"] else {}
    values["update_config"] = _update_config(values["update_config"], f"{path}.update_config", False)
    values["rollback_config"] = _update_config(values["rollback_config"], f"{path}.rollback_config", True)
    values["networks"] = [parse_network(n, f"{path}.networks[{i}]") for i, n in enumerate(values["networks"])]
    values["secrets"] = [parse_secret(s, f"{path}.secrets[{i}]") for i, s in enumerate(values["secrets"])]
    values["configs"] = [parse_secret(s, f"{path}.configs[{i}]") for i, s in enumerate(values["configs"])]
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


def _placement(service: Microservice) -> dict[str, Any]:
    placement: dict[str, Any] = {}
    if service.constraints:
        placement["Constraints"] = list(service.constraints)
    if service.preferences:
        placement["Preferences"] = [{"Spread": {"SpreadDescriptor": p.split("=", 1)[-1]}}
                                    for p in service.preferences]
    return placement


def _file_refs(refs: list[SecretRef], ids: dict[str, str], kind: str) -> list[dict[str, Any]]:
    return [{f"{kind}ID": ids[r.name], f"{kind}Name": r.name,
             "File": {"Name": r.target or r.name, "UID": "0", "GID": "0", "Mode": 0o444}}
            for r in refs]


def host_ports_held(ports: list[PortSpec]) -> list[int]:
    """The published ports in host mode: a host port is held by one task at a time, so an
    update there must stop the old task before it starts the new one."""
    return sorted(p.published for p in ports if p.mode == "host" and p.published)


def update_config(service: Microservice, ports: list[PortSpec], keep_up: bool) -> dict[str, Any]:
    """The UpdateConfig to send. With `keep_up` (a Microservice, not a compose service, which
    keeps docker stack deploy's default), an update the user did not order starts each new task
    before it stops the old one, so the service never drops to zero running tasks (issue 25);
    Swarm's own default (stop-first) stays where host-mode ports make start-first impossible."""
    if not keep_up or "Order" in service.update_config or host_ports_held(ports):
        return dict(service.update_config)
    return {**service.update_config, "Order": "start-first"}


def note_update_order(logger: logging.Logger, service: Microservice, ports: list[PortSpec],
                      name: str) -> None:
    """Say so when an in-place update of the service cannot keep a task running."""
    held = host_ports_held(ports)
    if held and "Order" not in service.update_config:
        logger.info("service %s publishes host-mode port(s) %s: an in-place update stops each old "
                    "task before its new one starts (a host port is held by one task at a time)",
                    name, ", ".join(map(str, held)))


def build_service_spec(service: Microservice, name: str, container: ContainerSpec,
                       ports: list[PortSpec], labels: dict[str, str],
                       object_ids: dict[str, dict[str, str]] | None = None,
                       keep_up: bool = False) -> dict[str, Any]:
    """The Engine API ServiceSpec. `object_ids` maps kind ('Secret', 'Config') -> name -> id;
    `keep_up`: see update_config."""
    check_ports(ports, service.endpoint_mode, "ports")
    ids = object_ids or {}
    spec_container = container_api(container, labels)
    if service.secrets:
        spec_container["Secrets"] = _file_refs(service.secrets, ids.get("Secret", {}), "Secret")
    if service.configs:
        spec_container["Configs"] = _file_refs(service.configs, ids.get("Config", {}), "Config")
    task: dict[str, Any] = {"ContainerSpec": spec_container}
    optional = {"Placement": _placement(service), "Resources": service.resources,
                "RestartPolicy": service.restart_policy}
    task.update({k: v for k, v in optional.items() if v})
    if service.networks:
        task["Networks"] = [{"Target": n.name, **({"Aliases": n.aliases} if n.aliases else {})}
                            for n in service.networks]
    spec: dict[str, Any] = {
        "Name": name,
        "Labels": {**service.labels, **labels},
        "TaskTemplate": task,
        "Mode": ({"Global": {}} if service.mode == "global"
                 else {"Replicated": {"Replicas": service.replicas}}),
        "EndpointSpec": {"Mode": service.endpoint_mode, "Ports": [p.api() for p in ports]},
    }
    update = update_config(service, ports, keep_up)
    if update:
        spec["UpdateConfig"] = update
    if service.rollback_config:
        spec["RollbackConfig"] = service.rollback_config
    return spec
