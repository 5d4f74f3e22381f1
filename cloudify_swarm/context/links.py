"""How a Swarm operation finds what it works on through its context: the node's own properties,
the Port nodes it publishes, the Microservice a Container is contained in, the Manager (or
`connected_to_manager` target) whose endpoint it uses, the instance's names, the ownership
labels, and a Container's create env input read again at start (create_env_again). Part of the
tasks layer (it reads the ctx it is handed) but imports no cloudify module and no client
library: it only follows relationships and parses what they carry.
"""
from __future__ import annotations

from typing import Any

from cloudify_shared import internals
from cloudify_shared.ctx_protocol import Ctx
from cloudify_shared.errors import UserError
from cloudify_shared.naming import instance_suffix
from cloudify_shared.ownership import label_value, ownership_labels
from cloudify_shared.redaction import register_secret
from cloudify_shared.tasks import has_type, instance_count, reach_policy, tenant_of
from cloudify_shared.validation import string_mapping
from cloudify_swarm import naming
from cloudify_swarm.endpoint import Endpoint, parse_endpoint, parse_published, reach, with_material
from cloudify_swarm.spec.microservice import Microservice, parse_microservice
from cloudify_swarm.spec.ports import PortSpec, parse_port
from cloudify_swarm.spec.values import ROOT_PROPERTIES

MANAGER = "cloudify.swarm.Manager"
MICROSERVICE = "cloudify.swarm.Microservice"
PORT = "cloudify.swarm.Port"
TO_MANAGER = "cloudify.swarm.relationships.connected_to_manager"
IN_MICROSERVICE = "cloudify.swarm.relationships.contained_in_microservice"
PUBLISHES = "cloudify.swarm.relationships.publishes"
CONTAINED_IN = "cloudify.relationships.contained_in"
CONNECTED_TO = "cloudify.relationships.connected_to"
# what the target of a relationship of this plugin's own types is (by the type's exact name)
OWN_RELATIONSHIPS = {TO_MANAGER: MANAGER, IN_MICROSERVICE: MICROSERVICE, PUBLISHES: PORT}
# the names of a Container's create env input (start reads the values again, issue 24); an
# earlier version kept the values themselves under CREATE_ENV until start (read once, removed)
CREATE_ENV_KEYS = "create_env_keys"
CREATE_ENV = "create_env_input"
HOST_NEEDED = (f"a Container must be contained in exactly one {MICROSERVICE}, through "
               f"{IN_MICROSERVICE} or any relationship derived from {CONTAINED_IN}")


def own_properties(node: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(node.properties).items() if k not in ROOT_PROPERTIES}


def may_target(relationship: Any, node_type: str) -> bool:
    """Whether the target of `relationship` is of `node_type`. A relationship of one of this
    plugin's own types says what its target is (a Manager, a Microservice, a Port): its target's
    node is never loaded for that; any other relationship's target node is (one read each)."""
    implied = OWN_RELATIONSHIPS.get(relationship.type)
    if implied is not None:
        return implied == node_type
    if node_type == PORT and has_type(relationship, CONTAINED_IN):
        return False  # a Port hosts nothing: a containment names a host, never a published port
    return node_type in relationship.target.node.type_hierarchy


def port_links(instance: Any) -> list[Any]:
    return [r for r in instance.relationships if may_target(r, PORT)]


def related_ports(ctx: Ctx) -> list[PortSpec]:
    return [port for port, _ in related_port_paths(ctx)]


def related_port_paths(ctx: Ctx) -> list[tuple[PortSpec, str]]:
    """The Port nodes' ports, each with where it came from (the Port's properties: one node
    read per Port; no other relationship's target node is read)."""
    found = []
    for r in port_links(ctx.instance):
        if PORT not in r.target.node.type_hierarchy:  # a publishes link to something else
            continue
        where = f"node '{r.target.node.id}' properties"
        found.append((parse_port(own_properties(r.target.node), where), where))
    return found


def name_suffix(ctx: Ctx) -> str:
    """This instance's name suffix (cloudify_shared.naming): chosen at its first create, then
    reused."""
    props = ctx.instance.runtime_properties
    if "name_suffix" not in props:
        props["name_suffix"] = instance_suffix(ctx.instance.id, instance_count(ctx))
    return str(props["name_suffix"])


def instance_microservice(node: Any, suffix: str) -> Microservice:
    """The Microservice settings from the node's current properties, with this instance's names."""
    return naming.for_instance(parse_microservice(own_properties(node)), suffix)


