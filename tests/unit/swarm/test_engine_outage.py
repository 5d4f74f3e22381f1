"""wait_converged over an engine that goes away mid-wait (a dockerd restart), with canned
payloads."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from cloudify_shared.errors import TransientError, WorkloadFailed
from cloudify_swarm.services import wait_converged
from cloudify_swarm.spec.microservice import Convergence
from tests.unit.swarm.test_convergence import service, task

CONFLICT = 'Conflict. The container name "/web.1.old" is already in use'


class FlakyEngine:
    """Serves one task list per call of service_tasks; an exception in the list is raised."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers

    def inspect_service(self, service_id: str) -> dict[str, Any]:
        return service(replicas=1)

    def service_tasks(self, service_id: str) -> list[dict[str, Any]]:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return list(answer)


def wait(engine: FlakyEngine) -> Any:
    return wait_converged(engine, "sid", "web",
                          Convergence(stability_seconds=0, timeout=5),  # type: ignore[arg-type]
                          logging.getLogger("t"))


def test_a_task_rejected_after_an_engine_outage_is_forgiven_and_its_replacement_awaited() -> None:
    engine = FlakyEngine([
        [task("old", "starting")],
        TransientError("cannot reach the Docker Engine"),
        [task("old", "rejected", desired="shutdown", err=CONFLICT)],
        [task("old", "rejected", desired="shutdown", err=CONFLICT), task("new", "running", slot=1)],
    ])
    assert wait(engine).detail == frozenset({"new"})


def test_without_an_outage_a_rejected_task_still_ends_the_wait_at_once() -> None:
    engine = FlakyEngine([[task("old", "rejected", desired="shutdown", err="No such image: x")]])
    with pytest.raises(WorkloadFailed, match="No such image: x"):
        wait(engine)


def test_a_task_created_after_the_outage_that_fails_still_fails_the_wait() -> None:
    engine = FlakyEngine([
        [task("old", "starting")],
        TransientError("cannot reach the Docker Engine"),
        [task("old", "rejected", desired="shutdown", err=CONFLICT),
         task("new", "rejected", err="No such image: x")],
    ])
    with pytest.raises(WorkloadFailed, match="No such image: x"):
        wait(engine)
