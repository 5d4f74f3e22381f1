"""A compose file deployed as a Swarm stack, through the Engine API (no docker CLI): deploy,
drift and remove. The file is parsed by cloudify_swarm.compose (compose.stack.parse_compose_file)
into the same Microservice / ContainerSpec / PortSpec settings a Microservice node uses, plus
what only compose has, named and labelled as `docker stack deploy` does (STACK_service, ...,
label com.docker.stack.namespace=STACK), so `docker stack ls` / `docker stack ps STACK` show it.
Every object also carries our ownership labels, so uninstall removes the whole stack and the
leak check sees what is left. I/O through the Engine protocol only (engine_api.EngineApi).

An `external` network, volume, secret or config is used by name only when it is nobody's (made
by an operator) or this deployment's: one carrying another deployment's or tenant's ownership
labels is refused before anything is made (issue 24).
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from cloudify_shared.errors import UserError, WaitTimeout, WorkloadFailed
from cloudify_shared.ownership import foreign_owner
from cloudify_swarm import objects, services
from cloudify_swarm.compose.engine_spec import NAMESPACE, stack_service_spec
from cloudify_swarm.compose.files import ComposeFiles
from cloudify_swarm.compose.interpolation import hide_values
from cloudify_swarm.compose.refusals import name_refusal
from cloudify_swarm.compose.service import StackService
from cloudify_swarm.compose.stack import Stack, parse_compose_file
from cloudify_swarm.drift import spec_drift
from cloudify_swarm.engine_api import EngineApi, EngineRefused, object_id
from cloudify_swarm.spec.microservice import Convergence


def ensure_stack_objects(engine: EngineApi, stack: Stack, labels: dict[str, str],
                         owner: dict[str, str],
                         logger: logging.Logger) -> dict[str, dict[str, str]]:
    """Create the stack's networks, configs and secrets (or reuse ours); check that external
    ones exist. Volumes are left to the engine, which makes each for the first task that mounts
    it, with the driver and labels the mount names (as docker stack deploy leaves them).
    Returns kind ('Secret', 'Config', ...) -> engine name -> id."""
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
            ids.setdefault(obj.kind.title(), {})[obj.name] = objects.ensure_object(
                engine, obj.kind, obj.name, not obj.external, owner, options, logger, all_labels)
        except UserError as error:  # named with the file and the key (the Engine's refusal too)
            refused = (f"the Docker Engine refused the {obj.kind}: "
                       if isinstance(error, EngineRefused) else "")
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
                    f"belongs to {other}, not to this deployment: a stack uses by name only its "
                    "own deployment's objects or those no deployment owns (made by an operator)",
                    stack.substituted))


def check_external_exist(engine: EngineApi, stack: Stack) -> None:
    """Refuse, before anything is made and naming the file and the key, an external network,
    secret or config that does not exist (as docker stack deploy refuses it); an external
    volume that does not exist is left to the engine (its driver makes it, as with docker)."""
    for obj in (o for o in stack.objects if o.external and o.kind != "volume"):
        if not engine.find_objects(obj.kind, name=obj.name):
            raise UserError(hide_values(
                f"{stack.where}.{obj.kind}s.{obj.key}: the external {obj.kind} {obj.name!r} "
                "does not exist: create it before the stack (docker stack deploy refuses it too), "
                "or declare it without external", stack.substituted))


def apply_stack_service(engine: EngineApi, stack: Stack, stack_name: str, item: StackService,
                        labels: dict[str, str], ids: dict[str, dict[str, str]],
                        owner: dict[str, str], logger: logging.Logger) -> services.Rollout:
    """Create or update one service; an Engine refusal names the file, the service, the key."""
    try:
        spec = stack_service_spec(stack_name, item, labels, ids)
        return services.apply_service(engine, spec, owner, logger)
    except EngineRefused as error:
        refusal = name_refusal(error, stack.where, item.key)
        raise UserError(hide_values(str(refusal), stack.substituted)) from error
    except UserError as error:  # e.g. a service of that name that is not ours
        raise UserError(hide_values(f"{stack.where}.services.{item.key}: {error}",
                                    stack.substituted)) from error


def apply_stack(engine: EngineApi, stack: Stack, stack_name: str, owner: dict[str, str],
                logger: logging.Logger) -> Iterator[services.Rollout]:
    """Create (or reuse) the stack's objects, then create (or update in place) each service,
    yielding its rollout as it is applied, so a caller that fails part way knows what it made;
    no wait. Check the external objects first (check_external, check_external_exist)."""
    labels = {**owner, NAMESPACE: stack_name}
    ids = ensure_stack_objects(engine, stack, labels, owner, logger)
    for item in stack.services:
        yield apply_stack_service(engine, stack, stack_name, item, labels, ids, owner, logger)


def deploy_stack(engine: EngineApi, path: ComposeFiles | str, stack_name: str,
                 owner: dict[str, str], settings: Convergence, logger: logging.Logger,
                 variables: Mapping[str, str] | None = None,
                 relative_binds: bool = True) -> dict[str, Any]:
    """Create (or update in place) every object and service of the compose file, then wait
    until every service has converged. On failure: a stack this run created is removed whole;
    of a stack that was there before, services this run created are removed and services it
    changed get their previous spec back (nothing that existed before is removed)."""
    stack = parse_compose_file(path, "properties.compose_file", stack_name, variables, logger,
                               relative_binds)
    check_external(engine, stack, owner)
    check_external_exist(engine, stack)
    existed = bool(engine.find_services(owner))
    rollouts: list[services.Rollout] = []
    try:
        for rollout in apply_stack(engine, stack, stack_name, owner, logger):
            rollouts.append(rollout)
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
        s.key: services.service_facts(engine, r.service_id)
        for s, r in zip(stack.services, rollouts, strict=True)}}


def stack_drift(engine: EngineApi, path: ComposeFiles | str, stack_name: str,
                owner: dict[str, str], variables: Mapping[str, str] | None = None,
                relative_binds: bool = True) -> dict[str, str]:
    """{'<service>.<field>': what differs} between the compose file and the live stack
    (read only: nothing is created)."""
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
    objects.remove_objects(engine, owner, logger, ("secret", "config", "network", "volume"))
