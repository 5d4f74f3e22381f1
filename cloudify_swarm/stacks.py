"""Compose v3 files deployed as a Swarm stack, through the Engine API (no docker CLI).

Each compose service becomes the same Microservice / ContainerSpec / PortSpec settings a
Microservice node uses (so one validator and one spec builder serve both), named and labelled
as `docker stack deploy` does: `STACK_service`, `STACK_network`, ..., label
com.docker.stack.namespace=STACK, so `docker stack ls` / `docker stack ps STACK` show it. Every
object also carries our ownership labels, so uninstall removes the whole stack and the leak check
sees what is left. Parsing is pure; deploy_stack does I/O through the engine adapter only.
"""
from __future__ import annotations

import logging
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cloudify_shared.errors import UserError, WaitTimeout, WorkloadFailed
from cloudify_shared.validation import Field, parse_mapping, reject_unknown
from cloudify_swarm import services
from cloudify_swarm.service_spec import (
    Convergence,
    Microservice,
    build_service_spec,
    parse_microservice,
)
from cloudify_swarm.spec import ContainerSpec, PortSpec, parse_container, parse_port

NAMESPACE = "com.docker.stack.namespace"
TOP_KEYS = {"version", "services", "networks", "volumes", "configs", "secrets"}
SERVICE_KEYS = {
    "image", "command", "entrypoint", "environment", "labels", "ports", "networks", "volumes",
    "configs", "secrets", "working_dir", "user", "hostname", "healthcheck", "stop_grace_period",
    "stop_signal", "cap_add", "cap_drop", "init", "tty", "read_only", "deploy",
}
DEPLOY_KEYS = {"mode", "replicas", "labels", "placement", "resources", "restart_policy",
               "update_config", "rollback_config", "endpoint_mode"}
NETWORK_FIELDS = {"driver": Field((str,), default="overlay"), "attachable": Field((bool,), default=False),
                  "external": Field((bool,), default=False), "name": Field((str,)),
                  "labels": Field((dict,), default={}), "driver_opts": Field((dict,), default={})}
FILE_FIELDS = {"file": Field((str,)), "external": Field((bool,), default=False), "name": Field((str,)),
               "labels": Field((dict,), default={})}
VOLUME_FIELDS = {"driver": Field((str,), default="local"), "external": Field((bool,), default=False),
                 "name": Field((str,)), "labels": Field((dict,), default={}),
                 "driver_opts": Field((dict,), default={})}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)")
_SCALE = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


@dataclass(frozen=True)
class StackObject:
    """A network, volume, config or secret of the stack: its engine name and creation options."""

    kind: str
    key: str
    name: str
    external: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackService:
    key: str
    settings: Microservice
    container: ContainerSpec
    ports: list[PortSpec]


@dataclass(frozen=True)
class Stack:
    services: list[StackService]
    objects: list[StackObject]


def duration(value: Any, path: str) -> float:
    """'1m30s', '500ms', 10 -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise UserError(f"{path}: {value!r} is not a duration (e.g. 10s, 1m30s, 500ms)")
    return sum(float(n) * _SCALE[u] for n, u in parts)


def parse_compose_file(path: str, where: str, stack: str = "stack") -> Stack:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise UserError(f"{where}: cannot read compose file {path}: {error}") from error
    return parse_compose(data, stack, Path(path).parent, f"{where} ({Path(path).name})")


def referenced_files(path: str) -> list[str]:
    """The relative files a compose file's configs and secrets name (to fetch them beside it)."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise UserError(f"cannot read compose file {path}: {error}") from error
    found = []
    for section in ("configs", "secrets"):
        for value in ((data.get(section) if isinstance(data, dict) else None) or {}).values():
            file = (value or {}).get("file") if isinstance(value, dict) else None
            if isinstance(file, str) and not file.startswith("/"):
                found.append(file)
    return found


