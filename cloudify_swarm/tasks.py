"""Operations named in plugin.yaml for the Swarm types. Thin: read ctx, call the layer below,
write runtime properties. The only modules of this plugin that import cloudify. How an
operation finds its Manager, Microservice and Ports is in context/links.py, how it opens the
Engine in context/engine.py, how it reads a compose file in context/compose_file.py.

How a service comes together, given Cloudify's install order (a host before what it contains,
a relationship target before its source):
- Port nodes have no dependencies; a Microservice or a Container connects to them
  (cloudify.swarm.relationships.publishes), so every Port is validated before they run.
- Microservice create validates everything and publishes `service_config` (with its ports),
  `service_name` and `endpoint`; start creates the networks/secrets/configs it owns (or deploys
  the compose stack).
- Container (contained in the Microservice) validates in create and claims the Microservice (a
  second Container is a UserError); start assembles the spec from the Microservice's published
  config, its own properties, the `env` operation input and the ports, creates or adopts the
  service, waits for convergence and publishes the service's facts onto the Microservice; stop
  removes it, delete waits until it is gone and releases the claim. These are the Container's
  own operations under any containment: contained_in_microservice maps none (issue 28: each
  operation is a process on a manager).
- Day-2 scale/update run on the Microservice, which owns the service's labels.

Every operation runs in a fresh process on a manager, so the heavy modules load only where an
operation needs them: docker-py (with requests and paramiko) when it talks to the Engine, the
compose parser (yaml) for stacks, cloudify.workflows.local (dsl_parser, networkx) on a write
conflict. Validation-only operations (Port, Container, Microservice create) load no client library.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from cloudify_shared.ctx_protocol import Ctx
from cloudify_shared.errors import UserError
from cloudify_shared.tasks import local_files, on_manager, task, writable_target
from cloudify_shared.validation import string_mapping
from cloudify_swarm import lifecycle, naming, objects, services
from cloudify_swarm.context.compose_file import compose_copy, compose_options
from cloudify_swarm.context.engine import checked_endpoint, connect, engine_for
from cloudify_swarm.context.links import (
    CREATE_ENV,
    CREATE_ENV_KEYS,
    check_host,
    create_env_again,
    default_service_name,
    host_of,
    instance_microservice,
    name_suffix,
    own_properties,
    owner_of,
    recorded_compose_file,
    related_port_paths,
    related_ports,
    resolve_endpoint,
)
from cloudify_swarm.drift import keep_live_env
from cloudify_swarm.endpoint import parse_endpoint, warn_if_insecure
from cloudify_swarm.spec.container import parse_container
from cloudify_swarm.spec.microservice import Microservice, microservice_from_dict
from cloudify_swarm.spec.ports import parse_port
from cloudify_swarm.spec.service import build_service_spec, note_update_order

if TYPE_CHECKING:
    from cloudify_swarm.docker_engine import Engine

# set by stop (service removed, containers may linger) until delete or start waits
REMOVING = "removing"


@task
def manager_create(ctx: Ctx, **_: Any) -> None:
    endpoint = parse_endpoint(ctx.node.properties.get("endpoint"), "properties.endpoint")
    warn_if_insecure(endpoint, ctx.logger)
    from cloudify_swarm import docker_engine  # here: docker-py loads only where it is used
    # checked against the administrator's allowlist before anything is opened (context.engine)
    client = docker_engine.open_client(checked_endpoint(ctx, endpoint, "properties.endpoint"),
                                       on_manager(ctx))
    try:
        facts = docker_engine.swarm_facts(client)
    finally:
        client.close()
    ctx.instance.runtime_properties["swarm_info"] = {"endpoint": endpoint.public(), **facts}
    ctx.logger.info("swarm %s reachable at %s (%d manager(s))", facts["swarm_id"],
                    endpoint.docker_host, len(facts["managers"]))


@task
def manager_delete(ctx: Ctx, **_: Any) -> None:
    # The swarm belongs to whoever made it; forgetting it is all that uninstall did. Not mapped
    # since issue 28 (no task for it); kept for plans parsed with an earlier plugin.yaml.
    ctx.instance.runtime_properties.pop("swarm_info", None)


# ----------------------------------------------------------------------------- Port

@task
def port_create(ctx: Ctx, **_: Any) -> None:
    port = parse_port(own_properties(ctx.node), "properties")
    ctx.instance.runtime_properties["port"] = dataclasses.asdict(port)


# ----------------------------------------------------------------------------- Microservice

@task
def microservice_create(ctx: Ctx, **_: Any) -> None:
    suffix = name_suffix(ctx)
    service = instance_microservice(ctx.node, suffix)
    linked = related_port_paths(ctx)
    naming.check_shared_ports([(p, f"properties.ports[{i}]") for i, p in enumerate(service.ports)]
                              + linked, suffix)
    service = dataclasses.replace(service, ports=service.ports + [p for p, _ in linked])
    endpoint = resolve_endpoint(ctx, service.swarm_info_key)
    warn_if_insecure(endpoint, ctx.logger)
    # the files are checked before start makes anything
    objects.object_data(service, local_files(ctx).read_text)
    if service.compose_file:
        from cloudify_swarm.compose.stack import parse_compose_file  # yaml only for a stack
        with compose_copy(ctx, service.compose_file) as path:
            parse_compose_file(path, "properties.compose_file",  # validate before any call
                               logger=ctx.logger, **compose_options(ctx, service))
    props = ctx.instance.runtime_properties
    props["endpoint"] = endpoint.public()
    props["service_config"] = service.to_dict()
    props["linked_ports"] = [dataclasses.asdict(p) for p, _ in linked]
    props["service_name"] = (service.stack_name or service.name
                             or naming.suffixed(default_service_name(ctx), suffix))


@task
def microservice_start(ctx: Ctx, **_: Any) -> None:
    props = ctx.instance.runtime_properties
    apply_objects(ctx, props, start_settings(ctx, props))


def start_settings(ctx: Ctx, props: Any) -> Microservice:
    """The settings start applies: those create recorded (this instance's names, from the
    properties create read in the same workflow), unless they name secret or config contents
    or compose variables, which runtime properties never hold: then the properties are parsed
    again for them."""
    recorded = props.get("service_config")
    if (isinstance(recorded, dict) and not recorded.get("secrets") and not recorded.get("configs")
            and not recorded.get("compose_variables") and "name_suffix" in props):
        return microservice_from_dict(recorded)
    return instance_microservice(ctx.node, name_suffix(ctx))


def apply_objects(ctx: Ctx, props: Any, service: Microservice) -> None:
    """Create (or adopt) the networks/secrets/configs `service` names and deploy its compose
    stack, if it has one; records their ids in `props`. Start, update and heal share it."""
    owner = owner_of(ctx, ctx.instance.id)
    with engine_for(ctx, props) as engine:
        props["object_ids"] = objects.ensure_objects(engine, service, owner, ctx.logger,
                                                      local_files(ctx).read_text)
        if service.compose_file:
            from cloudify_swarm import stacks  # here: the compose parser (yaml) only for a stack
            with compose_copy(ctx, service.compose_file) as path:
                props["stack"] = stacks.deploy_stack(engine, path, props["service_name"], owner,
                                                     service.convergence, ctx.logger,
                                                     **compose_options(ctx, service))


@task
def microservice_stop(ctx: Ctx, **_: Any) -> None:
    props = ctx.instance.runtime_properties
    engine = connect(ctx, props)
    if engine is None:
        return
    try:
        services.remove_services(engine, owner_of(ctx, ctx.instance.id), ctx.logger)
        props.pop("stack", None)
        props.pop("service", None)
    finally:
        engine.close()


@task
def microservice_delete(ctx: Ctx, **_: Any) -> None:
    props = ctx.instance.runtime_properties
    engine = connect(ctx, props)
    if engine is not None:
        owner = owner_of(ctx, ctx.instance.id)
        try:
            services.remove_services(engine, owner, ctx.logger)
            objects.remove_objects(engine, owner, ctx.logger,
                                    ("secret", "config", "network", "volume"))
        finally:
            engine.close()
    # name_suffix stays: the instance keeps its names for its whole life (reinstall, heal)
    for key in ("endpoint", "service_config", "service_name", "object_ids", "container", "invalid",
                "linked_ports"):
        props.pop(key, None)


def day2_settings(ctx: Ctx) -> tuple[Any, Engine]:
    props = ctx.instance.runtime_properties
    if not props.get("service_config"):
        raise UserError("the Microservice is not installed")
    service = microservice_from_dict(props["service_config"])
    if service.compose_file:
        raise UserError("scale and update apply to a single service; a compose stack changes "
                        "through its compose file")
    engine = connect(ctx, props)
    assert engine is not None
    return service, engine


@task
def microservice_scale(ctx: Ctx, replicas: Any = None, **_: Any) -> None:
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
def microservice_update(ctx: Ctx, image: Any = None, env: Any = None, ports: Any = None,
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
def container_create(ctx: Ctx, env: Any = None, **_: Any) -> None:
    """Checks the host and the ports; `env` here is the 2016 blueprints' place for it. Only its
    names are kept (CREATE_ENV_KEYS; a value may be a secret, issue 24): start reads the values
    again from the node's create operation (create_env_again) and merges its own `env` input over
    them. The Container's properties are parsed by start, before it makes anything, not here:
    reading them means reading the node, which in the local profile parses the whole deployment
    (issue 15), and start has to read them anyway."""
    ctx.instance.runtime_properties[CREATE_ENV_KEYS] = sorted(string_mapping(env, "inputs.env")
                                                              if env else {})
    host = host_of(ctx)
    check_host(host)
    naming.check_shared_ports(related_port_paths(ctx),
                              str(host.instance.runtime_properties.get("name_suffix") or ""))
    claim_microservice(ctx, ctx.instance.id, writable_target(ctx, host))


def check_valid(host: Any) -> None:
    host.instance.refresh(force=True)
    reason = host.instance.runtime_properties.get("invalid")
    if reason:
        raise UserError(f"microservice '{host.node.id}' is invalid: {reason}")


def input_env(ctx: Ctx, env: Any) -> tuple[dict[str, str], list[str]]:
    """create's env input (read again, create_env_again) with start's own over it, and the names
    of input env values given at an earlier start that neither input carries now (start run
    again): the service keeps their live values."""
    props = ctx.instance.runtime_properties
    merged = create_env_again(ctx, props)
    merged.update(string_mapping(env, "inputs.env") if env else {})
    earlier = sorted(set(props.get("env_input_keys") or []) - set(merged))
    return merged, earlier


@task
def container_start(ctx: Ctx, env: Any = None, **_: Any) -> None:
    host = host_of(ctx)
    check_valid(host)
    host_props = dict(host.instance.runtime_properties)
    service = microservice_from_dict(host_props["service_config"])
    env, keep_live = input_env(ctx, env)
    container = parse_container(own_properties(ctx.node), "properties", env)
    # names only (values may be secret): update and check_drift keep these as they run
    ctx.instance.runtime_properties["env_input_keys"] = sorted([*env, *keep_live])
    owner = owner_of(ctx, host.instance.id)
    ports = service.ports + related_ports(ctx)
    spec = build_service_spec(service, host_props["service_name"], container, ports, owner,
                              host_props.get("object_ids"), keep_up=True)
    note_update_order(ctx.logger, service, ports, spec["Name"])
    engine = connect(ctx, host_props, host)
    assert engine is not None
    try:
        if ctx.instance.runtime_properties.get(REMOVING):  # a stop without delete (restart)
            services.wait_services_gone(engine, owner, ctx.logger, name=spec["Name"])
            ctx.instance.runtime_properties.pop(REMOVING, None)
        if keep_live:
            live = lifecycle.find_service(engine, owner, spec["Name"])
            spec = keep_live_env(spec, live["Spec"] if live else None, keep_live)
        service_id = services.deploy_service(engine, spec, owner, service.convergence, ctx.logger)
        try:
            check_valid(host)  # a second Container may have been found meanwhile
        except UserError:
            services.remove_services(engine, owner, ctx.logger)
            raise
        ctx.instance.runtime_properties["service"] = services.service_facts(engine, service_id)
        ctx.instance.runtime_properties.pop(CREATE_ENV, None)  # an earlier version's values
    finally:
        engine.close()
    publish_service(ctx, host, ctx.instance.runtime_properties["service"])


@task
def container_stop(ctx: Ctx, **_: Any) -> None:
    """Remove the Container's service; its containers are awaited by delete (container_delete),
    which every Cloudify workflow runs next. Not waiting here lets an uninstall remove all
    services first and wait for their containers while the engine stops them in parallel,
    instead of one wait per service in turn (issue 15)."""
    remove_container_service(ctx, wait=False)
    ctx.instance.runtime_properties.pop("service", None)
    ctx.instance.runtime_properties[REMOVING] = True


@task
def container_delete(ctx: Ctx, **_: Any) -> None:
    """Wait until the service stop removed is gone with its containers (safe to re-run: it
    removes the service again if a stop left it), then release the Microservice's claim."""
    remove_container_service(ctx, wait=True)
    ctx.instance.runtime_properties.pop(REMOVING, None)
    release_microservice(writable_target(ctx, host_of(ctx)), ctx.instance.id)


