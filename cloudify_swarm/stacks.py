"""Compose v3 files deployed as a Swarm stack, through the Engine API (no docker CLI).

Each compose service becomes the same Microservice / ContainerSpec / PortSpec settings a
Microservice node uses (so one validator and one spec builder serve both), plus the fields only
compose has (compose_service.py), named and labelled
as `docker stack deploy` does: `STACK_service`, `STACK_network`, ..., label
com.docker.stack.namespace=STACK, so `docker stack ls` / `docker stack ps STACK` show it. Every
object also carries our ownership labels, so uninstall removes the whole stack and the leak check
sees what is left. Parsing is pure but for the files the compose file names, read through
compose_files.ComposeFiles by their interpolated value (the local-file policy sees the path that
is opened); deploy_stack does I/O through the engine adapter only.

What a tenant's blueprint controls is bounded before work (issue 24): the compose file is loaded
by compose_yaml.load_compose_yaml (as the docker CLI reads YAML, under limits' bounds on bytes
and alias expansion), the objects of one stack are counted (limits.check_count), port ranges are
measured before they are expanded (compose_ports.py), every duration goes through
limits.duration. An `external` network, volume, secret or config is used by name only when it is
nobody's (made by an operator) or this deployment's: one carrying another deployment's or
tenant's ownership labels is refused before anything is made. A UserError about the file names
the variable, never the value, of every variable substituted into it (a compose variable may
come from get_secret).
"""
from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudify_shared import limits
from cloudify_shared.errors import UserError, WaitTimeout, WorkloadFailed
from cloudify_shared.ownership import foreign_owner
from cloudify_shared.redaction import register_secret
from cloudify_swarm import compose_keys as keys
from cloudify_swarm import services
from cloudify_swarm.compose_files import ComposeFiles
from cloudify_swarm.compose_interpolation import dotenv_variables, hide_values, interpolate
from cloudify_swarm.compose_objects import object_options
from cloudify_swarm.compose_refusals import name_refusal
from cloudify_swarm.compose_service import ServiceContext, StackService, parse_service
from cloudify_swarm.compose_values import duration
from cloudify_swarm.compose_versions import check_version_keys
from cloudify_swarm.compose_yaml import load_compose_yaml
from cloudify_swarm.engine_api import EngineApi, EngineRefused, object_id
from cloudify_swarm.spec.microservice import Convergence
from cloudify_swarm.spec.service import build_service_spec

NAMESPACE = "com.docker.stack.namespace"
SECTIONS = (("network", "networks"), ("volume", "volumes"), ("config", "configs"), ("secret", "secrets"))
OBJECT_KEYS = {"network": keys.NETWORK_KEYS, "volume": keys.VOLUME_KEYS,
               "config": keys.FILE_KEYS, "secret": keys.FILE_KEYS}
LOGGER = logging.getLogger(__name__)
__all__ = ["NAMESPACE", "Stack", "StackObject", "StackService", "duration", "parse_compose",
           "parse_compose_file", "deploy_stack", "stack_drift", "remove_stack"]


@dataclass(frozen=True)
class StackObject:
    """A network, volume, config or secret of the stack: its engine name and creation options
    (a config's or secret's content in `data`, never shown)."""

    kind: str
    key: str
    name: str
    external: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    data: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Stack:
    services: list[StackService]
    objects: list[StackObject]
    where: str = "compose"  # the compose file, as errors name it
    # the variables substituted into the file: an error names them, never their values
    substituted: dict[str, str] = field(default_factory=dict, repr=False)

    def ignored(self) -> dict[str, list[str]]:
        """service -> the keys docker accepts and Swarm does not use (logged, never refused)."""
        return {s.key: s.ignored for s in self.services if s.ignored}


def parse_compose_file(source: ComposeFiles | str, where: str, stack: str = "stack",
                       variables: Mapping[str, str] | None = None,
                       logger: logging.Logger | None = None, relative_binds: bool = True) -> Stack:
    """`source`: the compose file and the files it names, read under the local-file policy
    (compose_files.py; a plain path is read as the local profile reads it). `variables`: the
    blueprint's compose_variables (and, in the local profile, the operation's environment);
    never the manager's own environment. They win over the `.env` beside the file.
    `relative_binds` false (or a compose file that is a blueprint resource): a relative bind
    source is refused."""
    files = ComposeFiles.local(source) if isinstance(source, str) else source
    log = logger or LOGGER
    where = f"{where} ({files.name})"
    data = load_compose_yaml(files.compose_text(), where)
    merged = {**dotenv_variables(files.dotenv_text(), f"{where}: .env"), **(variables or {})}
    used: set[str] = set()
    data = interpolate(data, merged, where, log.warning, used)
    substituted = {name: merged[name] for name in used}
    try:
        parsed = parse_compose(data, stack, files.base, where, merged,
                               relative_binds and files.on_host, files)
    except UserError as error:  # name the variables, never their values
        raise UserError(hide_values(str(error), substituted)) from None
    parsed = dataclasses.replace(parsed, substituted=substituted)
    for service, ignored in parsed.ignored().items():
        log.info("%s.services.%s: ignoring what Swarm does not use: %s", where, service, ", ".join(ignored))
    return parsed


