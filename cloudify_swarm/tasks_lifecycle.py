"""Cloudify's standard lifecycle operations for the Swarm types: check_status, check_drift,
heal and update (cloudify.interfaces.validation / cloudify.interfaces.lifecycle). Thin like
tasks.py: read ctx, call cloudify_swarm.lifecycle / services / stacks, write runtime properties.

Who owns what decides where each operation lives:
- the Container's start creates the service, so the Container checks, heals, drift-checks and
  updates it; its desired spec is rebuilt from the CURRENT properties of the Container and of
  its Microservice (a deployment update changes ctx.node.properties), plus the env given to
  start as an input (kept as it runs: only its names are recorded);
- the Microservice owns its networks/secrets/configs, or the whole compose stack, and does the
  same for them. Its check_drift also reports its changed properties, so a deployment update
  updates it (objects created, recorded settings renewed) before its Container (Cloudify runs
  the update of a relationship's target first).
check_status fails with what is wrong; check_drift returns {field: what differs} (None when
nothing does; secret values are never shown); heal leaves a healthy service untouched.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from cloudify_shared.ctx_protocol import Ctx
from cloudify_shared.errors import UserError
from cloudify_shared.tasks import task
from cloudify_swarm import lifecycle, services
from cloudify_swarm.context.compose_file import compose_copy, compose_options
from cloudify_swarm.context.engine import engine_for
from cloudify_swarm.context.links import (
    host_of,
    instance_microservice,
    own_properties,
    owner_of,
    related_ports,
)
from cloudify_swarm.drift import keep_live_env
from cloudify_swarm.engine_api import EngineApi
from cloudify_swarm.spec.container import parse_container
from cloudify_swarm.spec.microservice import Microservice, microservice_from_dict
from cloudify_swarm.spec.ports import PortSpec
from cloudify_swarm.spec.service import build_service_spec
from cloudify_swarm.tasks import apply_objects, publish_service

# ----------------------------------------------------------------------------- Container


def container_target(ctx: Ctx) -> tuple[Any, dict[str, Any], Microservice, dict[str, str]]:
    """The Microservice (the relationship's target), its runtime properties, its current
    settings (this instance's names and the Port nodes' ports it recorded) and the ownership
    labels of the service."""
    host = host_of(ctx)
    host.instance.refresh(force=True)
    host_props = dict(host.instance.runtime_properties)
    if not host_props.get("service_config"):
        raise UserError(f"microservice '{host.node.id}' is not installed")
    service = instance_microservice(host.node, str(host_props.get("name_suffix") or ""))
    ports = [PortSpec(**p) for p in host_props.get("linked_ports") or []]
    service = dataclasses.replace(service, ports=service.ports + ports)
    return host, host_props, service, owner_of(ctx, host.instance.id)


def desired_spec(ctx: Ctx, engine: EngineApi, host_props: dict[str, Any],
                 service: Microservice, owner: dict[str, str]) -> dict[str, Any]:
    name = host_props["service_name"]
    container = parse_container(own_properties(ctx.node), "properties")
    ids = host_props.get("object_ids") or {}
    for kind, refs in (("Secret", service.secrets), ("Config", service.configs)):
        missing = [r.name for r in refs if r.name not in ids.get(kind, {})]
        if missing:
            raise UserError(f"{kind.lower()}(s) {', '.join(missing)} not created yet (the "
                            "Microservice's start, update or heal creates them)")
    spec = build_service_spec(service, name, container, service.ports + related_ports(ctx), owner,
                              ids, keep_up=True)
    live = lifecycle.find_service(engine, owner, name)
    return keep_live_env(spec, live["Spec"] if live else None,
                         list(ctx.instance.runtime_properties.get("env_input_keys") or []))


@task
def container_check_status(ctx: Ctx, **_: Any) -> str:
    host, host_props, _service, owner = container_target(ctx)
    with engine_for(ctx, host_props, host) as engine:
        message = lifecycle.check_status(engine, owner, host_props["service_name"])
    ctx.logger.info(message)
    return message


@task
def container_check_drift(ctx: Ctx, **_: Any) -> dict[str, str] | None:
    host, host_props, service, owner = container_target(ctx)
    with engine_for(ctx, host_props, host) as engine:
        spec = desired_spec(ctx, engine, host_props, service, owner)
        networks = (host_props.get("object_ids") or {}).get("Network")
        drift = lifecycle.drift_of(engine, owner, spec, networks)
    ctx.logger.info("drift of service %s: %s", spec["Name"], drift or "none")
    return drift or None


@task
def container_heal(ctx: Ctx, **_: Any) -> None:
    host, host_props, service, owner = container_target(ctx)
    with engine_for(ctx, host_props, host) as engine:
        spec = desired_spec(ctx, engine, host_props, service, owner)
        service_id, done = lifecycle.heal_service(engine, spec, owner, service.convergence,
                                                  ctx.logger)
        publish_service(ctx, host, services.service_facts(engine, service_id))
    ctx.logger.info("service %s: %s", spec["Name"], done)


@task
def container_update(ctx: Ctx, **_: Any) -> None:
    host, host_props, service, owner = container_target(ctx)
    with engine_for(ctx, host_props, host) as engine:
        spec = desired_spec(ctx, engine, host_props, service, owner)
        service_id = lifecycle.update_in_place(engine, spec, owner, service.convergence, ctx.logger,
                                               (host_props.get("object_ids") or {}).get("Network"))
        publish_service(ctx, host, services.service_facts(engine, service_id))


# ----------------------------------------------------------------------------- Microservice


def installed(ctx: Ctx) -> tuple[dict[str, Any], Microservice]:
    props = ctx.instance.runtime_properties
    if not props.get("service_config"):
        raise UserError("the Microservice is not installed")
    return props, microservice_from_dict(props["service_config"])


def current_config(ctx: Ctx, props: dict[str, Any]) -> Microservice:
    """The settings the current properties ask for, with the instance's recorded names."""
    service = instance_microservice(ctx.node, str(props.get("name_suffix") or ""))
    return dataclasses.replace(service, ports=service.ports + [PortSpec(**p) for p in
                                                               props.get("linked_ports") or []])


def stack_names(props: dict[str, Any]) -> list[str]:
    return [facts["name"] for facts in ((props.get("stack") or {}).get("services") or {}).values()]


@task
def microservice_check_status(ctx: Ctx, **_: Any) -> str:
    props, service = installed(ctx)
    with engine_for(ctx, props) as engine:
        if service.compose_file:
            if not props.get("stack"):
                raise UserError(f"stack {props['service_name']} was never deployed")
            message = "; ".join(lifecycle.check_status(engine, owner_of(ctx, ctx.instance.id), name)
                                for name in stack_names(props))
        else:
            message = lifecycle.check_objects(engine, service)
    ctx.logger.info(message)
    return message


@task
def microservice_check_drift(ctx: Ctx, **_: Any) -> dict[str, str] | None:
    props, recorded = installed(ctx)
    current = current_config(ctx, props)
    drift = lifecycle.config_drift(recorded, current)
    with engine_for(ctx, props) as engine:
        if current.compose_file:
            from cloudify_swarm import stacks  # here: the compose parser (yaml) only for a stack
            with compose_copy(ctx, current.compose_file) as path:
                drift.update(stacks.stack_drift(engine, path, props["service_name"],
                                                owner_of(ctx, ctx.instance.id),
                                                **compose_options(ctx, current)))
        else:
            drift.update(lifecycle.objects_drift(engine, current))
    ctx.logger.info("drift: %s", drift or "none")
    return drift or None


@task
def microservice_update(ctx: Ctx, **_: Any) -> None:
    """Create what the current properties add, renew the recorded settings; a compose stack
    is deployed again in place (its services updated with their update_config)."""
    props, recorded = installed(ctx)
    current = current_config(ctx, props)
    if (current.stack_name or current.name) != (recorded.stack_name or recorded.name):
        raise UserError("properties.name / stack_name changed: a Swarm service cannot be renamed "
                        "in place (this takes a reinstall)")
    apply_objects(ctx, props, current)
    props["service_config"] = current.to_dict()


@task
def microservice_heal(ctx: Ctx, **_: Any) -> None:
    """Bring back missing networks/secrets/configs, or the stack's missing services."""
    props, _recorded = installed(ctx)
    apply_objects(ctx, props, instance_microservice(ctx.node, str(props.get("name_suffix") or "")))
