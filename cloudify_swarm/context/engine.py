"""The Docker Engine an operation talks to: the endpoint a Microservice published, its TLS
files under the local-file policy and its inline TLS material (PEM text, read again from the
Manager's node properties each time) as private files for the operation, opened as an Engine
and closed afterwards. Part of the tasks layer (it reads the ctx it is handed); docker-py loads
only when an engine is opened.

Every endpoint is checked here against the administrator's allowlist (endpoint.reach) on the
value that is used, before any file is written or any client opened: the Manager's at its
create, the published one at every operation of a Microservice or Container (day 2 included).
"""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cloudify_shared.ctx_protocol import Ctx
from cloudify_shared.errors import UserError
from cloudify_shared.tasks import local_files, on_manager, reach_policy
from cloudify_swarm.context.links import manager_endpoint
from cloudify_swarm.endpoint import Endpoint, parse_published, reach, ssh_identity_warning

if TYPE_CHECKING:
    from cloudify_swarm.docker_engine import Engine

PUBLISHED = "runtime property endpoint"


def checked_endpoint(ctx: Ctx, endpoint: Endpoint, where: str) -> Endpoint:
    """The endpoint as the administrator's policy allows it (endpoint.reach: refused naming
    `where`.docker_host, the value and the setting), its TLS files under the local-file policy
    and its inline PEM text written to private files (docker-py opens them), removed when the
    operation ends."""
    policy = reach_policy(ctx)
    endpoint = reach(endpoint, policy, where)
    warning = ssh_identity_warning(endpoint, policy)
    if warning:
        ctx.logger.warning(warning)
    files = local_files(ctx)
    tls: dict[str, Any] = {name: files.local_path(value, f"{where}.tls.{name}")
                           for name in ("ca_cert", "client_cert", "client_key")
                           if (value := getattr(endpoint.tls, name))}
    for file_field, inline, text in endpoint.tls.pem_items():
        tls[file_field] = files.private_file(text.encode("utf-8"), f"{file_field}.pem")
        tls[inline] = None
    if not tls:
        return endpoint
    return dataclasses.replace(endpoint, tls=dataclasses.replace(endpoint.tls, **tls))


def connect(ctx: Ctx, props: Any, microservice: Any = None) -> Engine | None:
    """The engine for a Microservice's published endpoint (`props`: its runtime properties);
    None when create never ran. `microservice` (a relationship's target, for a Container or
    a relationship operation; the operation's own ctx when not given) is where the Manager is
    found when the endpoint's TLS material is inline."""
    if not props.get("endpoint"):
        return None
    from cloudify_swarm.docker_engine import Engine  # here: docker-py loads only when opened
    where = published_where(microservice or ctx)
    endpoint = parse_published(props["endpoint"], where)
    if endpoint.tls.missing_material():
        endpoint = manager_endpoint((microservice or ctx).instance, endpoint)
    return Engine.connect(checked_endpoint(ctx, endpoint, where), on_manager(ctx))


def published_where(microservice: Any) -> str:
    """How a refusal names the published endpoint: the Microservice's runtime property."""
    try:
        return f"node '{microservice.node.id}' {PUBLISHED}"
    except AttributeError:
        return PUBLISHED


@contextlib.contextmanager
def engine_for(ctx: Ctx, props: Any, microservice: Any = None) -> Iterator[Engine]:
    """The engine for a Microservice that create has published, closed afterwards."""
    engine = connect(ctx, props, microservice)
    if engine is None:
        raise UserError("the Microservice has no endpoint yet (its create has not run)")
    try:
        yield engine
    finally:
        engine.close()
