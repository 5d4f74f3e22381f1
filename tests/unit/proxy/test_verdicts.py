"""The proxy's readiness verdicts, on canned snapshots."""
from __future__ import annotations

from typing import Any

import pytest

from cloudify_proxy.config import Condition, WaitFor, parse_wait_for
from cloudify_proxy.verdicts import Snapshot, judge

OUTPUTS = {"vm_info": {"ips": ["10.0.0.2", "10.0.0.3"], "subnet": "10.0.0.0/24"},
           "kubernetes_url": "https://10.0.0.1:6443", "count": 2, "empty": []}


def run(workflow: str, status: str, created: str, error: str = "") -> dict[str, Any]:
    return {"id": f"{workflow}-{created}", "workflow_id": workflow, "status": status,
            "created_at": created, "error": error}


def snap(*executions: dict[str, Any], outputs: dict[str, Any] | None = None,
         exists: bool = True) -> Snapshot:
    return Snapshot("up", exists, tuple(executions), outputs)


INSTALLED = run("install", "terminated", "2026-01-01T10:00:00")


def test_missing_deployment_fails_by_default_and_names_the_setting() -> None:
    verdict = judge(snap(exists=False), WaitFor())
    assert verdict.is_failed
    assert "deployment 'up' does not exist" in verdict.message
    assert "missing_deployment: wait" in verdict.message


def test_missing_deployment_is_waited_for_when_asked() -> None:
    verdict = judge(snap(exists=False), WaitFor(missing_deployment="wait"))
    assert verdict.state == "waiting" and "does not exist yet" in verdict.message


@pytest.mark.parametrize("executions, state, words", [
    ((), "waiting", "no install has run yet"),
    ((run("install", "started", "t1"),), "waiting", "install of deployment 'up' is started"),
    ((run("install", "pending", "t1"),), "waiting", "is pending"),
    ((run("install", "failed", "t1", "Traceback...\nNonRecoverableError: boom"),), "failed",
     "ended with status 'failed': NonRecoverableError: boom"),
    ((run("install", "cancelled", "t1"),), "failed", "ended with status 'cancelled'"),
    ((run("install", "failed", "t1"), run("install", "terminated", "t2")), "done", "finished"),
    ((run("install", "terminated", "t1"), run("install", "failed", "t2")), "failed",
     "execution install-t2"),
    ((run("install", "terminated", "t1"), run("uninstall", "started", "t2")), "waiting",
     "uninstalled"),
    ((run("uninstall", "terminated", "t1"), run("install", "terminated", "t2")), "done",
     "finished"),
    ((run("install", "terminated", "t1"), run("heal", "failed", "t2")), "done", "ready"),
])
def test_install_verdicts(executions: tuple[dict[str, Any], ...], state: str, words: str) -> None:
    verdict = judge(snap(*executions, outputs=OUTPUTS), WaitFor())
    assert verdict.state == state
    assert words in verdict.message or state == "done"


def test_same_second_executions_keep_their_listed_order() -> None:
    # the local profile stores whole seconds: an uninstall in the same second comes later
    same = "2026-01-01 10:00:00"
    verdict = judge(snap(run("install", "terminated", same), run("uninstall", "terminated", same),
                         outputs=OUTPUTS), WaitFor())
    assert verdict.state == "waiting"


def test_outputs_are_not_judged_before_they_are_read() -> None:
    verdict = judge(snap(INSTALLED), WaitFor())
    assert verdict.state == "waiting" and "not read yet" in verdict.message


def test_named_outputs_must_be_set() -> None:
    wait_for = WaitFor(outputs=("empty",))
    assert judge(snap(INSTALLED, outputs=OUTPUTS), wait_for).state == "waiting"
    ready = {**OUTPUTS, "empty": ["x"]}
    assert judge(snap(INSTALLED, outputs=ready), wait_for).is_done


def test_an_undeclared_output_fails_and_lists_the_existing_ones() -> None:
    verdict = judge(snap(INSTALLED, outputs=OUTPUTS), WaitFor(outputs=("backend_ips",)))
    assert verdict.is_failed
    assert "no output 'backend_ips'" in verdict.message
    assert "count, empty, kubernetes_url, vm_info" in verdict.message


def test_outputs_alone_without_install() -> None:
    wait_for = WaitFor(install=False, outputs=("kubernetes_url",))
    running = run("install", "started", "t1")
    assert judge(snap(running, outputs=OUTPUTS), wait_for).is_done


@pytest.mark.parametrize("condition, holds", [
    ({"output": "vm_info", "path": ["ips"], "contains": "10.0.0.3"}, True),
    ({"output": "vm_info", "path": ["ips"], "contains": "10.0.0.9"}, False),
    ({"output": "vm_info", "path": ["ips", 0], "equals": "10.0.0.2"}, True),
    ({"output": "vm_info", "path": ["ips", 5], "equals": "10.0.0.2"}, False),
    ({"output": "vm_info", "path": ["subnet"], "not_equals": ""}, True),
    ({"output": "vm_info", "path": ["ips"], "length_at_least": 2}, True),
    ({"output": "vm_info", "path": ["ips"], "length_at_least": 3}, False),
    ({"output": "count", "greater_than": 1}, True),
    ({"output": "count", "greater_or_equal": 3}, False),
    ({"output": "count", "less_than": 3}, True),
    ({"output": "count", "less_or_equal": 1}, False),
    ({"output": "kubernetes_url", "greater_than": 3}, False),   # not comparable: not yet
    ({"output": "kubernetes_url", "not_contains": "http://"}, True),
    ({"output": "empty", "equals": []}, True),
])
def test_declarative_conditions(condition: dict[str, Any], holds: bool) -> None:
    wait_for = parse_wait_for({"conditions": [condition]}, "wait_for")
    verdict = judge(snap(INSTALLED, outputs=OUTPUTS), wait_for)
    assert verdict.is_done is holds
    if not holds:
        assert verdict.state == "waiting" and condition["output"] in verdict.message


def test_a_condition_on_an_undeclared_output_fails() -> None:
    wait_for = WaitFor(conditions=(Condition("nope", "equals", 1),))
    verdict = judge(snap(INSTALLED, outputs=OUTPUTS), wait_for)
    assert verdict.is_failed and "no output 'nope'" in verdict.message


def test_wait_for_describes_itself() -> None:
    wait_for = parse_wait_for({"outputs": ["vm_info"], "conditions": [
        {"output": "vm_info", "path": ["ips"], "contains": "10.0.0.2"}]}, "wait_for")
    assert wait_for.describe() == ("its install to finish and outputs vm_info to be set and "
                                   "vm_info['ips'] contains '10.0.0.2'")