def parse_compose(data: Any, stack: str, base: Path, where: str,
                  variables: Mapping[str, str] | None = None, relative_binds: bool = True,
                  files: ComposeFiles | None = None) -> Stack:
    """An interpolated compose mapping -> the stack's objects and services. `files`: where the
    files it names are read (None: beside `base`, as the local profile reads them)."""
    files = files or ComposeFiles.local(str(base / "compose.yml"))
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping at the top")
    keys.check_keys(data, keys.TOP_KEYS, where)
    check_version(data.get("version", "3"), f"{where}.version")
    check_version_keys(data, data.get("version", "3"), where)
    if not isinstance(data.get("services"), dict) or not data["services"]:
        raise UserError(f"{where}.services: at least one service is required")
    check_sections(data, where)
    objects = stack_objects(data, stack, files, where)
    names = {(o.kind, o.key): o.name for o in objects}
    default_used = any(not (v or {}).get("networks") for v in data["services"].values())
    if default_used and ("network", "default") not in names:
        objects.append(StackObject("network", "default", f"{stack}_default", False,
                                   {"driver": "overlay", "attachable": False}))
        names[("network", "default")] = f"{stack}_default"
    volumes = {o.key: {"external": o.external, "labels": o.options.get("extra_labels"),
                       "driver": o.options.get("declared_driver"), "driver_opts": o.options.get("driver_opts")}
               for o in objects if o.kind == "volume"}
    context = ServiceContext(stack, base, names, volumes, dict(variables or {}), files, relative_binds)
    parsed = [parse_service(key, value, context, f"{where}.services.{key}")
              for key, value in data["services"].items()]
    return Stack(parsed, objects, where)


def check_sections(data: dict[str, Any], where: str) -> None:
    """Every object section a mapping, and the stack's services and objects together within
    the administrator's bound, counted before any of them is parsed."""
    count = len(data["services"])
    for _, section in SECTIONS:
        value = data.get(section)
        if value is not None and not isinstance(value, dict):
            raise UserError(f"{where}.{section}: expected a mapping, got {type(value).__name__}")
        count += len(value or {})
    limits.check_count(count, f"{where}: services, networks, volumes, configs and secrets")


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


def stack_objects(data: dict[str, Any], stack: str, files: ComposeFiles, where: str) -> list[StackObject]:
    found: list[StackObject] = []
    for kind, section in SECTIONS:
        for key, value in (data.get(section) or {}).items():
            path = f"{where}.{section}.{key}"
            value = value or {}
            keys.check_keys(value, OBJECT_KEYS[kind], path)
            external, old_name = external_name(value.get("external"), key, path)
            name = value.get("name") or old_name or (key if external else f"{stack}_{key}")
            options = {} if external else object_options(kind, value, path)
            content = None
            if kind in ("config", "secret") and not external:
                content = object_content(kind, value, files, path)
            found.append(StackObject(kind, key, str(name), external, options, content))
    return found


def object_content(kind: str, values: dict[str, Any], files: ComposeFiles, path: str) -> str:
    """A config's or secret's file, read by its interpolated value under the local-file
    policy (compose_files.py); a secret's content is registered for redaction."""
    if not values.get("file"):
        raise UserError(f"{path}.file: required unless external")
    content = files.read_text(str(values["file"]), f"{path}.file")
    if kind == "secret":
        register_secret(content)
    return content


# ----------------------------------------------------------------------------- deploy

def ensure_stack_objects(engine: EngineApi, stack: Stack, labels: dict[str, str],
                         owner: dict[str, str], logger: logging.Logger) -> dict[str, dict[str, str]]:
    """Create the stack's networks, configs and secrets (or reuse ours); check that external
    ones exist. Volumes are left to the engine, which makes each for the first task that mounts
    it, with the driver and labels the mount names (as docker stack deploy leaves them). Returns kind ('Secret', 'Config', ...) -> engine name -> id."""
    ids: dict[str, dict[str, str]] = {}
    for obj in stack.objects:
        if obj.kind == "volume":
            continue  # as docker: the engine makes it for the first task, from VolumeOptions
        options = {k: v for k, v in obj.options.items()
                   if k not in ("extra_labels", "declared_driver") and v is not None}
        if obj.data is not None:
            options["data"] = obj.data
        all_labels = {**obj.options.get("extra_labels", {}), **labels}
        try:
            ids.setdefault(obj.kind.title(), {})[obj.name] = services.ensure_object(
                engine, obj.kind, obj.name, not obj.external, owner, options, logger, all_labels)
        except UserError as error:  # named with the file and the key (the Engine's refusal too)
            refused = f"the Docker Engine refused the {obj.kind}: " if isinstance(error, EngineRefused) else ""
            raise UserError(hide_values(f"{stack.where}.{obj.kind}s.{obj.key}: {refused}{error}",
                                        stack.substituted)) from error
    return ids


