"""The one decorator every operation in plugin.yaml wears. Part of the tasks layer: it is the
only module in this package that imports Cloudify's ctx machinery.

It decides, once for the whole suite, how errors reach Cloudify:
- TransientError, ConnectionError, TimeoutError -> RecoverableError (Cloudify retries);
- UserError, WorkloadFailed, WaitTimeout, NotFound -> NonRecoverableError;
- Cloudify's own errors and OperationRetry pass through;
- anything else is a bug: NonRecoverableError naming the exception type (never retried forever).
Every message starts with where it happened (node, instance or relationship) and has every
registered secret masked. An input the operation does not take is a UserError naming it: a
blueprint's typo is reported, never silently dropped. BaseException (KeyboardInterrupt,
SystemExit) is never caught.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar, cast, overload

from cloudify import ctx as ctx_proxy
from cloudify.decorators import operation
from cloudify.exceptions import HttpException, NonRecoverableError, OperationRetry, RecoverableError

from cloudify_shared.ctx_protocol import Ctx, RelationshipContext, SubjectContext
from cloudify_shared.errors import (
    NotFound,
    TransientError,
    UserError,
    WaitTimeout,
    WorkloadFailed,
    described,
)
from cloudify_shared.internals import is_local, node_record, operation_endpoint
from cloudify_shared.limits import check_size
from cloudify_shared.local_files import LocalFiles, allowed_dirs_from
from cloudify_shared.reach import ReachPolicy
from cloudify_shared.redaction import install_filter, redact

P = ParamSpec("P")
R = TypeVar("R")

FATAL = (UserError, WorkloadFailed, WaitTimeout, NotFound)
TRANSIENT_BUILTINS = (ConnectionError, TimeoutError)
# the running operation's LocalFiles (made on first use, closed when the operation ends)
_FILES: ContextVar[LocalFiles | None] = ContextVar("vnf_local_files", default=None)


def describe_context(ctx: Ctx) -> str:
    """'node X (instance Y)' or 'relationship X -> Y' for the running operation."""
    try:
        if ctx.type == "relationship-instance":
            return (f"relationship {ctx.source.node.id} -> {ctx.target.node.id} "
                    f"(instance {ctx.source.instance.id})")
        return f"node '{ctx.node.id}' (instance {ctx.instance.id})"
    except Exception:
        return "operation"


def translate_error(error: Exception, where: str) -> Exception:
    """The Cloudify error for a project or unexpected exception."""
    message = redact(f"{where}: {error}")
    translated: Exception  # (Cloudify's exceptions are untyped)
    if isinstance(error, (NonRecoverableError, RecoverableError, OperationRetry)):
        translated = error
    elif isinstance(error, TransientError):
        translated = RecoverableError(message, retry_after=error.retry_after)
    elif isinstance(error, TRANSIENT_BUILTINS):
        translated = RecoverableError(redact(f"{where}: {described(error)}"))
    elif isinstance(error, FATAL):
        translated = NonRecoverableError(message)
    else:
        translated = NonRecoverableError(
            redact(f"{where}: unexpected {described(error)}"))
    return translated


def accepted_inputs(func: Callable[..., Any], declared: Iterable[str]) -> frozenset[str] | None:
    """The operation inputs `func` takes: its named keyword parameters plus `declared` (the
    names a `**inputs` catch-all passes on). None (not checked) only for a catch-all that is
    neither `**_` nor declared."""
    params = inspect.signature(func).parameters.values()
    named = {p.name for p in params
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {"ctx"}
    catch_all = [p.name for p in params if p.kind is p.VAR_KEYWORD]
    declared = frozenset(declared)
    if catch_all and catch_all[0] != "_" and not declared:
        return None
    return frozenset(named | declared)


def reject_unknown_inputs(ctx: Ctx, given: Iterable[str], accepted: frozenset[str] | None) -> None:
    """A UserError naming the operation and every input it does not take (never dropped)."""
    unknown = sorted(set(given) - {"ctx"} - (accepted if accepted is not None else set(given)))
    if not unknown:
        return
    try:
        operation_name = ctx.operation.name
    except Exception:
        operation_name = "this operation"
    takes = ", ".join(sorted(accepted or ())) or "none"
    raise UserError(f"operation {operation_name}: unknown input(s) {', '.join(unknown)} "
                    f"(it takes: {takes})")


@overload
def task(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def task(*, inputs: Iterable[str] = ()) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def task(func: Callable[P, R] | None = None, /, *, inputs: Iterable[str] = ()
         ) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap an operation: resumable, secrets masked in its log, unknown inputs refused, errors
    translated. `@task` or `@task(inputs=NAMES)` for an operation whose `**inputs` passes NAMES on.
    The operation keeps its signature for mypy (ParamSpec)."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        accepted = accepted_inputs(func, inputs)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            ctx = cast(Ctx, kwargs.get("ctx") or ctx_proxy)
            install_filter(ctx.logger)
            token = _FILES.set(None)
            try:
                reject_unknown_inputs(ctx, kwargs, accepted)
                return func(*args, **kwargs)
            except Exception as error:
                translated = translate_error(error, describe_context(ctx))
                if translated is error:
                    raise
                raise translated from error
            finally:
                files = _FILES.get()
                if files is not None:
                    files.close()
                _FILES.reset(token)

        wrapper.accepted_inputs = accepted  # type: ignore[attr-defined]
        operation_: Callable[P, R] = operation(resumable=True)(wrapper)  # Cloudify's: untyped
        return operation_

    return decorate(func) if func is not None else decorate


def on_manager(ctx: Ctx) -> bool:
    """Whether the operation runs on a manager. cloudify.workflows.local (the cfy local profile)
    marks every operation's context local (cloudify_shared.internals.is_local); a manager's
    mgmtworker (or agent) never does. Anything not marked local counts as a manager: the
    stricter side."""
    return not is_local(ctx)


def resource_getter(ctx: Ctx) -> Callable[[str], bytes]:
    """ctx.get_resource (a blueprint resource, relative to the blueprint) with a missing
    resource as a UserError naming it."""
    def get(path: str) -> bytes:
        try:
            data = bytes(ctx.get_resource(path))
        except (OSError, HttpException) as error:
            raise UserError(f"blueprint resource {path!r} not found ({error})") from None
        check_size(len(data), f"blueprint resource {path!r}")
        return data
    return get


def local_files(ctx: Ctx) -> LocalFiles:
    """How this operation reads the files its node names (cloudify_shared.local_files): one per
    operation, its private copies removed when the operation ends."""
    files = _FILES.get()
    if files is None:
        files = LocalFiles(on_manager(ctx), resource_getter(ctx), allowed_dirs_from())
        _FILES.set(files)
    return files


def reach_policy(ctx: Ctx) -> ReachPolicy:
    """The endpoints this operation's blueprint may reach (cloudify_shared.reach): the
    administrator's allowlists on a manager, everything in the local profile."""
    return ReachPolicy.for_operation(on_manager(ctx))


