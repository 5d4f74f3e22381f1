"""Compose v3 files deployed as a Swarm stack, through the Engine API (no docker CLI).

Each compose service becomes the same Microservice / ContainerSpec / PortSpec settings a
Microservice node uses (so one validator and one spec builder serve both), plus the fields only
compose has (compose_service.py), named and labelled
as `docker stack deploy` does: `STACK_service`, `STACK_network`, ..., label
com.docker.stack.namespace=STACK, so `docker stack ls` / `docker stack ps STACK` show it. Every
object also carries our ownership labels, so uninstall removes the whole stack and the leak check
sees what is left. Parsing is pure; deploy_stack does I/O through the engine adapter only.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cloudify_shared.errors import UserError, WaitTimeout, WorkloadFailed
from cloudify_swarm import compose_keys as keys
from cloudify_swarm import services
from cloudify_swarm.compose_interpolation import dotenv_variables, interpolate
from cloudify_swarm.compose_service import ServiceContext, StackService, parse_service
from cloudify_swarm.compose_values import duration
from cloudify_swarm.service_spec import Convergence, build_service_spec

NAMESPACE = "com.docker.stack.namespace"
OBJECT_KEYS = {"network": keys.NETWORK_KEYS, "volume": keys.VOLUME_KEYS,
               "config": keys.FILE_KEYS, "secret": keys.FILE_KEYS}
LOGGER = logging.getLogger(__name__)
__all__ = ["NAMESPACE", "Stack", "StackObject", "StackService", "duration", "parse_compose",
           "parse_compose_file", "deploy_stack", "stack_drift", "remove_stack"]


@dataclass(frozen=True)
class StackObject:
    """A network, volume, config or secret of the stack: its engine name and creation options."""

    kind: str
    key: str
    name: str
    external: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stack:
    services: list[StackService]
    objects: list[StackObject]

    def ignored(self) -> dict[str, list[str]]:
        """service -> the keys docker accepts and Swarm does not use (logged, never refused)."""
        return {s.key: s.ignored for s in self.services if s.ignored}


def load_yaml(path: str, where: str) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        raise UserError(f"{where}: cannot read compose file {path}: {error}") from error


def stack_variables(path: str, variables: Mapping[str, str] | None) -> dict[str, str]:
    """The `.env` beside the compose file, under the given variables (those win)."""
    return {**dotenv_variables(Path(path).parent), **(variables or {})}


def parse_compose_file(path: str, where: str, stack: str = "stack",
                       variables: Mapping[str, str] | None = None,
                       logger: logging.Logger | None = None, relative_binds: bool = True) -> Stack:
    """`variables`: the blueprint's compose_variables (and, in the local profile, the
    operation's environment); never the manager's own environment. They win over the `.env`
    beside the file. `relative_binds` false: a relative bind source is refused (the file is a
    temporary copy of a blueprint resource)."""
    log = logger or LOGGER
    where = f"{where} ({Path(path).name})"
    data = load_yaml(path, where)
    merged = stack_variables(path, variables)
    data = interpolate(data, merged, where, log.warning)
    parsed = parse_compose(data, stack, Path(path).parent, where, merged, relative_binds)
    for service, ignored in parsed.ignored().items():
        log.info("%s.services.%s: ignoring what Swarm does not use: %s", where, service, ", ".join(ignored))
    return parsed


def referenced_files(path: str) -> list[str]:
    """The files a compose file's configs, secrets and env_file name, as written (relative
    ones are fetched beside it; the tasks layer checks every one against the local-file policy)."""
    data = load_yaml(path, "compose file") or {}
    if not isinstance(data, dict):
        return []
    found = []
    for section in ("configs", "secrets"):
        for value in (data.get(section) or {}).values():
            file = (value or {}).get("file") if isinstance(value, dict) else None
            if isinstance(file, str):
                found.append(file)
    for value in (data.get("services") or {}).values():
        files = (value or {}).get("env_file") if isinstance(value, dict) else None
        found.extend([files] if isinstance(files, str) else [f for f in files or [] if isinstance(f, str)])
    return found


def parse_compose(data: Any, stack: str, base: Path, where: str,
                  variables: Mapping[str, str] | None = None, relative_binds: bool = True) -> Stack:
    """An interpolated compose mapping -> the stack's objects and services."""
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping at the top")
    keys.check_keys(data, keys.TOP_KEYS, where)
    check_version(data.get("version", "3"), f"{where}.version")
    if not isinstance(data.get("services"), dict) or not data["services"]:
        raise UserError(f"{where}.services: at least one service is required")
    objects = stack_objects(data, stack, base, where)
    names = {(o.kind, o.key): o.name for o in objects}
    default_used = any(not (v or {}).get("networks") for v in data["services"].values())
    if default_used and ("network", "default") not in names:
        objects.append(StackObject("network", "default", f"{stack}_default", False,
                                   {"driver": "overlay", "attachable": False}))
        names[("network", "default")] = f"{stack}_default"
    volumes = {o.key: {"external": o.external, "labels": o.options.get("extra_labels"),
                       "driver": o.options.get("declared_driver"), "driver_opts": o.options.get("driver_opts")}
               for o in objects if o.kind == "volume"}
    context = ServiceContext(stack, base, names, volumes, dict(variables or {}), relative_binds)
    parsed = [parse_service(key, value, context, f"{where}.services.{key}")
              for key, value in data["services"].items()]
    return Stack(parsed, objects)


