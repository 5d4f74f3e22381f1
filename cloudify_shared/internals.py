"""Cloudify's and docker-py's private internals, behind one door: the only module of the suite
that reaches a `_private` name of a cloudify or docker object. Each function says which version
it was written against and what breaks if that changes; tests/unit/shared/test_internals.py pins
what each relies on against the installed cloudify-common (its real context classes over a real
local deployment storage) and docker-py (its real clients), and fails on another version.

It imports neither: the context, the clients and the docker-py classes are handed in, so docker
stays the Swarm adapter's import (cloudify_swarm.docker_engine, which also keeps the one
dependency on docker-py's module layout: its ssh transport left out while docker loads,
pinned by tests/unit/test_operation_imports.py).
"""
from __future__ import annotations

from typing import Any, TypeVar

from cloudify_shared.ctx_protocol import Ctx

# The versions every function below was written against (constraints.txt pins them).
CLOUDIFY_COMMON_VERSION = "7.0.5"
DOCKER_PY_VERSION = "7.2.0"

T = TypeVar("T")

# ------------------------------------------------------------------------------- cloudify-common


def is_local(ctx: object) -> bool:
    """Whether the operation runs in the cfy local profile. cloudify-common 7.0.5:
    CommonContext.__init__ (cloudify/context.py) sets `_local` from the context dict's 'local'
    key, which cloudify.workflows.local sets True for every operation it runs; a manager's
    mgmtworker or agent sets False. Only True counts (the stricter side: anything else is a
    manager). If it is renamed, every local-profile operation counts as on a manager: host paths
    and endpoints outside the administrator's allowlists are refused there, and a
    DeploymentProxy without `manager` asks a manager's REST API that is not there."""
    return getattr(ctx, "_local", False) is True


def operation_endpoint(ctx: object) -> Any:
    """The operation's storage endpoint: cloudify-common 7.0.5 CommonContext.__init__ keeps it in
    `_endpoint` (a LocalEndpoint over the local profile's storage, a ManagerEndpoint over the
    REST API). If it moves, a node operation can no longer write a relationship target's runtime
    properties (cloudify_shared.tasks.writable_target) nor evaluate functions
    (evaluate_functions): those operations fail with AttributeError."""
    return ctx._endpoint  # type: ignore[attr-defined]


def evaluate_functions(ctx: object, payload: dict[str, Any]) -> Any:
    """`payload` with its intrinsic functions evaluated in the operation's context, as Cloudify
    evaluates operation inputs: cloudify-common 7.0.5 Endpoint.evaluate_functions
    (cloudify/endpoint.py: the REST /evaluate/functions call on a manager, the local storage
    offline). If it changes, a Container's create env given as functions fails at start."""
    return operation_endpoint(ctx).evaluate_functions(payload)


def node_record(ctx: Ctx) -> Any | None:
    """The node as the manager's REST API or the local storage gives it: cloudify-common 7.0.5
    NodeContext._get_node_if_needed (cloudify/context.py) keeps it in `ctx.node._node` once the
    node was read (its properties, its number_of_instances), None before. It has what NodeContext
    does not offer: planned_number_of_instances (a running scale workflow raises it before
    number_of_instances) and the node's operations with their inputs as written. If it moves,
    this returns None: instance counting falls back to number_of_instances (a scale-out's new
    instances may then be named as if alone) and a Container's create-env check fails."""
    return getattr(ctx.node, "_node", None)


def local_storage_dir(ctx: object) -> str | None:
    """The folder of the local profile's FileStorage the operation runs from (the cfy CLI's
    `$CFY_WORKDIR/.cloudify/profiles/local`); None on a manager or with any other storage.
    cloudify-common 7.0.5: LocalEndpoint.storage (cloudify/endpoint.py) holds the storage,
    FileStorage.__init__ (cloudify/workflows/local.py) its folder in `_root_storage_dir`. If
    either moves this returns None and a DeploymentProxy in the local profile reads the CLI's
    default folder instead: a cfy run from another storage folder finds no upstream deployment."""
    storage = getattr(getattr(ctx, "_endpoint", None), "storage", None)
    root = getattr(storage, "_root_storage_dir", None)
    return root if isinstance(root, str) else None


# ------------------------------------------------------------------------------------- docker-py
def client_around(client_class: type[T], api: Any) -> T:
    """A docker.DockerClient (`client_class`) over an APIClient already made, without running
    DockerClient.__init__, which would make a second APIClient: one that reads the worker's
    Docker config file and probes the API version sending its HttpHeaders. docker-py 7.2.0:
    DockerClient.__init__ (docker/client.py) only sets `api`; if a release sets more there, the
    client's collections (services, configs, ...) fail with AttributeError."""
    client = client_class.__new__(client_class)
    client.api = api  # type: ignore[attr-defined]
    return client


def drop_ambient_config(api: Any, auth: Any, proxies: Any) -> None:
    """Forget what docker-py read from the worker's Docker config file. docker-py 7.2.0:
    APIClient.__init__ (docker/api/client.py) loads it into `_general_configs` (HttpHeaders sent
    with every request, detachKeys, proxies), `_proxy_configs` (proxies injected into
    containers' environment and build args) and `_auth_configs` (registry auths and credential
    helpers, sent as X-Registry-Auth by service create and update; docker/auth.py
    get_config_header loads the file again whenever it is empty, so `auth` must never be
    empty). `proxies`: an empty docker.utils.proxy.ProxyConfig. If a release renames or reloads
    them, the worker's credentials, headers and proxies travel again."""
    api._general_configs = {}
    api._proxy_configs = proxies
    api._auth_configs = auth


def set_api_version(api: Any, version: str) -> None:
    """The API version an APIClient speaks: docker-py 7.2.0 keeps it in `_version` (read by
    api_version and by every request's URL). If it moves, the version negotiated after the
    config file was dropped is not used: requests go to the default version's URLs."""
    api._version = version


def server_api_version(api: Any) -> str:
    """The Engine's API version, asked as docker-py 7.2.0's version="auto" asks it
    (APIClient._retrieve_server_version: GET /version). If it is renamed, no client opens."""
    return str(api._retrieve_server_version())
