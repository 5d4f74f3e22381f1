"""Cloudify's private internals, behind one door: the only module of the suite that reaches a
`_private` name of a cloudify object. Each function says which version it was written against
and what breaks if that changes; tests/unit/shared/test_internals.py pins what each relies on
against the installed cloudify-common, with its real context objects (and fails on another
version). It imports no ctx machinery: the operation's context is handed in.
"""
from __future__ import annotations

from typing import Any

# The version every function below was written against (constraints.txt pins it).
CLOUDIFY_COMMON_VERSION = "7.0.5"


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


def node_record(ctx: Any) -> Any | None:
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
