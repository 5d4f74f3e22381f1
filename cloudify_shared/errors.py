"""The few exceptions the service and adapter layers raise. No Cloudify imports here.

Adapters map backend errors onto these by status code (never by message text) and keep the
cause with `raise ... from`. The task decorator (cloudify_shared.tasks) turns them into
Cloudify's errors: TransientError is retried, everything else fails the operation at once.
"""
from __future__ import annotations


class PluginError(Exception):
    """Base of every error this suite raises on purpose."""


class UserError(PluginError):
    """Bad input: a missing file, malformed YAML, an unknown key, a 4xx from the backend.

    Retrying cannot help; the message names the file and field where it can.
    """


class NotFound(PluginError):
    """The backend has no such object (404). Delete and read treat it as 'already gone'."""


class TransientError(PluginError):
    """Connection refused, timeout, 5xx, 429: worth retrying."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WorkloadFailed(PluginError):
    """The workload itself failed (crash loop, image not found, failed job, unschedulable).

    Ends a wait at once; retrying the operation would only fail the same way.
    """


class WaitTimeout(PluginError):
    """A wait ran out of time; the message says what it waited for and how long."""


def described(error: BaseException) -> str:
    """An exception for a message: its type and its text, or that it had none (an EOFError or
    a TimeoutError is often raised bare, and "EOFError: " alone reads like a cut-off line)."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else f"{type(error).__name__} (no message)"