def tenant_of(ctx: Ctx) -> str | None:
    """The tenant the operation runs in (ownership labels carry it); None where the context
    has none (the local profile)."""
    try:
        return str(ctx.tenant_name) if ctx.tenant_name else None
    except Exception:  # the local profile's context may have no tenant at all
        return None


def instance_count(ctx: Ctx) -> int:
    """How many instances the operation's node has, counting those a running scale workflow adds:
    on a manager, the scale workflow raises the node's planned_number_of_instances first and its
    number_of_instances only when done. ctx.node offers only the latter; the node record behind
    it (cloudify_shared.internals.node_record) has both. In the local profile both are the same."""
    current = int(ctx.node.number_of_instances)  # fetches the node
    node = node_record(ctx)
    planned = getattr(node, "planned_number_of_instances", None) if node is not None else None
    return max(current, int(planned or 0))


def writable_target(ctx: Ctx, target: SubjectContext) -> SubjectContext:
    """A relationship target (from ctx.instance.relationships) whose runtime properties a node
    operation may write, as a relationship operation writes ctx.target's: Cloudify hands node
    operations their targets read-only. Built as Cloudify builds a relationship operation's
    target, on the operation's own storage endpoint (the local profile's or the manager's REST:
    cloudify_shared.internals.operation_endpoint)."""
    from cloudify.context import RelationshipSubjectContext
    subject = {"node_name": target.node.id, "node_id": target.instance.id}
    writable: SubjectContext = RelationshipSubjectContext(subject, operation_endpoint(ctx),
                                                          modifiable=True)
    return writable


def has_type(relationship: RelationshipContext, type_name: str) -> bool:
    """Whether `relationship` is of `type_name` or derived from it: its own type name first (it
    comes with the node instance), the type hierarchy (from the source node, the operation's
    own, loaded once per operation) only when the name is another."""
    return relationship.type == type_name or type_name in relationship.type_hierarchy
