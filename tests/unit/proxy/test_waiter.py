"""The proxy's wait loop against a fake DeploymentSource (same Protocol as the adapters),
with a fake clock: backoff cap, transient errors, failures and timeouts."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from cloudify_proxy.config import parse_proxy
from cloudify_proxy.source import DeploymentSource
from cloudify_proxy.waiter import copy_outputs, refresh_outputs, wait_for_upstream
from cloudify_shared.errors import TransientError, UserError, WaitTimeout, WorkloadFailed

LOG = logging.getLogger("test.proxy")
DONE = [{"id": "e1", "workflow_id": "install", "status": "terminated", "created_at": "t1"}]


class FakeSource:
    """Plays a scripted list of answers to executions(); outputs() is fixed."""

    def __init__(self, answers: list[Any], outputs: dict[str, Any] | None = None) -> None:
        self.answers, self.calls = list(answers), 0
        self.output_values = outputs or {"vm_info": {"ips": ["10.0.0.2"]}}

    def describe(self) -> str:
        return "a fake"

    def executions(self, deployment_id: str) -> list[Mapping[str, Any]] | None:
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    def outputs(self, deployment_id: str) -> dict[str, Any]:
        return dict(self.output_values)


class Clock:
    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []  # type: ignore[var-annotated]

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def wait(source: DeploymentSource, clock: Clock, **props: Any) -> Any:
    config = parse_proxy({"deployment_id": "up", **props}, {})
    return wait_for_upstream(source, config, LOG, sleep=clock.sleep, clock=clock)


def test_waits_through_states_with_backoff_capped_at_the_poll_interval() -> None:
    started = [{"id": "e1", "workflow_id": "install", "status": "started", "created_at": "t1"}]
    source, clock = FakeSource([None] * 3 + [[]] + [started] * 20 + [DONE]), Clock()
    snapshot = wait(source, clock, wait_for={"missing_deployment": "wait"})
    assert snapshot.outputs == {"vm_info": {"ips": ["10.0.0.2"]}}
    assert clock.sleeps[0] == 0.05 and max(clock.sleeps) == 0.5


def test_transient_errors_are_retried_within_the_wait() -> None:
    source, clock = FakeSource([TransientError("500"), TransientError("500"), DONE]), Clock()
    assert wait(source, clock).exists and source.calls == 3


def test_user_errors_are_not_retried() -> None:
    source, clock = FakeSource([UserError("401: refused"), DONE]), Clock()
    with pytest.raises(UserError):
        wait(source, clock)
    assert source.calls == 1


def test_a_failed_install_ends_the_wait_at_once() -> None:
    failed = [{"id": "e9", "workflow_id": "install", "status": "failed", "created_at": "t1",
               "error": "boom"}]
    source, clock = FakeSource([failed]), Clock()
    with pytest.raises(WorkloadFailed, match="execution e9.*'failed': boom"):
        wait(source, clock)
    assert source.calls == 1


def test_timeout_says_what_and_how_long() -> None:
    source, clock = FakeSource([[]]), Clock()
    with pytest.raises(WaitTimeout) as error:
        wait(source, clock, timeout=3)
    assert "gave up waiting for deployment 'up' on a fake (its install to finish) after 3s" \
        in str(error.value)
    assert "no install has run yet" in str(error.value)


def test_timeout_zero_checks_once() -> None:
    source, clock = FakeSource([[]]), Clock()
    with pytest.raises(WaitTimeout):
        wait(source, clock, timeout=0)
    assert source.calls == 1 and clock.sleeps == []


def test_still_unreachable_at_the_end_is_transient() -> None:
    source, clock = FakeSource([TransientError("connection refused")]), Clock()
    with pytest.raises(TransientError, match="gave up waiting"):
        wait(source, clock, timeout=2)


def test_refresh_reports_changes() -> None:
    config = parse_proxy({"deployment_id": "up"}, {})
    old = copy_outputs(wait(FakeSource([DONE]), Clock()), config)
    source = FakeSource([DONE], {"vm_info": {"ips": ["10.0.0.2", "10.0.0.4"]}, "url": "u"})
    new, changes = refresh_outputs(source, config, old, LOG)
    assert new["vm_info"] == {"ips": ["10.0.0.2",
                                      "10.0.0.4"]} and new["copied_outputs"] == ["url", "vm_info"]
    assert changes.describe() == "vm_info changed; url added"
    assert "10.0.0.4" not in changes.describe() and "'u'" not in changes.describe()
