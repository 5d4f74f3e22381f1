"""The one decorator every operation in plugin.yaml wears. Part of the tasks layer: it is the
only module in this package that imports Cloudify's ctx machinery.

It decides, once for the whole suite, how errors reach Cloudify:
- TransientError, ConnectionError, TimeoutError -> RecoverableError (Cloudify retries);
- UserError, WorkloadFailed, WaitTimeout, NotFound -> NonRecoverableError;
- Cloudify's own errors and OperationRetry pass through;
- anything else is a bug: NonRecoverableError naming the exception type (never retried forever).
Every message starts with where it happened (node, instance or relationship) and has every
registered secret masked. BaseException (KeyboardInterrupt, SystemExit) is never caught.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from cloudify import ctx as ctx_proxy
from cloudify.decorators import operation
from cloudify.exceptions import NonRecoverableError, OperationRetry, RecoverableError

from cloudify_shared.errors import NotFound, TransientError, UserError, WaitTimeout, WorkloadFailed
from cloudify_shared.redaction import install_filter, redact

F = TypeVar("F", bound=Callable[..., Any])

FATAL = (UserError, WorkloadFailed, WaitTimeout, NotFound)
TRANSIENT_BUILTINS = (ConnectionError, TimeoutError)


def describe_context(ctx: Any) -> str:
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
    if isinstance(error, (NonRecoverableError, RecoverableError, OperationRetry)):
        return error
    message = redact(f"{where}: {error}")
    if isinstance(error, TransientError):
        return RecoverableError(message, retry_after=error.retry_after)
    if isinstance(error, TRANSIENT_BUILTINS):
        return RecoverableError(redact(f"{where}: {type(error).__name__}: {error}"))
    if isinstance(error, FATAL):
        return NonRecoverableError(message)
    return NonRecoverableError(redact(f"{where}: unexpected {type(error).__name__}: {error}"))


def task(func: F) -> F:
    """Wrap an operation: resumable, secrets masked in its log, errors translated."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = kwargs.get("ctx") or ctx_proxy
        install_filter(ctx.logger)
        try:
            return func(*args, **kwargs)
        except Exception as error:
            translated = translate_error(error, describe_context(ctx))
            if translated is error:
                raise
            raise translated from error

    return operation(resumable=True)(wrapper)  # type: ignore[no-any-return,unused-ignore]
