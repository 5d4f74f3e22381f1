"""The networks, secrets and configs a Microservice (or a compose stack) owns or uses: their
contents read before anything is made, reused when ours or allowed, created with our labels,
removed by their labels. Plain Python over the Engine protocol (engine_api.EngineApi): no ctx.

Another deployment's or tenant's objects are never used (issue 24): one named with `create:
false` (or one found to adopt) that carries another deployment's ownership labels
(cloudify_shared.ownership.foreign_owner) is refused, naming it and its owner, before anything
is made; one without our suite's labels (an operator's) or of this deployment is used. Every
removal checks the labels of what it is about to remove, whatever the listing's filter answered.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cloudify_shared.errors import NotFound, UserError
from cloudify_shared.ownership import foreign_owner
from cloudify_shared.redaction import register_secret
from cloudify_swarm.engine_api import EngineApi, object_id, object_labels, object_name
from cloudify_swarm.spec.microservice import Microservice


def owned(labels: dict[str, str], owner: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in owner.items())


ReadFile = Callable[[str, str], str]  # (path, field) -> text, under the local-file policy


def object_data(service: Microservice, read_file: ReadFile) -> dict[tuple[str, str], str]:
    """The contents of the secrets/configs to create, keyed by (kind, name); read all before
    anything is made, so a refused or missing file leaves nothing behind. Secret data is
    registered for redaction."""
    found: dict[tuple[str, str], str] = {}
    for kind, refs in (("secret", service.secrets), ("config", service.configs)):
        for index, ref in enumerate(refs):
            if not ref.create:
                continue
            if ref.file is not None:
                data = read_file(ref.file, f"properties.{kind}s[{index}].file")
            else:
                data = ref.data or ""
            if kind == "secret":
                register_secret(data)
            found[(kind, ref.name)] = data
    return found


def ensure_objects(engine: EngineApi, service: Microservice, owner: dict[str, str],
                   logger: logging.Logger, read_file: ReadFile) -> dict[str, dict[str, str]]:
    """Create the networks/secrets/configs asked for (or reuse ours); check the others exist
    and are no other deployment's. Every object is looked up and checked before any is made.
    Returns kind ('Network', 'Secret', 'Config') -> name -> id."""
    data = object_data(service, read_file)
    wanted: list[tuple[str, str, bool, dict[str, Any]]] = [
        ("network", n.name, n.create, {"driver": n.driver, "attachable": n.attachable})
        for n in service.networks]
    for kind, refs in (("secret", service.secrets), ("config", service.configs)):
        wanted += [(kind, r.name, r.create, {"data": data[(kind, r.name)]} if r.create else {})
                   for r in refs]
    found: list[str | None] = []
    planned: set[tuple[str, str]] = set()  # to be created by an earlier entry
    for kind, name, create, _ in wanted:
        found.append(None if (kind, name) in planned
                     else existing_object_id(engine, kind, name, create, owner))
        if found[-1] is None:
            planned.add((kind, name))
    ids: dict[str, dict[str, str]] = {"Network": {}, "Secret": {}, "Config": {}}
    for (kind, name, _create, options), object_id_found in zip(wanted, found, strict=True):
        if object_id_found is None and name in ids[kind.title()]:  # named twice: made once
            object_id_found = ids[kind.title()][name]
        if object_id_found is None:
            object_id_found = engine.create_object(kind, name, owner, **options)
            logger.info("created %s %s", kind, name)
        ids[kind.title()][name] = object_id_found
    return ids


def existing_object_id(engine: EngineApi, kind: str, name: str, create: bool,
                       owner: dict[str, str]) -> str | None:
    """The id of the existing object `name` to use, or None when it is to be created. A
    UserError when it belongs to another deployment or tenant (whether or not we would create
    it), when create is asked and it is another node's or nobody's, or when it is missing and
    create is not asked."""
    existing = engine.find_objects(kind, name=name)
    if not existing:
        if not create:
            raise UserError(f"{kind} {name!r} does not exist (set create: true to have it created)")
        return None
    labels = object_labels(existing[0])
    other = foreign_owner(labels, owner)
    if other:
        raise UserError(f"{kind} {name!r} belongs to {other}, not to this deployment: a blueprint "
                        "uses by name only its own deployment's objects or those no deployment "
                        "owns (made by an operator); choose another name")
    if create and not owned(labels, owner):
        raise UserError(f"{kind} {name!r} already exists and is not this node's: "
                        "set create: false to use it as it is, or choose another name")
    return object_id(existing[0])


def ensure_object(engine: EngineApi, kind: str, name: str, create: bool, owner: dict[str, str],
                  options: dict[str, Any], logger: logging.Logger,
                  labels: dict[str, str] | None = None) -> str:
    """One object: ours or an allowed one reused (existing_object_id), else created."""
    found = existing_object_id(engine, kind, name, create, owner)
    if found is not None:
        return found
    new_id = engine.create_object(kind, name, labels or owner, **options)
    logger.info("created %s %s", kind, name)
    return new_id


def remove_objects(engine: EngineApi, owner: dict[str, str], logger: logging.Logger,
                   kinds: tuple[str, ...] = ("secret", "config", "network")) -> list[str]:
    """Remove every object of these kinds that carries the owner's labels (never others: the
    labels of each are checked before it is removed)."""
    removed = []
    for kind in kinds:
        for item in engine.find_objects(kind, owner):
            if not owned(object_labels(item), owner):
                continue
            try:
                engine.remove_object(kind, object_id(item))
            except NotFound:
                continue
            removed.append(f"{kind}/{object_name(item)}")
    if removed:
        logger.info("removed %s", ", ".join(removed))
    return removed