def check_version(version: Any, path: str) -> None:
    """As docker 28's stack deploy: a string, 3 or 3.0 to 3.13 (absent: the latest)."""
    if not isinstance(version, str):
        raise UserError(f"{path}: must be a string (quote it: '{version}'), as docker's compose schema says")
    if not re.fullmatch(r"3(\.([0-9]|1[0-3]))?", version):
        raise UserError(f"{path}: unsupported compose file version {version}: only format 3 "
                        "(3.0 to 3.13) is deployed as a stack, as docker stack deploy says")


def external_name(value: Any, key: str, path: str) -> tuple[bool, str | None]:
    """external: true | {name: X} (the older form, which docker still takes)."""
    if isinstance(value, dict):
        keys.check_keys(value, {"name"}, f"{path}.external", extensions=False)
        return True, value.get("name") or key
    if value not in (None, True, False):
        raise UserError(f"{path}.external: expected true, false or {{name: ...}}")
    return bool(value), None


def stack_objects(data: dict[str, Any], stack: str, base: Path, where: str) -> list[StackObject]:
    found: list[StackObject] = []
    for kind, section in (("network", "networks"), ("volume", "volumes"),
                          ("config", "configs"), ("secret", "secrets")):
        for key, value in (data.get(section) or {}).items():
            path = f"{where}.{section}.{key}"
            value = dict(value or {})
            keys.check_keys(value, OBJECT_KEYS[kind], path)
            external, old_name = external_name(value.get("external"), key, path)
            name = value.get("name") or old_name or (key if external else f"{stack}_{key}")
            options = {} if external else object_options(kind, value, base, path)
            found.append(StackObject(kind, key, str(name), external, options))
    return found


def object_options(kind: str, values: dict[str, Any], base: Path, path: str) -> dict[str, Any]:
    raw = values.get("labels") or {}
    pairs = raw.items() if isinstance(raw, dict) else (str(i).partition("=")[::2] for i in raw)
    labels = {str(k): str(v) for k, v in pairs}
    if kind == "network":
        options: dict[str, Any] = {"driver": values.get("driver") or "overlay",
                                   "attachable": bool(values.get("attachable")),
                                   "internal": bool(values.get("internal")),
                                   "options": values.get("driver_opts") or None, "extra_labels": labels}
        ipam = values.get("ipam")
        if ipam:
            keys.check_keys(ipam, {"driver", "config", "options"}, f"{path}.ipam", extensions=False)
            options["ipam"] = {"Driver": ipam.get("driver") or "default", "Options": ipam.get("options"),
                               "Config": [{"Subnet": c.get("subnet")} for c in ipam.get("config") or []]}
        return options
    if kind == "volume":
        return {"driver": values.get("driver") or "local", "declared_driver": values.get("driver"),
                "driver_opts": values.get("driver_opts") or None, "extra_labels": labels}
    if not values.get("file"):
        raise UserError(f"{path}.file: required unless external")
    file = Path(os.path.expanduser(str(values["file"])))
    file = file if file.is_absolute() else base / file
    if not file.is_file():
        raise UserError(f"{path}.file: {file} does not exist")
    return {"file": str(file), "extra_labels": labels}


# ----------------------------------------------------------------------------- deploy

def ensure_stack_objects(engine: services.EngineApi, stack: Stack, labels: dict[str, str],
                         owner: dict[str, str], logger: logging.Logger) -> dict[str, dict[str, str]]:
    """Create the stack's networks, configs and secrets (or reuse ours); check that external
    ones exist. Volumes are left to the engine, which makes each for the first task that mounts
    it, with the driver and labels the mount names (as docker stack deploy leaves them). Returns kind ('Secret', 'Config', ...) -> engine name -> id."""
    ids: dict[str, dict[str, str]] = {}
    for obj in stack.objects:
        if obj.kind == "volume":
            continue  # as docker: the engine makes it for the first task, from VolumeOptions
        options = {k: v for k, v in obj.options.items()
                   if k not in ("file", "extra_labels", "declared_driver") and v is not None}
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
    """Volumes the engine creates for the tasks carry the stack's and our labels; an anonymous
    one carries ours only (docker gives it none; ours let uninstall and the leak check find
    it); an external one is left as it is."""
    ours = {k: v for k, v in labels.items() if k != NAMESPACE}
    for item in spec["TaskTemplate"]["ContainerSpec"].get("Mounts") or []:
        if item["Type"] != "volume":
            continue
        options = item.get("VolumeOptions")
        if not item.get("Source"):
            item["VolumeOptions"] = {**(options or {}), "Labels": ours}
        elif options is not None and "Labels" in options:
            options["Labels"] = {**options["Labels"], **labels}