def lookup(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def carries_endpoint(relationship: Any, key: str) -> bool:
    """Whether `relationship` is a generic connected_to or contained_in (or one derived from
    them: the 2016 blog's shapes) to a node that carries a Swarm endpoint at runtime property
    `key` (a DeploymentProxy's copied swarm_info); the target instance is read for it."""
    if not (has_type(relationship, CONNECTED_TO) or has_type(relationship, CONTAINED_IN)):
        return False
    return has_endpoint(lookup(dict(relationship.target.instance.runtime_properties), key))


def manager_target(instance: Any, key: str = "swarm_info") -> Any:
    """The target of the one relationship of `instance` (a node instance context) to a Manager,
    or of `connected_to_manager` (or any connected_to / contained_in) to a node carrying the
    endpoint at `key` (targets of other relationships are read to learn their types)."""
    links = [r for r in instance.relationships
             if has_type(r, TO_MANAGER) or may_target(r, MANAGER) or carries_endpoint(r, key)]
    if len(links) != 1:
        raise UserError(f"needs exactly one relationship to a {MANAGER}, or to a node carrying "
                        f"the endpoint in its runtime property '{key}' (a DeploymentProxy), by "
                        f"{TO_MANAGER}, contained_in or connected_to; found {len(links)}")
    return links[0].target


def resolve_endpoint(ctx: Ctx, key: str) -> Endpoint:
    """The endpoint from the one Manager (or `connected_to_manager` target) this node relates to,
    read from the target's runtime property `key` (dotted), `.endpoint` below it (the form
    Endpoint.public() gives). Inline TLS material is only ever read from a Manager's properties,
    so an endpoint naming some is refused from any other node.

    A node whose only relationship besides publishes and contained_in_microservice is one
    containment (the usual form: contained_in its Manager) takes that host's endpoint without
    reading the host's node, which in the local profile parses the whole deployment (issue 15).
    A host without the endpoint is read after all, so a wrong host fails as manager_target says.

    The endpoint must be one the administrator allows (endpoint.reach), whichever node
    published it: refused here, at the Microservice's create, before anything is made."""
    host = sole_host(ctx.instance)
    target = host.target if host is not None else manager_target(ctx.instance, key)
    info = lookup(dict(target.instance.runtime_properties), key)
    if host is not None and not has_endpoint(info):  # not what was assumed: check it by type
        target = manager_target(ctx.instance, key)
        info = lookup(dict(target.instance.runtime_properties), key)
    where = f"node '{target.node.id}' runtime property '{key}.endpoint'"
    if not has_endpoint(info):
        raise UserError(f"{where} is not set (properties.swarm_info_key names where to read it)")
    endpoint = parse_published(info["endpoint"], where)
    # the administrator's allowlist, on the endpoint as published (checked again where it is used)
    reach(endpoint, reach_policy(ctx), f"node '{target.node.id}' runtime property {key}.endpoint")
    if endpoint.tls.inline and MANAGER not in target.node.type_hierarchy:
        raise UserError(inline_elsewhere(target, endpoint))
    return endpoint


def sole_host(instance: Any) -> Any:
    """The relationship of `instance` that is a containment, when it is its only one besides
    publishes and contained_in_microservice (None otherwise: e.g. beside a connected_to_manager);
    no node is read."""
    others = [r for r in instance.relationships if r.type not in (PUBLISHES, IN_MICROSERVICE)]
    if len(others) == 1 and has_type(others[0], CONTAINED_IN):
        return others[0]
    return None


def has_endpoint(info: Any) -> bool:
    return isinstance(info, dict) and isinstance(info.get("endpoint"), dict)


def inline_elsewhere(target: Any, endpoint: Endpoint) -> str:
    return (f"node '{target.node.id}' publishes an endpoint whose TLS material is inline "
            f"({', '.join(endpoint.tls.inline)}), which only a {MANAGER}'s properties hold and "
            f"'{target.node.id}' is not one: relate the Microservice to that Manager, or give "
            "the TLS material as files")


def manager_endpoint(instance: Any, published: Endpoint) -> Endpoint:
    """`published` (an endpoint from runtime properties, inline material named but absent) with
    the inline PEM text of the Manager that `instance` relates to, read from its node properties
    (where a manager resolves get_secret); registered for redaction as it is parsed."""
    target = manager_target(instance)
    if MANAGER not in target.node.type_hierarchy:
        raise UserError(inline_elsewhere(target, published))
    where = f"node '{target.node.id}' properties.endpoint"
    return with_material(published, parse_endpoint(target.node.properties.get("endpoint"), where),
                         where)


def default_service_name(ctx: Ctx) -> str:
    name = label_value(f"{ctx.node.id}-{ctx.deployment.id}").replace(".", "-")
    return name.strip("-_")[:63].strip("-_")


def host_relationship(ctx: Ctx) -> Any:
    """The relationship by which a Container is contained in its Microservice: any derived from
    cloudify.relationships.contained_in (a node has one host; container_create checks, with
    check_host, that it is a Microservice). Under every containment the Container's own
    operations claim the Microservice (create), publish the service's facts onto it (start) and
    release it (delete); contained_in_microservice maps no operation of its own (issue 28)."""
    hosts = [r for r in ctx.instance.relationships if is_containment(r)]
    if len(hosts) != 1:
        raise UserError(HOST_NEEDED)
    return hosts[0]


def is_containment(relationship: Any) -> bool:
    """Whether `relationship` is a containment; one of this plugin's own types says so by its
    name (the type hierarchy, the source node's, is loaded only for another type)."""
    if relationship.type in OWN_RELATIONSHIPS:
        return bool(relationship.type == IN_MICROSERVICE)
    return has_type(relationship, CONTAINED_IN)


def host_of(ctx: Ctx) -> Any:
    """The Microservice a Container is contained in (see host_relationship)."""
    return host_relationship(ctx).target


def check_host(host: Any) -> None:
    """That the target of a Container's containment is a Microservice. Its
    runtime property service_config (its create records it, and Cloudify creates a host
    before what it contains) says so without reading its node; only without it is it read."""
    if "service_config" in host.instance.runtime_properties:
        return
    if MICROSERVICE not in host.node.type_hierarchy:
        raise UserError(HOST_NEEDED)


def recorded_compose_file(target: Any) -> str:
    """A Microservice's compose_file, from the settings its create recorded, else (create has
    not run) from its properties."""
    recorded = target.instance.runtime_properties.get("service_config")
    if isinstance(recorded, dict):
        return str(recorded.get("compose_file") or "")
    return str(target.node.properties.get("compose_file") or "")


def owner_of(ctx: Ctx, instance_id: str) -> dict[str, str]:
    return ownership_labels(ctx.deployment.id, instance_id, tenant_of(ctx))


# ----------------------------------------------------------------------------- create's env input

def create_env_again(ctx: Ctx, props: Any) -> dict[str, str]:
    """The values of create's env input, for the names create recorded: from the node's create
    operation as the blueprint gives it, its intrinsic functions (get_secret, get_attribute,
    concat...) evaluated now, as Cloudify evaluated them for create; get_secret values are
    registered for redaction. A runtime property of an earlier version holding the values
    (CREATE_ENV) is used once and removed."""
    names = list(props.get(CREATE_ENV_KEYS) or [])
    if CREATE_ENV in props:  # recorded by an earlier version of the plugin
        return dict(string_mapping(props.get(CREATE_ENV) or {}, "inputs.env"))
    if not names:
        return {}
    raw = node_operation_input(ctx, "cloudify.interfaces.lifecycle.create", "env")
    values = string_mapping(evaluated(ctx, raw) if raw else {}, "inputs.env (of create)")
    gone = sorted(set(names) - set(values))
    if gone:
        raise UserError(f"inputs.env (of create): {', '.join(gone)} were given to create but the "
                        "node's create operation does not give them (given to that run only?): "
                        "give them to start's env input, or in the env property")
    for name, value in (raw or {}).items():
        if "get_secret" in str(value):
            register_secret(values.get(name))
    return {name: values[name] for name in names}


# Both through cloudify_shared.internals (Cloudify's private internals): the node record, with
# its operations and their inputs (get_input resolved, runtime functions as written), and
# evaluate_functions, as Cloudify evaluates operation inputs. If they change, container start
# fails here (tests/integration/test_dsl_versions.py, the 2016 create env).
def node_operation_input(ctx: Ctx, operation: str, name: str) -> Any:
    ctx.node.properties  # noqa: B018 (loads the node, as reading the properties does)
    node = internals.node_record(ctx)
    if node is None:  # as ctx.node._node failed before it moved behind internals
        raise AttributeError("ctx.node has no node record (cloudify_shared.internals.node_record)")
    operations = node.get("operations") or {}
    return ((operations.get(operation) or {}).get("inputs") or {}).get(name)


def evaluated(ctx: Ctx, raw: dict[str, Any]) -> Any:
    if not any(isinstance(value, (dict, list)) for value in raw.values()):
        return raw  # plain values: nothing to evaluate
    return internals.evaluate_functions(ctx, {"env": raw})["env"]
