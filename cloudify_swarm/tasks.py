"""Operations named in plugin.yaml for the Swarm types. Thin: read ctx, call the layer below,
write runtime properties. The only modules of this plugin that import cloudify.

How a service comes together, given Cloudify's install order (a host before what it contains,
a relationship target before its source):
- Port nodes have no dependencies; a Microservice or a Container connects to them
  (cloudify.swarm.relationships.publishes), so every Port is validated before they run.
- Microservice create validates everything and publishes `service_config` (with its ports),
  `service_name` and `endpoint`; start creates the networks/secrets/configs it owns (or deploys
  the compose stack).
- Container (contained in the Microservice) validates in create; its relationship's preconfigure
  claims the Microservice (a second Container is a UserError); start assembles the spec from the
  Microservice's published config, its own properties, the `env` operation input and the ports,
  creates or adopts the service and waits for convergence; stop removes it and waits.
- Day-2 scale/update run on the Microservice, which owns the service's labels.

Every operation runs in a fresh process on a manager, so the heavy modules load only where an
operation needs them: docker-py (with requests and paramiko) when it talks to the Engine, the
compose parser (yaml) for stacks, cloudify.workflows.local (dsl_parser, networkx) on a write
conflict. Validation-only operations (Port, Container, Microservice create) load no client library.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cloudify_shared.errors import UserError
from cloudify_shared.ownership import label_value, ownership_labels
from cloudify_shared.tasks import task
from cloudify_shared.validation import string_mapping
from cloudify_swarm import services
from cloudify_swarm.endpoint import Endpoint, parse_endpoint, warn_if_insecure
from cloudify_swarm.service_spec import (
    build_service_spec,
    microservice_from_dict,
    parse_microservice,
)
from cloudify_swarm.spec import PortSpec, parse_container, parse_port

if TYPE_CHECKING:
    from cloudify_swarm.docker_engine import Engine

MANAGER = "cloudify.swarm.Manager"
MICROSERVICE = "cloudify.swarm.Microservice"
PORT = "cloudify.swarm.Port"
TO_MANAGER = "cloudify.swarm.relationships.connected_to_manager"
IN_MICROSERVICE = "cloudify.swarm.relationships.contained_in_microservice"
ROOT_PROPERTIES = ("use_external_resource", "resource_id")


@task
def manager_create(ctx: Any, **_: Any) -> None:
    endpoint = parse_endpoint(ctx.node.properties.get("endpoint"), "properties.endpoint")
    warn_if_insecure(endpoint, ctx.logger)
    from cloudify_swarm import docker_engine
    client = docker_engine.open_client(endpoint)
    try:
        facts = docker_engine.swarm_facts(client)
    finally:
        client.close()
    ctx.instance.runtime_properties["swarm_info"] = {"endpoint": endpoint.public(), **facts}
    ctx.logger.info("swarm %s reachable at %s (%d manager(s))", facts["swarm_id"],
                    endpoint.docker_host, len(facts["managers"]))


@task
def manager_delete(ctx: Any, **_: Any) -> None:
    # The swarm belongs to whoever made it; forgetting it is all that uninstall does.
    ctx.instance.runtime_properties.pop("swarm_info", None)


# ----------------------------------------------------------------------------- helpers

def own_properties(node: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(node.properties).items() if k not in ROOT_PROPERTIES}


def related(ctx: Any, type_name: str) -> list[Any]:
    return [r for r in ctx.instance.relationships if type_name in r.target.node.type_hierarchy]


def related_ports(ctx: Any) -> list[PortSpec]:
    return [parse_port(own_properties(r.target.node), f"node '{r.target.node.id}' properties")
            for r in related(ctx, PORT)]


def lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def resolve_endpoint(ctx: Any, key: str) -> Endpoint:
    """The endpoint from the one Manager (or `connected_to_manager` target) this node relates to,
    read from the target's runtime property `key` (dotted), `.endpoint` below it."""
    links = [r for r in ctx.instance.relationships
             if TO_MANAGER in r.type_hierarchy or MANAGER in r.target.node.type_hierarchy]
    if len(links) != 1:
        raise UserError(f"needs exactly one relationship to a {MANAGER} (contained_in) or one "
                        f"{TO_MANAGER} to a node carrying the endpoint; found {len(links)}")
    target = links[0].target
    info = lookup(dict(target.instance.runtime_properties), key)
    where = f"node '{target.node.id}' runtime property '{key}.endpoint'"
    if not isinstance(info, dict) or not isinstance(info.get("endpoint"), dict):
        raise UserError(f"{where} is not set (properties.swarm_info_key names where to read it)")
    return parse_endpoint(info["endpoint"], where)


def default_service_name(ctx: Any) -> str:
    name = label_value(f"{ctx.node.id}-{ctx.deployment.id}").replace(".", "-")
    return name.strip("-_")[:63].strip("-_")


def host_of(ctx: Any) -> Any:
    hosts = [r for r in related(ctx, MICROSERVICE) if IN_MICROSERVICE in r.type_hierarchy]
    if len(hosts) != 1:
        raise UserError(f"a Container must be contained in exactly one {MICROSERVICE} through "
                        f"{IN_MICROSERVICE}")
    return hosts[0].target


