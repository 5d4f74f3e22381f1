from __future__ import annotations

import logging

import pytest

from cloudify_shared.errors import TransientError, WaitTimeout, WorkloadFailed
from cloudify_shared.waiting import Backoff, Verdict, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def run(verdicts: list[Verdict], timeout: float = 100.0) -> tuple[Verdict, FakeClock]:
    clock = FakeClock()
    feed = iter(verdicts)
    result = wait_until(lambda: next(feed), "thing", timeout, logging.getLogger("t"),
                        backoff=Backoff(first=0.1, factor=2, cap=0.4), sleep=clock.sleep,
                        clock=clock)
    return result, clock


def test_returns_when_done_with_capped_backoff() -> None:
    result, clock = run([Verdict.waiting("a")] * 4 + [Verdict.done("ok")])
    assert result.message == "ok"
    assert clock.sleeps == [0.1, 0.2, 0.4, 0.4]


def test_failure_ends_the_wait_at_once() -> None:
    with pytest.raises(WorkloadFailed, match="thing failed: image missing"):
        run([Verdict.waiting("a"), Verdict.failed("image missing"), Verdict.done()])


def test_timeout_says_what_and_how_long() -> None:
    with pytest.raises(WaitTimeout,
                       match=r"gave up waiting for thing after 1s \(timeout 1s\); last state: b"):
        run([Verdict.waiting("a")] * 3 + [Verdict.waiting("b")] * 100, timeout=1.0)


def test_progress_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    run([Verdict.waiting("1 of 2 running"), Verdict.done("2 of 2 running")])
    assert "waiting for thing (0s): 1 of 2 running" in caplog.text
    assert "thing: 2 of 2 running after" in caplog.text


def flaky(outcomes: list[Verdict | Exception]) -> object:
    feed = iter(outcomes)

    def check() -> Verdict:
        outcome = next(feed)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    return check


def test_transient_errors_are_ridden_out_while_there_is_time() -> None:
    clock = FakeClock()
    check = flaky([TransientError("connection refused")] * 5 + [Verdict.done("up again")])
    result = wait_until(check, "thing", 100.0, logging.getLogger("t"),  # type: ignore[arg-type]
                        backoff=Backoff(first=0.1, factor=2, cap=0.4), sleep=clock.sleep,
                        clock=clock)
    assert result.message == "up again"


def test_still_unreachable_at_the_timeout_is_transient_so_the_operation_is_retried() -> None:
    clock = FakeClock()
    check = flaky([Verdict.waiting("starting")] + [TransientError("connection refused")] * 100)
    with pytest.raises(TransientError,
                       match="gave up waiting for thing after 1s: connection refused"):
        wait_until(check, "thing", 1.0, logging.getLogger("t"),  # type: ignore[arg-type]
                   backoff=Backoff(first=0.1, factor=2, cap=0.4), sleep=clock.sleep, clock=clock)


def test_a_timeout_after_the_endpoint_came_back_is_a_plain_timeout() -> None:
    clock = FakeClock()
    check = flaky([TransientError("refused")] + [Verdict.waiting("starting")] * 100)
    with pytest.raises(WaitTimeout, match="last state: starting"):
        wait_until(check, "thing", 1.0, logging.getLogger("t"),  # type: ignore[arg-type]
                   backoff=Backoff(first=0.1, factor=2, cap=0.4), sleep=clock.sleep, clock=clock)