def parse_compose(data: Any, stack: str, base: Path, where: str) -> Stack:
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping at the top")
    reject_unknown({k: v for k, v in data.items() if not str(k).startswith("x-")}, dict.fromkeys(TOP_KEYS), where)
    if not str(data.get("version", "3")).startswith("3"):
        raise UserError(f"{where}.version: only compose file format 3.x is supported")
    if not isinstance(data.get("services"), dict) or not data["services"]:
        raise UserError(f"{where}.services: at least one service is required")
    objects = stack_objects(data, stack, base, where)
    names = {(o.kind, o.key): o.name for o in objects}
    default_used = any(not (v or {}).get("networks") for v in data["services"].values())
    if default_used and ("network", "default") not in names:
        objects.append(StackObject("network", "default", f"{stack}_default", False,
                                   {"driver": "overlay", "attachable": False}))
        names[("network", "default")] = f"{stack}_default"
    parsed = [parse_compose_service(key, value, stack, names, f"{where}.services.{key}")
              for key, value in data["services"].items()]
    return Stack(parsed, objects)


def stack_objects(data: dict[str, Any], stack: str, base: Path, where: str) -> list[StackObject]:
    found: list[StackObject] = []
    for kind, section, fields in (("network", "networks", NETWORK_FIELDS),
                                  ("volume", "volumes", VOLUME_FIELDS),
                                  ("config", "configs", FILE_FIELDS), ("secret", "secrets", FILE_FIELDS)):
        for key, value in (data.get(section) or {}).items():
            path = f"{where}.{section}.{key}"
            values = parse_mapping(value or {}, fields, path)
            name = values["name"] or (key if values["external"] else f"{stack}_{key}")
            options = object_options(kind, values, base, path)
            found.append(StackObject(kind, key, name, values["external"], options))
    return found


def object_options(kind: str, values: dict[str, Any], base: Path, path: str) -> dict[str, Any]:
    if values["external"]:
        return {}
    labels = {str(k): str(v) for k, v in values["labels"].items()}
    if kind == "network":
        return {"driver": values["driver"], "attachable": values["attachable"],
                "options": values["driver_opts"] or None, "extra_labels": labels}
    if kind == "volume":
        return {"driver": values["driver"], "driver_opts": values["driver_opts"] or None,
                "extra_labels": labels}
    if not values["file"]:
        raise UserError(f"{path}.file: required unless external")
    file = base / values["file"]
    if not file.is_file():
        raise UserError(f"{path}.file: {file} does not exist")
    return {"file": str(file), "extra_labels": labels}


def env_mapping(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, list):
        pairs = [str(item).partition("=") for item in value]
        return {name: text for name, _, text in pairs}
    if isinstance(value, dict) or value is None:
        return dict(value or {})
    raise UserError(f"{path}: expected a mapping or a list of NAME=value")


def short_port(text: str, path: str) -> dict[str, Any]:
    match = re.fullmatch(r"(?:(\d+):)?(\d+)(?:/(tcp|udp|sctp))?", text)
    if not match:
        raise UserError(f"{path}: {text!r} is not PUBLISHED:TARGET[/PROTOCOL]")
    port: dict[str, Any] = {"target": int(match.group(2)), "protocol": match.group(3) or "tcp"}
    if match.group(1):
        port["published"] = int(match.group(1))
    return port


def mount(value: Any, stack: str, names: dict[tuple[str, str], str], path: str) -> dict[str, Any]:
    if isinstance(value, str):
        source, _, rest = value.partition(":")
        target, _, mode = rest.partition(":")
        value = {"source": source, "target": target or source, "read_only": mode == "ro",
                 "type": "bind" if source.startswith(("/", ".")) else "volume"}
    if not isinstance(value, dict):
        raise UserError(f"{path}: expected SOURCE:TARGET[:ro] or a mapping")
    value = {"type": "volume", **value}
    if value["type"] == "volume" and value.get("source"):
        if ("volume", value["source"]) not in names:
            raise UserError(f"{path}: volume {value['source']!r} is not declared under volumes")
        value["source"] = names[("volume", value["source"])]
    return value