def owner_of(ctx: Any, instance_id: str) -> dict[str, str]:
    return ownership_labels(ctx.deployment.id, instance_id)


def connect(props: Any) -> Engine | None:
    """The engine for a Microservice's published endpoint; None when create never ran."""
    if not props.get("endpoint"):
        return None
    from cloudify_swarm.docker_engine import Engine
    return Engine.connect(parse_endpoint(props["endpoint"], "runtime endpoint"))


@contextlib.contextmanager
def compose_copy(ctx: Any, compose_file: str) -> Iterator[str]:
    """A local copy of the compose file and the config/secret files it names beside it
    (blueprint resources), removed afterwards; an absolute path is used as it is."""
    if os.path.isabs(compose_file):
        yield compose_file
        return
    from cloudify_swarm import stacks
    folder = tempfile.mkdtemp(prefix="vnf-compose-")
    try:
        target = os.path.join(folder, os.path.basename(compose_file))
        shutil.copyfile(ctx.download_resource(compose_file), target)
        for relative in stacks.referenced_files(target):
            local = os.path.normpath(os.path.join(folder, relative))
            if not local.startswith(folder + os.sep):
                raise UserError(f"properties.compose_file: {relative!r} points outside the blueprint")
            os.makedirs(os.path.dirname(local), exist_ok=True)
            source = posixpath.normpath(posixpath.join(posixpath.dirname(compose_file), relative))
            shutil.copyfile(ctx.download_resource(source), local)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ----------------------------------------------------------------------------- Port

@task
def port_create(ctx: Any, **_: Any) -> None:
    port = parse_port(own_properties(ctx.node), "properties")
    ctx.instance.runtime_properties["port"] = dataclasses.asdict(port)


# ----------------------------------------------------------------------------- Microservice

@task
def microservice_create(ctx: Any, **_: Any) -> None:
    service = parse_microservice(own_properties(ctx.node))
    service = dataclasses.replace(service, ports=service.ports + related_ports(ctx))
    endpoint = resolve_endpoint(ctx, service.swarm_info_key)
    warn_if_insecure(endpoint, ctx.logger)
    if service.compose_file:
        from cloudify_swarm import stacks
        with compose_copy(ctx, service.compose_file) as path:
            stacks.parse_compose_file(path, "properties.compose_file")  # validate before any call
    props = ctx.instance.runtime_properties
    props["endpoint"] = endpoint.public()
    props["service_config"] = service.to_dict()
    props["service_name"] = service.stack_name or service.name or default_service_name(ctx)


@task
def microservice_start(ctx: Any, **_: Any) -> None:
    props = ctx.instance.runtime_properties
    # parsed again from the properties: runtime properties never hold secret contents
    service = parse_microservice(own_properties(ctx.node))
    owner = owner_of(ctx, ctx.instance.id)
    engine = connect(props)
    assert engine is not None
    try:
        ids = services.ensure_objects(engine, service, owner, ctx.logger)
        props["object_ids"] = ids
        if service.compose_file:
            from cloudify_swarm import stacks
            with compose_copy(ctx, service.compose_file) as path:
                props["stack"] = stacks.deploy_stack(engine, path, props["service_name"], owner,
                                                     service.convergence, ctx.logger)
    finally:
        engine.close()


@task
def microservice_stop(ctx: Any, **_: Any) -> None:
    props = ctx.instance.runtime_properties
    engine = connect(props)
    if engine is None:
        return
    try:
        services.remove_services(engine, owner_of(ctx, ctx.instance.id), ctx.logger)
        props.pop("stack", None)
        props.pop("service", None)
    finally:
        engine.close()


@task
def microservice_delete(ctx: Any, **_: Any) -> None:
    props = ctx.instance.runtime_properties
    engine = connect(props)
    if engine is not None:
        owner = owner_of(ctx, ctx.instance.id)
        try:
            services.remove_services(engine, owner, ctx.logger)
            services.remove_objects(engine, owner, ctx.logger,
                                    ("secret", "config", "network", "volume"))
        finally:
            engine.close()
    for key in ("endpoint", "service_config", "service_name", "object_ids", "container", "invalid"):
        props.pop(key, None)


def day2_settings(ctx: Any) -> tuple[Any, Engine]:
    props = ctx.instance.runtime_properties
    if not props.get("service_config"):
        raise UserError("the Microservice is not installed")
    service = microservice_from_dict(props["service_config"])
    if service.compose_file:
        raise UserError("scale and update apply to a single service; a compose stack changes "
                        "through its compose file")
    engine = connect(props)
    assert engine is not None
    return service, engine


@task
def microservice_scale(ctx: Any, replicas: Any = None, **_: Any) -> None:
    props = ctx.instance.runtime_properties
    service, engine = day2_settings(ctx)
    try:
        service_id = services.scale_service(engine, owner_of(ctx, ctx.instance.id),
                                            props["service_name"], replicas, service.convergence,
                                            ctx.logger)
        props["service"] = services.service_facts(engine, service_id)
    finally:
        engine.close()