def file_refs(refs: list[dict[str, Any]], ids: dict[str, str], kind: str) -> list[dict[str, Any]]:
    return sorted(({f"{kind}ID": ids.get(r["name"], ""), f"{kind}Name": r["name"], "File": r["File"]}
                   for r in refs), key=lambda r: str(r[f"{kind}Name"]))


def stack_service_spec(stack_name: str, service: StackService, labels: dict[str, str],
                       ids: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The Engine API ServiceSpec `docker stack deploy` makes for the service, plus our labels."""
    spec = build_service_spec(service.settings, f"{stack_name}_{service.key}", service.container,
                              service.ports, labels, ids)
    spec["Labels"].update(service.extra.get("labels", {}))
    task = spec["TaskTemplate"]
    container = task["ContainerSpec"]
    container.update(service.extra.get("container", {}))
    for kind in ("Secret", "Config"):
        refs = service.extra.get("refs", {}).get(f"{kind}s")
        if refs:
            container[f"{kind}s"] = file_refs(refs, ids.get(kind, {}), kind)
    extra_task = dict(service.extra.get("task", {}))
    if "Placement" in extra_task:
        task["Placement"] = {**task.get("Placement", {}), **extra_task.pop("Placement")}
    task.pop("Resources", None)
    task.pop("RestartPolicy", None)
    task.update(extra_task)
    spec.update(service.extra.get("service", {}))
    label_volumes(spec, labels)
    return spec


def create_stack(engine: services.EngineApi, stack: Stack, stack_name: str, owner: dict[str, str],
                 logger: logging.Logger) -> list[services.Rollout]:
    """Create (or update in place) every object and service; no wait."""
    labels = {**owner, NAMESPACE: stack_name}
    ids = ensure_stack_objects(engine, stack, labels, owner, logger)
    return [services.apply_service(engine, stack_service_spec(stack_name, item, labels, ids), owner, logger)
            for item in stack.services]


def deploy_stack(engine: services.EngineApi, path: str, stack_name: str, owner: dict[str, str],
                 settings: Convergence, logger: logging.Logger,
                 variables: Mapping[str, str] | None = None, relative_binds: bool = True) -> dict[str, Any]:
    """Create (or update in place) every object and service of the compose file, then wait
    until every service has converged. On failure: a stack this run created is removed whole;
    of a stack that was there before, services this run created are removed and services it
    changed get their previous spec back (nothing that existed before is removed)."""
    stack = parse_compose_file(path, "properties.compose_file", stack_name, variables, logger, relative_binds)
    labels = {**owner, NAMESPACE: stack_name}
    existed = bool(engine.find_services(owner))
    rollouts: list[services.Rollout] = []
    try:
        ids = ensure_stack_objects(engine, stack, labels, owner, logger)
        for item in stack.services:
            rollouts.append(services.apply_service(
                engine, stack_service_spec(stack_name, item, labels, ids), owner, logger))
        for rollout in rollouts:
            services.wait_rollout(engine, rollout, settings, logger)
    except (WorkloadFailed, WaitTimeout, UserError) as error:
        if not existed:
            logger.info("removing stack %s after the failed deploy", stack_name)
            remove_stack(engine, owner, logger)
            raise
        undone = [services.undo_rollout(engine, r, owner, settings, logger) for r in rollouts]
        raise type(error)("; ".join([str(error), *undone])) from error
    return {"name": stack_name, "services": {
        s.key: services.service_facts(engine, r.service_id) for s, r in zip(stack.services, rollouts, strict=True)}}


def stack_drift(engine: services.EngineApi, path: str, stack_name: str,
                owner: dict[str, str], variables: Mapping[str, str] | None = None,
                relative_binds: bool = True) -> dict[str, str]:
    """{'<service>.<field>': what differs} between the compose file and the live stack
    (read only: nothing is created)."""
    from cloudify_swarm.drift import spec_drift

    stack = parse_compose_file(path, "properties.compose_file", stack_name, variables,
                               relative_binds=relative_binds)
    labels = {**owner, NAMESPACE: stack_name}
    ids: dict[str, dict[str, str]] = {}
    found: dict[str, str] = {}
    for obj in (o for o in stack.objects if o.kind != "volume"):
        existing = engine.find_objects(obj.kind, name=obj.name)
        if existing:
            ids.setdefault(obj.kind.title(), {})[obj.name] = services.object_id(existing[0])
        else:
            found[f"{obj.kind}s.{obj.key}"] = "missing"
            ids.setdefault(obj.kind.title(), {})[obj.name] = ""
    for item in stack.services:
        spec = stack_service_spec(stack_name, item, labels, ids)
        live = engine.find_services(owner, spec["Name"])
        if not live:
            found[f"services.{item.key}"] = "missing"
            continue
        for field_path, what in spec_drift(spec, live[0]["Spec"], ids.get("Network")).items():
            found[f"services.{item.key}.{field_path}"] = what
    return found


def remove_stack(engine: services.EngineApi, owner: dict[str, str], logger: logging.Logger) -> None:
    """Remove the stack's services, wait until their containers are gone, then its objects."""
    services.remove_services(engine, owner, logger)
    services.remove_objects(engine, owner, logger, ("secret", "config", "network", "volume"))
