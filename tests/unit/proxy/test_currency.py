"""Is a proxy's copy current? The findings behind check_status and check_drift, over canned
snapshots and a fake DeploymentSource: names only, never values."""
from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest

from cloudify_proxy.config import parse_proxy
from cloudify_proxy.currency import problems, stale_outputs
from cloudify_proxy.mapping import proxy_properties
from cloudify_proxy.tasks import day2_config
from cloudify_proxy.verdicts import Snapshot
from cloudify_proxy.waiter import find_problems
from cloudify_shared.errors import NotFound, TransientError

INSTALLED = ({"id": "e1", "workflow_id": "install", "status": "terminated", "created_at": "t1"},)
OUTPUTS = {"vm_info": {"ips": ["10.0.0.2"]}, "api_token": "s3cret-token", "url": "https://k8s"}
WHERE = "a fake"


def config(**props: Any) -> Any:
    return parse_proxy({"deployment_id": "up", **props}, {})


def copied(outputs: Mapping[str, Any] = OUTPUTS, deployment_id: str = "up") -> dict[str, Any]:
    return proxy_properties(deployment_id, outputs, "2026-01-01T00:00:00+00:00")


def snapshot(outputs: Mapping[str, Any] | None = OUTPUTS, executions: tuple[Any, ...] = INSTALLED,
             exists: bool = True) -> Snapshot:
    return Snapshot("up", exists, executions, outputs)


def test_a_current_copy_has_no_problems() -> None:
    assert problems(snapshot(), config(), copied(), WHERE) == []


def test_a_changed_output_is_named_without_its_values() -> None:
    now = {**OUTPUTS, "vm_info": {"ips": ["10.0.0.9"]}, "api_token": "rotated-token"}
    found = problems(snapshot(now), config(), copied(), WHERE)
    assert found == ["output 'api_token' changed", "output 'vm_info' changed"]
    text = " ".join(found)
    assert "10.0.0" not in text and "token" not in text.replace("api_token", "")


def test_gone_and_new_outputs_when_all_are_inherited() -> None:
    now = {"vm_info": OUTPUTS["vm_info"], "url": "https://k8s", "subnet": "10.0.0.0/24"}
    assert problems(snapshot(now), config(), copied(), WHERE) == [
        "output 'subnet' is not copied yet", "output 'api_token' is missing from deployment 'up'"]


def test_a_selected_output_gone_is_named_once() -> None:
    cfg = config(inherit_outputs={"vm_info": "backends", "url": "k8s_url"})
    recorded = copied({"backends": OUTPUTS["vm_info"], "k8s_url": "https://k8s"})
    now = {"vm_info": {"ips": ["10.0.0.3"]}}
    assert problems(snapshot(now), cfg, recorded, WHERE) == [
        "output 'url' is missing from deployment 'up'",
        "output 'vm_info' (runtime property 'backends') changed"]


def test_a_narrowed_selection_is_drift() -> None:
    """A deployment update that drops an output from inherit_outputs."""
    assert stale_outputs(OUTPUTS, OUTPUTS, config(inherit_outputs=["vm_info", "url"])) == [
        "runtime property 'api_token' is no longer in inherit_outputs"]


def test_a_new_deployment_id_is_drift() -> None:
    """A deployment update that points the proxy at another upstream."""
    found = problems(snapshot(), config(), copied(deployment_id="old-up"), WHERE)
    assert found == ["deployment_id is now 'up' but the outputs were copied from 'old-up'"]


def test_never_copied() -> None:
    assert problems(snapshot(), config(), {}, WHERE)[0].startswith("no outputs have been copied")


def test_a_vanished_upstream() -> None:
    found = problems(Snapshot("up", exists=False), config(), copied(), WHERE)
    assert found == ["deployment 'up' no longer exists on a fake"]


@pytest.mark.parametrize(("executions", "expected"), [
    (INSTALLED + ({"id": "e2", "workflow_id": "uninstall", "status": "terminated",
                   "created_at": "t2"},), "was uninstalled after its install"),
    (INSTALLED + ({"id": "e3", "workflow_id": "install", "status": "failed",
                   "created_at": "t3", "error": "boom"},), "ended with status 'failed'"),
    (INSTALLED + ({"id": "e4", "workflow_id": "install", "status": "started",
                   "created_at": "t4"},), "install of deployment 'up' is started"),
])
def test_an_upstream_no_longer_installed(executions: tuple[Any, ...], expected: str) -> None:
    (found,) = problems(snapshot(None, executions), config(), copied(), WHERE)
    assert found.startswith("deployment 'up' is not installed as it was: ") and expected in found


def test_install_state_is_ignored_without_wait_for_install() -> None:
    reinstalling = INSTALLED + ({"id": "e4", "workflow_id": "install", "status": "started",
                                 "created_at": "t4"},)
    cfg = config(wait_for={"install": False})
    assert problems(snapshot(OUTPUTS, reinstalling), cfg, copied(), WHERE) == []


class OneLook:
    """A DeploymentSource that answers once, as check_status and check_drift must ask."""

    def __init__(self, executions: Any, outputs: Mapping[str, Any] = OUTPUTS) -> None:
        self.answer, self.output_values, self.calls = executions, outputs, 0

    def describe(self) -> str:
        return WHERE

    def executions(self, deployment_id: str) -> list[Mapping[str, Any]] | None:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer  # type: ignore[no-any-return]

    def outputs(self, deployment_id: str) -> dict[str, Any]:
        return dict(self.output_values)


def test_find_problems_looks_once_and_does_not_wait() -> None:
    source = OneLook(None)
    assert find_problems(source, config(wait_for={"missing_deployment": "wait"}), copied()) == [
        "deployment 'up' no longer exists on a fake"]
    assert source.calls == 1


def test_find_problems_reads_the_present_outputs() -> None:
    source = OneLook(list(INSTALLED), {**OUTPUTS, "url": "https://other"})
    assert find_problems(source, config(), copied()) == ["output 'url' changed"]


def test_find_problems_deleted_between_two_calls() -> None:
    assert find_problems(OneLook(NotFound("404")), config(), copied()) == [
        "deployment 'up' no longer exists on a fake"]


def test_find_problems_lets_transient_errors_through() -> None:
    with pytest.raises(TransientError):
        find_problems(OneLook(TransientError("503")), config(), copied())


def fake_ctx(properties: dict[str, Any], runtime: dict[str, Any]) -> Any:
    return SimpleNamespace(node=SimpleNamespace(properties=properties),
                           instance=SimpleNamespace(runtime_properties=runtime))


def test_day2_operations_fall_back_to_the_deployment_copied_from() -> None:
    """create may have been given deployment_id as an input; pull/heal/check_status are not."""
    ctx = fake_ctx({"deployment_id": ""}, copied())
    assert day2_config(ctx, {}).deployment_id == "up"
    assert day2_config(ctx, {"deployment_id": "other"}).deployment_id == "other"
    moved = fake_ctx({"deployment_id": "new-up"}, copied())  # after a deployment update
    assert day2_config(moved, {}).deployment_id == "new-up"
