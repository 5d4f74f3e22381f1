"""Waiting for something to become ready: verdicts, backoff and progress reports.

A readiness check is a function returning a Verdict: done, failed (ends the wait at once with
WorkloadFailed) or still waiting (with a message saying on what). `wait_until` polls it with
capped exponential backoff and logs progress; it never sleeps a fixed interval. A check that
raises TransientError (endpoint restarting, connection refused) is ridden out: the wait goes on
until its timeout, and only then is the TransientError raised so the operation is retried.
Plain Python: no ctx, no backend imports.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudify_shared.errors import TransientError, WaitTimeout, WorkloadFailed

DONE, WAITING, FAILED = "done", "waiting", "failed"


@dataclass(frozen=True)
class Verdict:
    state: str
    message: str = ""
    detail: Any = None

    def __post_init__(self) -> None:
        if self.state != DONE and not self.message.strip():  # a bug: every wait says why (issue 25)
            raise ValueError(f"a {self.state} verdict needs a message saying why")

    @classmethod
    def done(cls, message: str = "ready", detail: Any = None) -> Verdict:
        return cls(DONE, message, detail)

    @classmethod
    def waiting(cls, message: str, detail: Any = None) -> Verdict:
        return cls(WAITING, message, detail)

    @classmethod
    def failed(cls, message: str, detail: Any = None) -> Verdict:
        return cls(FAILED, message, detail)

    @property
    def is_done(self) -> bool:
        return self.state == DONE

    @property
    def is_failed(self) -> bool:
        return self.state == FAILED


@dataclass(frozen=True)
class Backoff:
    """Delays of first, first*factor, ... capped at `cap` seconds."""

    first: float = 0.1
    factor: float = 1.5
    cap: float = 2.0

    def delays(self) -> Any:
        delay = self.first
        while True:
            yield delay
            delay = min(delay * self.factor, self.cap)


class Progress:
    """Logs 'waiting for X (Ns): message' at most every `every` seconds, and when it changes."""

    def __init__(self, logger: logging.Logger, what: str, every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.what, self.every, self.clock = logger, what, every, clock
        self.start = clock()
        self._last_report = self.start
        self._last_message: str | None = None

    @property
    def elapsed(self) -> float:
        return self.clock() - self.start

    def update(self, message: str) -> None:
        now = self.clock()
        if message != self._last_message or now - self._last_report >= self.every:
            self.logger.info("waiting for %s (%.0fs): %s", self.what, now - self.start, message)
            self._last_report, self._last_message = now, message

    def finish(self, message: str) -> None:
        self.logger.info("%s: %s after %.1fs", self.what, message, self.elapsed)


def wait_until(
    check: Callable[[], Verdict],
    what: str,
    timeout: float,
    logger: logging.Logger,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Verdict:
    """Poll `check` until it is done (return its verdict), failed or out of time (raise)."""
    progress = Progress(logger, what, clock=clock)
    for delay in backoff.delays():
        try:
            verdict, unreachable = check(), None
        except TransientError as error:
            verdict, unreachable = Verdict.waiting(f"cannot check, will retry: {error}"), error
        if verdict.is_done:
            progress.finish(verdict.message)
            return verdict
        if verdict.is_failed:
            raise WorkloadFailed(f"{what} failed: {verdict.message}")
        progress.update(verdict.message)
        remaining = timeout - progress.elapsed
        if remaining <= 0:
            if unreachable is not None:
                raise TransientError(f"gave up waiting for {what} after {progress.elapsed:.0f}s: "
                                     f"{unreachable}") from unreachable
            raise WaitTimeout(
                f"gave up waiting for {what} after {progress.elapsed:.0f}s "
                f"(timeout {timeout:g}s); last state: {verdict.message}"
            )
        sleep(min(delay, remaining))
    raise AssertionError("unreachable")