def remove_container_service(ctx: Ctx, wait: bool) -> None:
    """Remove (and with `wait`, wait out) the service this Container made. Under a Microservice
    that deploys a compose file the Container made none (its create was refused): the services
    carrying the Microservice's labels are the stack's, which the Microservice's own stop and
    delete remove; they are not the Container's to remove or wait for."""
    host = host_of(ctx)
    if recorded_compose_file(host):
        return
    host_props = dict(host.instance.runtime_properties)
    engine = connect(ctx, host_props, host)
    if engine is None:
        return
    try:
        services.remove_services(engine, owner_of(ctx, host.instance.id), ctx.logger,
                                 host_props.get("service_name"), wait=wait)
    finally:
        engine.close()


def write_conflicts() -> tuple[type[Exception], ...]:
    """What a concurrent write may raise: local runs raise StorageConflictError on a version
    conflict, a manager's REST client CloudifyClientError (status 409 for a conflict; imported
    only now: cloudify.workflows.local loads dsl_parser and networkx)."""
    found: list[type[Exception]] = []
    try:
        from cloudify.workflows.local import StorageConflictError  # here: see the docstring
        found.append(StorageConflictError)
    except ImportError:  # pragma: no cover
        pass
    try:
        from cloudify_rest_client.exceptions import CloudifyClientError  # here: as the one above
        found.append(CloudifyClientError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(found)


def is_write_conflict(error: Exception) -> bool:
    """Of what write_conflicts() catches: the local profile's conflict, or a manager's HTTP 409
    (another status, e.g. 403 or 500, is not a conflict and is raised)."""
    from cloudify_rest_client.exceptions import CloudifyClientError  # as write_conflicts
    return not isinstance(error, CloudifyClientError) or error.status_code == 409


def check_claim(host: Any, container_id: str, holder: Any) -> None:
    if holder and holder != container_id:
        raise UserError(
            f"microservice '{host.node.id}' already has container '{holder}': a Swarm "
            "service has exactly one container spec; put the other Container in a Microservice "
            "of its own")


# container_claim, container_publish and container_release were contained_in_microservice's
# preconfigure, establish and unlink. Not mapped since issue 28 (the Container's create, start
# and delete do the same); kept for plans parsed with an earlier plugin.yaml, where both run:
# a second claim by the same Container passes check_claim, publishing the same facts twice
# changes nothing, and a release finds no claim of this Container after the first (a no-op).
@task
def container_claim(ctx: Ctx, **_: Any) -> None:
    """contained_in_microservice's preconfigure in earlier plans: see claim_microservice."""
    claim_microservice(ctx, ctx.source.instance.id, ctx.target)


def claim_microservice(ctx: Ctx, container_id: str, host: Any) -> None:
    """Make this Container the Microservice's one container, or fail clearly (and invalidate
    the Microservice, so nothing it made stays). `host` is a writable target: writable_target's
    for a Container's own create, or an earlier plan's relationship operation's ctx.target."""
    if recorded_compose_file(host):
        raise UserError(f"microservice '{host.node.id}' deploys a compose file and takes "
                        "no Container node")
    try:
        set_on_microservice(host, "container", container_id,
                            lambda holder: check_claim(host, container_id, holder))
    except UserError as error:
        invalidate_microservice(ctx, host, str(error))
        raise


def set_on_microservice(host: Any, key: str, value: Any, check: Any = None) -> None:
    """Write one runtime property of the Microservice `host`; `check` is given the property's
    current value first."""
    def change(props: Any) -> bool:
        if check is not None:
            check(props.get(key))
        props[key] = value
        return True
    change_microservice(host, key, change)


def publish_service(ctx: Ctx, host: Any, facts: dict[str, Any]) -> None:
    """The service's facts on the Container and on its Microservice `host`, where get_attribute
    users look ({get_attribute: [microservice, service]}): the Container's start, heal and
    update, under any containment."""
    ctx.instance.runtime_properties["service"] = facts
    set_on_microservice(writable_target(ctx, host), "service", facts)


def change_microservice(host: Any, key: str, change: Any) -> None:
    """Apply `change` to the Microservice's latest runtime properties and write them when it
    returns True, again from the latest on a concurrent write (one Container's claim racing
    another's, or a day-2 operation's)."""
    for _attempt in range(20):
        host.instance.refresh(force=True)
        if not change(host.instance.runtime_properties):
            return
        try:
            host.instance.update()
            return
        except write_conflicts() as error:  # only a write conflict is tried again
            if not is_write_conflict(error):
                raise
    raise UserError(f"could not record {key} on microservice '{host.node.id}'")


def invalidate_microservice(ctx: Ctx, host: Any, reason: str) -> None:
    """Mark the Microservice invalid (its first Container's start refuses, or undoes, the service)
    and remove any service already made for it, so a failed install leaves nothing behind."""
    set_on_microservice(host, "invalid", reason)
    engine = connect(ctx, dict(host.instance.runtime_properties), host)
    if engine is None:
        return
    try:
        services.remove_services(engine, owner_of(ctx, host.instance.id), ctx.logger)
    finally:
        engine.close()


@task
def container_publish(ctx: Ctx, **_: Any) -> None:
    """contained_in_microservice's establish in earlier plans (see container_claim): copy the
    service facts onto the Microservice, as the Container's start already did."""
    facts = ctx.source.instance.runtime_properties.get("service")
    ctx.target.instance.runtime_properties["service"] = facts


@task
def container_release(ctx: Ctx, **_: Any) -> None:
    """contained_in_microservice's unlink in earlier plans (see container_claim)."""
    release_microservice(ctx.target, ctx.source.instance.id)


def release_microservice(host: Any, container_id: str) -> None:
    """The Container's claim and facts off the Microservice, if the claim is this Container's."""
    def change(props: Any) -> bool:
        if props.get("container") != container_id:
            return False
        props.pop("container", None)
        props.pop("service", None)
        return True
    change_microservice(host, "container", change)