@task
def microservice_update(ctx: Any, image: Any = None, env: Any = None, ports: Any = None,
                        **_: Any) -> None:
    props = ctx.instance.runtime_properties
    env_values = string_mapping(env, "inputs.env") if env else None
    service, engine = day2_settings(ctx)
    try:
        service_id = services.update_service(engine, owner_of(ctx, ctx.instance.id),
                                             props["service_name"], image, env_values, ports,
                                             service.convergence, ctx.logger)
        props["service"] = services.service_facts(engine, service_id)
    finally:
        engine.close()


# ----------------------------------------------------------------------------- Container

@task
def container_create(ctx: Any, **_: Any) -> None:
    parse_container(own_properties(ctx.node), "properties")
    host_of(ctx)
    related_ports(ctx)


def check_valid(host: Any) -> None:
    host.instance.refresh(force=True)
    reason = host.instance.runtime_properties.get("invalid")
    if reason:
        raise UserError(f"microservice '{host.node.id}' is invalid: {reason}")


@task
def container_start(ctx: Any, env: Any = None, **_: Any) -> None:
    host = host_of(ctx)
    check_valid(host)
    host_props = dict(host.instance.runtime_properties)
    service = microservice_from_dict(host_props["service_config"])
    container = parse_container(own_properties(ctx.node), "properties", env)
    owner = owner_of(ctx, host.instance.id)
    spec = build_service_spec(service, host_props["service_name"], container,
                              service.ports + related_ports(ctx), owner, host_props.get("object_ids"))
    engine = connect(host_props)
    assert engine is not None
    try:
        service_id = services.deploy_service(engine, spec, owner, service.convergence, ctx.logger)
        try:
            check_valid(host)  # a second Container may have been found meanwhile
        except UserError:
            services.remove_services(engine, owner, ctx.logger)
            raise
        ctx.instance.runtime_properties["service"] = services.service_facts(engine, service_id)
    finally:
        engine.close()


@task
def container_stop(ctx: Any, **_: Any) -> None:
    host = host_of(ctx)
    host_props = dict(host.instance.runtime_properties)
    engine = connect(host_props)
    if engine is None:
        return
    try:
        services.remove_services(engine, owner_of(ctx, host.instance.id), ctx.logger,
                                 host_props.get("service_name"))
    finally:
        engine.close()
    ctx.instance.runtime_properties.pop("service", None)


# ----------------------------------------------------------------------------- Container -> Microservice

def write_conflicts() -> tuple[type[Exception], ...]:
    """What a concurrent write raises: local runs raise StorageConflictError on a version
    conflict (imported only now: cloudify.workflows.local loads dsl_parser and networkx)."""
    try:
        from cloudify.workflows.local import StorageConflictError
    except ImportError:  # pragma: no cover
        return ()
    return (StorageConflictError,)


def check_claim(ctx: Any, holder: Any) -> None:
    if holder and holder != ctx.source.instance.id:
        raise UserError(
            f"microservice '{ctx.target.node.id}' already has container '{holder}': a Swarm "
            "service has exactly one container spec; put the other Container in a Microservice "
            "of its own")


@task
def container_claim(ctx: Any, **_: Any) -> None:
    """Make this Container the Microservice's one container, or fail clearly."""
    if ctx.target.node.properties.get("compose_file"):
        raise UserError(f"microservice '{ctx.target.node.id}' deploys a compose file and takes "
                        "no Container node")
    try:
        set_on_microservice(ctx, "container", ctx.source.instance.id, check_claim)
    except UserError as error:
        invalidate_microservice(ctx, str(error))
        raise


def set_on_microservice(ctx: Any, key: str, value: Any, check: Any = None) -> None:
    """Write one runtime property of the target Microservice, retrying on concurrent writes."""
    for _attempt in range(20):
        ctx.target.instance.refresh(force=True)
        if check is not None:
            check(ctx, ctx.target.instance.runtime_properties.get(key))
        ctx.target.instance.runtime_properties[key] = value
        try:
            ctx.target.instance.update()
            return
        except Exception as error:  # only a write conflict is tried again
            if not isinstance(error, write_conflicts()):
                raise
    raise UserError(f"could not record {key} on microservice '{ctx.target.node.id}'")


def invalidate_microservice(ctx: Any, reason: str) -> None:
    """Mark the Microservice invalid (its first Container's start refuses, or undoes, the service)
    and remove any service already made for it, so a failed install leaves nothing behind."""
    set_on_microservice(ctx, "invalid", reason)
    engine = connect(dict(ctx.target.instance.runtime_properties))
    if engine is None:
        return
    try:
        services.remove_services(engine, owner_of(ctx, ctx.target.instance.id), ctx.logger)
    finally:
        engine.close()


@task
def container_publish(ctx: Any, **_: Any) -> None:
    """Copy the service facts onto the Microservice, where get_attribute users look."""
    ctx.target.instance.runtime_properties["service"] = ctx.source.instance.runtime_properties.get("service")


@task
def container_release(ctx: Any, **_: Any) -> None:
    props = ctx.target.instance.runtime_properties
    if props.get("container") == ctx.source.instance.id:
        props.pop("container", None)
        props.pop("service", None)
