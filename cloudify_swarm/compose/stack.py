"""A compose v3 file -> the stack `docker stack deploy` would make of it: its networks, volumes,
configs and secrets (StackObject, named STACK_key unless external or named) and its services
(compose.service), as the docker CLI reads the file.

Pure but for the files the compose file names, read through files.ComposeFiles by their
interpolated value (the local-file policy sees the path that is opened). What a tenant's
blueprint controls is bounded before work (issue 24): the file is loaded by yaml.load_compose_yaml
(as the docker CLI reads YAML, under limits' bounds on bytes and alias expansion), the objects of
one stack are counted (limits.check_count), port ranges are measured before they are expanded
(ports.py), every duration goes through limits.duration. A UserError about the file names the
variable, never the value, of every variable substituted into it (a compose variable may come
from get_secret).
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
from cloudify_shared.errors import UserError
from cloudify_shared.redaction import register_secret
from cloudify_swarm.compose import keys
from cloudify_swarm.compose.context import ServiceContext
from cloudify_swarm.compose.files import ComposeFiles
from cloudify_swarm.compose.interpolation import dotenv_variables, hide_values, interpolate
from cloudify_swarm.compose.objects import object_options
from cloudify_swarm.compose.service import StackService, parse_service
from cloudify_swarm.compose.versions import check_version_keys
from cloudify_swarm.compose.yaml import load_compose_yaml

SECTIONS = (("network", "networks"), ("volume", "volumes"), ("config", "configs"),
            ("secret", "secrets"))
OBJECT_KEYS = {"network": keys.NETWORK_KEYS, "volume": keys.VOLUME_KEYS,
               "config": keys.FILE_KEYS, "secret": keys.FILE_KEYS}
LOGGER = logging.getLogger(__name__)


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
    (files.py; a plain path is read as the local profile reads it). `variables`: the
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
        log.info("%s.services.%s: ignoring what Swarm does not use: %s", where, service,
                 ", ".join(ignored))
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
                       "driver": o.options.get("declared_driver"),
                       "driver_opts": o.options.get("driver_opts")}
               for o in objects if o.kind == "volume"}
    context = ServiceContext(stack, base, names, volumes, dict(variables or {}), files,
                             relative_binds)
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
        raise UserError(f"{path}: must be a string (quote it: '{version}'), as docker's compose "
                        "schema says")
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


def stack_objects(data: dict[str, Any], stack: str, files: ComposeFiles,
                  where: str) -> list[StackObject]:
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
    policy (files.py); a secret's content is registered for redaction."""
    if not values.get("file"):
        raise UserError(f"{path}.file: required unless external")
    content = files.read_text(str(values["file"]), f"{path}.file")
    if kind == "secret":
        register_secret(content)
    return content
