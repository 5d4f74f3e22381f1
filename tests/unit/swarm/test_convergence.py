"""Convergence verdicts over canned Engine API task lists (pure)."""
from __future__ import annotations

from typing import Any

from cloudify_shared.waiting import Verdict
from cloudify_swarm.convergence import StableFor, service_converged, service_gone

CONTAINER = {"Image": "local/busybox:1"}


def service(replicas: int | None = 2, update: dict | None = None, failure_action: str | None = None,
            container: dict = CONTAINER) -> dict[str, Any]:
    mode = {"Replicated": {"Replicas": replicas}} if replicas is not None else {"Global": {}}
    spec: dict[str, Any] = {"Mode": mode, "TaskTemplate": {"ContainerSpec": container}}
    if failure_action:
        spec["UpdateConfig"] = {"FailureAction": failure_action}
    return {"Spec": spec, **({"UpdateStatus": update} if update else {})}


def task(tid: str, state: str, desired: str = "running", err: str | None = None,
         container: dict = CONTAINER, slot: int = 1) -> dict[str, Any]:
    return {"ID": tid, "Slot": slot, "DesiredState": desired, "Spec": {"ContainerSpec": container},
            "Status": {"State": state, **({"Err": err} if err else {})}}


def test_all_running_is_done_with_the_task_ids() -> None:
    verdict = service_converged(service(), [task("a", "running"), task("b", "running", slot=2)])
    assert verdict.is_done and verdict.detail == frozenset({"a", "b"})


def test_starting_tasks_wait() -> None:
    verdict = service_converged(service(), [task("a", "running"), task("b", "preparing")])
    assert verdict.state == "waiting" and "1/2 task(s) running, 1 preparing" in verdict.message


def test_missing_image_fails_at_once_with_the_error() -> None:
    verdict = service_converged(service(), [
        task("aaaaaaaaaaaaaaaa", "rejected", "shutdown", "No such image: local/nope:1"),
        task("b", "pending")])
    assert verdict.is_failed and "rejected: No such image: local/nope:1" in verdict.message


def test_exiting_task_fails() -> None:
    verdict = service_converged(service(1),
                                [task("a", "failed", "shutdown", "task: non-zero exit (3)")])
    assert verdict.is_failed and "non-zero exit (3)" in verdict.message
    assert service_converged(service(1), [task("a", "complete", "shutdown")]).is_failed


def test_unschedulable_fails_unless_an_old_task_is_stopping() -> None:
    pending = task("n", "pending", err="no suitable node (host-mode port already in use on 1 node)")
    assert service_converged(service(1), [pending]).is_failed
    old = task("o", "running", "shutdown")
    assert service_converged(service(1), [old, pending]).state == "waiting"
    # during an update the scheduler retries once old tasks are gone: wait, showing the error
    gone = task("o", "shutdown", "shutdown")
    verdict = service_converged(service(1), [gone, pending], baseline=frozenset({"o"}))
    assert verdict.state == "waiting" and "host-mode port already in use" in verdict.message


def test_failures_from_before_the_operation_are_ignored() -> None:
    tasks = [task("old", "failed", "shutdown", "boom"), task("a", "running")]
    assert service_converged(service(1), tasks, baseline=frozenset({"old"})).is_done
    assert service_converged(service(1), tasks).is_failed


def test_scale_down_waits_for_stopping_tasks() -> None:
    tasks = [task("a", "running"), task("b", "running", "shutdown")]
    assert service_converged(service(1), tasks).state == "waiting"
    assert service_converged(service(1),
                             [task("a", "running"), task("b", "shutdown", "shutdown")]).is_done


def test_update_waits_for_tasks_on_the_new_spec() -> None:
    new = {"Image": "local/busybox:2"}
    svc = service(1, container=new)
    verdict = service_converged(svc, [task("a", "running")], frozenset({"a"}), expect_update=True)
    assert verdict.state == "waiting" and "previous spec" in verdict.message
    done = service_converged(svc, [task("a", "shutdown", "shutdown"),
                                   task("b", "running", container=new)],
                             frozenset({"a"}), expect_update=True)
    assert done.is_done


def test_update_paused_or_rolled_back_is_a_failure_old_status_is_not() -> None:
    failed = task("n", "rejected", "shutdown", "No such image: x")
    paused = service(1, {"State": "paused", "StartedAt": "t2",
                         "Message": "update paused due to failure"})
    verdict = service_converged(paused, [task("a", "running"), failed], frozenset({"a"}), True,
                                "t1")
    assert (verdict.is_failed and "update paused" in verdict.message
            and "No such image" in verdict.message)
    rolled = service(1, {"State": "rollback_completed", "StartedAt": "t2",
                         "Message": "rollback completed"},
                     failure_action="rollback")
    assert service_converged(rolled, [task("a", "running")], frozenset({"a"}), True, "t1").is_failed
    # rolled back, but the previous spec's task is not running yet: wait for it, then fail
    restarting = [task("a", "shutdown", "shutdown"), task("r", "starting")]
    assert service_converged(rolled, restarting, frozenset({"a"}), True, "t1").state == "waiting"
    # the same status from an earlier update (same marker) is not ours
    assert service_converged(rolled, [task("a", "running")], frozenset({"a"}), True, "t2").is_done


def test_rollback_config_waits_for_the_engine_to_decide() -> None:
    updating = service(1, {"State": "updating", "StartedAt": "t2"}, failure_action="rollback")
    failed = task("n", "failed", "shutdown", "exit 1")
    assert service_converged(updating, [task("a", "running"), failed], frozenset({"a"}), True,
                             "t1").state == "waiting"


def test_global_mode_counts_desired_tasks() -> None:
    assert service_converged(service(None), []).state == "waiting"
    assert service_converged(service(None), [task("a", "running")]).is_done


def test_zero_replicas_is_done_when_nothing_runs() -> None:
    assert service_converged(service(0), []).is_done


def test_gone() -> None:
    assert service_gone(True, []).state == "waiting"
    assert service_gone(False, [{"Id": "c"}]).state == "waiting"
    assert service_gone(False, []).is_done


def test_stable_for_holds_the_same_task_set() -> None:
    now = [0.0]
    verdicts = iter([Verdict.done("ok", frozenset({"a"})), Verdict.done("ok", frozenset({"a"})),
                     Verdict.done("ok", frozenset({"b"})), Verdict.done("ok", frozenset({"b"}))])
    stable = StableFor(lambda: next(verdicts), 1.0, clock=lambda: now[0])
    assert stable().state == "waiting"
    now[0] = 0.6
    assert stable().state == "waiting"
    now[0] = 1.2  # the task set changed (a restart): the window starts again
    assert stable().state == "waiting"
    now[0] = 2.3
    assert stable().is_done