def refs(value: Any, kind: str, names: dict[tuple[str, str], str], path: str) -> list[dict[str, Any]]:
    result = []
    for index, item in enumerate(value or []):
        item = {"source": item} if isinstance(item, str) else dict(item)
        source = str(item.get("source"))
        if (kind, source) not in names:
            raise UserError(f"{path}[{index}]: {kind} {source!r} is not declared under {kind}s")
        result.append({"name": names[(kind, source)], "target": item.get("target") or source,
                       "create": False})
    return result


def service_networks(value: Any, service: str, names: dict[tuple[str, str], str],
                     path: str) -> list[dict[str, Any]]:
    """The service's networks, each with the service's short name as an alias (as the CLI does)."""
    if not value:
        return [{"name": names.get(("network", "default"), ""), "aliases": [service]}]
    items = value.items() if isinstance(value, dict) else ((k, None) for k in value)
    result = []
    for key, options in items:
        if ("network", key) not in names:
            raise UserError(f"{path}: network {key!r} is not declared under networks")
        aliases = [service, *((options or {}).get("aliases") or [])]
        result.append({"name": names[("network", key)], "aliases": aliases})
    return result


def deploy_settings(deploy: Any, path: str) -> dict[str, Any]:
    deploy = dict(deploy or {})
    reject_unknown(deploy, dict.fromkeys(DEPLOY_KEYS), path)
    placement = deploy.pop("placement", None) or {}
    settings: dict[str, Any] = {"constraints": placement.get("constraints") or [],
                                "preferences": [f"spread={p['spread']}" for p in placement.get("preferences") or []]}
    for key in ("restart_policy", "update_config", "rollback_config"):
        if key in deploy:
            settings[key] = {k: duration(v, f"{path}.{key}.{k}") if k in ("delay", "window", "monitor") else v
                             for k, v in deploy.pop(key).items()}
    resources = deploy.pop("resources", None) or {}
    settings["resources"] = {part: {k: float(v) if k == "cpus" else v for k, v in values.items()}
                             for part, values in resources.items()}
    settings.update(deploy)
    return settings


def parse_compose_service(key: str, value: Any, stack: str, names: dict[tuple[str, str], str],
                          path: str) -> StackService:
    if not isinstance(value, dict):
        raise UserError(f"{path}: expected a mapping")
    reject_unknown(value, dict.fromkeys(SERVICE_KEYS), path)
    settings = parse_microservice({
        **deploy_settings(value.get("deploy"), f"{path}.deploy"),
        "networks": service_networks(value.get("networks"), key, names, f"{path}.networks"),
        "configs": refs(value.get("configs"), "config", names, f"{path}.configs"),
        "secrets": refs(value.get("secrets"), "secret", names, f"{path}.secrets"),
    }, f"{path}.deploy")
    command = value.get("command")
    container = parse_container({
        "image": value.get("image"), "entrypoint": value.get("entrypoint"),
        "command": shlex.split(command) if isinstance(command, str) else command,
        "env": env_mapping(value.get("environment"), f"{path}.environment"),
        "labels": env_mapping(value.get("labels"), f"{path}.labels"),
        "workdir": value.get("working_dir"), "user": value.get("user"), "hostname": value.get("hostname"),
        "mounts": [mount(v, stack, names, f"{path}.volumes[{i}]") for i, v in enumerate(value.get("volumes") or [])],
        "healthcheck": healthcheck(value.get("healthcheck"), f"{path}.healthcheck"),
        "stop_grace_period": duration(value["stop_grace_period"], f"{path}.stop_grace_period")
        if "stop_grace_period" in value else None,
        **{k: value.get(k) for k in ("stop_signal", "cap_add", "cap_drop", "init", "tty", "read_only")},
    }, path)
    ports = [parse_port(short_port(str(p), f"{path}.ports[{i}]") if not isinstance(p, dict) else p,
                        f"{path}.ports[{i}]") for i, p in enumerate(value.get("ports") or [])]
    return StackService(key, settings, container, ports)