def check_external(engine: EngineApi, stack: Stack, owner: dict[str, str]) -> None:
    """Refuse, before anything is made, an `external` object (used by name) that carries
    another deployment's or tenant's ownership labels; one without our labels (an operator's)
    or of this deployment is used. One that does not exist: check_external_exist."""
    for obj in (o for o in stack.objects if o.external):
        for item in engine.find_objects(obj.kind, name=obj.name):
            labels = item.get("Labels") or (item.get("Spec") or {}).get("Labels")
            other = foreign_owner(labels, owner)
            if other:
                raise UserError(hide_values(
                    f"{stack.where}.{obj.kind}s.{obj.key}: the external {obj.kind} {obj.name!r} "
                    f"belongs to {other}, not to this deployment: a stack uses by name only its own "
                    "deployment's objects or those no deployment owns (made by an operator)",
                    stack.substituted))


def check_external_exist(engine: EngineApi, stack: Stack) -> None:
    """Refuse, before anything is made and naming the file and the key, an external network,
    secret or config that does not exist (as docker stack deploy refuses it); an external
    volume that does not exist is left to the engine (its driver makes it, as with docker)."""
    for obj in (o for o in stack.objects if o.external and o.kind != "volume"):
        if not engine.find_objects(obj.kind, name=obj.name):
            raise UserError(hide_values(
                f"{stack.where}.{obj.kind}s.{obj.key}: the external {obj.kind} {obj.name!r} does not "
                "exist: create it before the stack (docker stack deploy refuses it too), or declare "
                "it without external", stack.substituted))


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
    for network in task.get("Networks") or []:
        if network["Target"] in service.extra.get("network_opts", {}):
            network["DriverOpts"] = service.extra["network_opts"][network["Target"]]
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


def apply_stack_service(engine: EngineApi, stack: Stack, stack_name: str, item: StackService,
                        labels: dict[str, str], ids: dict[str, dict[str, str]], owner: dict[str, str],
                        logger: logging.Logger) -> services.Rollout:
    """Create or update one service; an Engine refusal names the file, the service, the key."""
    try:
        return services.apply_service(engine, stack_service_spec(stack_name, item, labels, ids), owner, logger)
    except EngineRefused as error:
        raise UserError(hide_values(str(name_refusal(error, stack.where, item.key)), stack.substituted)) from error
    except UserError as error:  # e.g. a service of that name that is not ours
        raise UserError(hide_values(f"{stack.where}.services.{item.key}: {error}", stack.substituted)) from error


def create_stack(engine: EngineApi, stack: Stack, stack_name: str, owner: dict[str, str],
                 logger: logging.Logger) -> list[services.Rollout]:
    """Create (or update in place) every object and service; no wait."""
    labels = {**owner, NAMESPACE: stack_name}
    check_external(engine, stack, owner)
    check_external_exist(engine, stack)
    ids = ensure_stack_objects(engine, stack, labels, owner, logger)
    return [apply_stack_service(engine, stack, stack_name, item, labels, ids, owner, logger)
            for item in stack.services]


def deploy_stack(engine: EngineApi, path: ComposeFiles | str, stack_name: str, owner: dict[str, str],
                 settings: Convergence, logger: logging.Logger,
                 variables: Mapping[str, str] | None = None, relative_binds: bool = True) -> dict[str, Any]:
    """Create (or update in place) every object and service of the compose file, then wait
    until every service has converged. On failure: a stack this run created is removed whole;
    of a stack that was there before, services this run created are removed and services it
    changed get their previous spec back (nothing that existed before is removed)."""
    stack = parse_compose_file(path, "properties.compose_file", stack_name, variables, logger, relative_binds)
    labels = {**owner, NAMESPACE: stack_name}
    check_external(engine, stack, owner)
    check_external_exist(engine, stack)
    existed = bool(engine.find_services(owner))
    rollouts: list[services.Rollout] = []
    try:
        ids = ensure_stack_objects(engine, stack, labels, owner, logger)
        for item in stack.services:
            rollouts.append(apply_stack_service(engine, stack, stack_name, item, labels, ids, owner, logger))
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


def stack_drift(engine: EngineApi, path: ComposeFiles | str, stack_name: str,
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
            ids.setdefault(obj.kind.title(), {})[obj.name] = object_id(existing[0])
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


def remove_stack(engine: EngineApi, owner: dict[str, str], logger: logging.Logger) -> None:
    """Remove the stack's services, wait until their containers are gone, then its objects."""
    services.remove_services(engine, owner, logger)
    services.remove_objects(engine, owner, logger, ("secret", "config", "network", "volume"))
