from __future__ import annotations

import logging

import pytest

from cloudify_shared.errors import WaitTimeout, WorkloadFailed
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
                        backoff=Backoff(first=0.1, factor=2, cap=0.4), sleep=clock.sleep, clock=clock)
    return result, clock


def test_returns_when_done_with_capped_backoff() -> None:
    result, clock = run([Verdict.waiting("a")] * 4 + [Verdict.done("ok")])
    assert result.message == "ok"
    assert clock.sleeps == [0.1, 0.2, 0.4, 0.4]


def test_failure_ends_the_wait_at_once() -> None:
    with pytest.raises(WorkloadFailed, match="thing failed: image missing"):
        run([Verdict.waiting("a"), Verdict.failed("image missing"), Verdict.done()])


def test_timeout_says_what_and_how_long() -> None:
    with pytest.raises(WaitTimeout, match=r"gave up waiting for thing after 1s \(timeout 1s\); last state: b"):
        run([Verdict.waiting("a")] * 3 + [Verdict.waiting("b")] * 100, timeout=1.0)


def test_progress_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    run([Verdict.waiting("1 of 2 running"), Verdict.done("2 of 2 running")])
    assert "waiting for thing (0s): 1 of 2 running" in caplog.text
    assert "thing: 2 of 2 running after" in caplog.text