def healthcheck(value: Any, path: str) -> dict[str, Any] | None:
    if not value:
        return None
    return {k: duration(v, f"{path}.{k}") if k in ("interval", "timeout", "start_period") else v
            for k, v in value.items()}


# ----------------------------------------------------------------------------- deploy

def ensure_stack_objects(engine: services.EngineApi, stack: Stack, labels: dict[str, str],
                         owner: dict[str, str], logger: logging.Logger) -> dict[str, dict[str, str]]:
    """Create the stack's networks, volumes, configs and secrets (or reuse ours); check that
    external ones exist. Returns kind ('Secret', 'Config', ...) -> engine name -> id."""
    ids: dict[str, dict[str, str]] = {}
    for obj in stack.objects:
        options = {k: v for k, v in obj.options.items() if k not in ("file", "extra_labels") and v is not None}
        if "file" in obj.options:
            options["data"] = read_data(obj)
        all_labels = {**obj.options.get("extra_labels", {}), **labels}
        ids.setdefault(obj.kind.title(), {})[obj.name] = services.ensure_object(
            engine, obj.kind, obj.name, not obj.external, owner, options, logger, all_labels)
    return ids


def read_data(obj: StackObject) -> str:
    from cloudify_shared.redaction import register_secret

    try:
        data = Path(obj.options["file"]).read_text()
    except OSError as error:
        raise UserError(f"{obj.kind} {obj.key}: cannot read {obj.options['file']}: {error}") from error
    if obj.kind == "secret":
        register_secret(data)
    return data


def label_volumes(spec: dict[str, Any], labels: dict[str, str]) -> None:
    """Volumes the engine creates for the tasks carry the stack's and our labels."""
    for item in spec["TaskTemplate"]["ContainerSpec"].get("Mounts") or []:
        if item["Type"] == "volume":
            item["VolumeOptions"] = {"Labels": dict(labels)}


def stack_service_spec(stack_name: str, service: StackService, labels: dict[str, str],
                       ids: dict[str, dict[str, str]]) -> dict[str, Any]:
    spec = build_service_spec(service.settings, f"{stack_name}_{service.key}", service.container,
                              service.ports, labels, ids)
    spec["Labels"]["com.docker.stack.image"] = service.container.image
    label_volumes(spec, labels)
    return spec


def deploy_stack(engine: services.EngineApi, path: str, stack_name: str, owner: dict[str, str],
                 settings: Convergence, logger: logging.Logger) -> dict[str, Any]:
    """Create every object and service of the compose file, then wait until every service has
    converged; on failure the whole stack is removed before the error is raised."""
    stack = parse_compose_file(path, "properties.compose_file", stack_name)
    labels = {**owner, NAMESPACE: stack_name}
    try:
        ids = ensure_stack_objects(engine, stack, labels, owner, logger)
        rollouts = [services.apply_service(engine, stack_service_spec(stack_name, s, labels, ids),
                                           owner, logger) for s in stack.services]
        for rollout in rollouts:
            services.wait_rollout(engine, rollout, settings, logger)
    except (WorkloadFailed, WaitTimeout, UserError):
        logger.info("removing stack %s after the failed deploy", stack_name)
        remove_stack(engine, owner, logger)
        raise
    return {"name": stack_name, "services": {
        s.key: services.service_facts(engine, r.service_id) for s, r in zip(stack.services, rollouts, strict=True)}}


def remove_stack(engine: services.EngineApi, owner: dict[str, str], logger: logging.Logger) -> None:
    """Remove the stack's services, wait until their containers are gone, then its objects."""
    services.remove_services(engine, owner, logger)
    services.remove_objects(engine, owner, logger, ("secret", "config", "network", "volume"))
