"""Cloudify's built-in workflows on a DeploymentProxy, through the real `cfy` CLI (local
profile): check_status, check_drift, pull and heal over the upstream/downstream pair of
test_local_profile.py (blueprints that run unchanged on a manager). Changed values must never
appear in the output: the findings name outputs, not their values."""
from __future__ import annotations

import pytest

from tests.helpers.cfy_cli import CfyCli
from tests.helpers.paths import TEST_BLUEPRINTS
from tests.helpers.proxy_timing import install_down, instance

pytestmark = pytest.mark.cfy

UPSTREAM = TEST_BLUEPRINTS / "proxy-upstream" / "blueprint.yaml"
PROXY = "kubernetes_proxy"
MORE = ["10.10.0.2", "10.10.0.3", "10.10.0.4"]
OTHER = ["10.10.0.7"]


@pytest.fixture
def ids(deployment_id: str) -> tuple[str, str]:
    return f"{deployment_id}-up", f"{deployment_id}-down"


def reinstall_up(cfy: CfyCli, up: str, ips: list[str]) -> None:
    """The upstream redeployed with other backends: its vm_info output changes."""
    cfy.uninstall(up).check()
    cfy.install(UPSTREAM, up, {"backend_ips": ips}).check()


def drift_of(cfy: CfyCli, down: str) -> object:
    return instance(cfy, down, PROXY)["system_properties"]["configuration_drift"]["result"]


def test_check_status_drift_and_pull(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    install_down(cfy, down, up).check()
    passed = cfy.execute("check_status", down).check()
    assert f"deployment '{up}' on the cfy local profile" in passed.output
    assert "3 copied output(s) are current" in passed.output

    cfy.uninstall(up).check()
    gone = cfy.execute("check_status", down)
    assert gone.returncode != 0
    assert f"node '{PROXY}'" in gone.output and f"deployment '{up}' no longer exists" in gone.output

    cfy.install(UPSTREAM, up, {"backend_ips": MORE}).check()
    stale = cfy.execute("check_status", down)
    assert stale.returncode != 0
    assert "output 'vm_info' changed" in stale.output
    assert "10.10.0.4" not in stale.output

    drift = cfy.execute("check_drift", down).check()
    assert drift_of(cfy, down) == ["output 'vm_info' changed"]
    assert "drift: output 'vm_info' changed" in drift.output and "10.10.0.4" not in drift.output

    pulled = cfy.execute("pull", down).check()
    assert f"refreshed outputs of deployment '{up}': vm_info changed" in pulled.output
    assert "10.10.0.4" not in pulled.output
    assert instance(cfy, down, PROXY)["runtime_properties"]["vm_info"]["ips"] == MORE
    cfy.execute("check_status", down).check()
    cfy.execute("check_drift", down).check()
    assert drift_of(cfy, down) == []
    cfy.uninstall(down).check()
    cfy.uninstall(up).check()


def test_heal_copies_again_without_reinstalling(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    install_down(cfy, down, up).check()
    copied_at = instance(cfy, down, PROXY)["runtime_properties"]["outputs_copied_at"]
    reinstall_up(cfy, up, OTHER)
    healed = cfy.execute("heal", down).check()
    assert "output 'vm_info' changed" in healed.output  # check_status found it
    assert "proxy_create" not in healed.output and "proxy_delete" not in healed.output
    assert f"refreshed outputs of deployment '{up}': vm_info changed" in healed.output
    assert "10.10.0.7" not in healed.output
    props = instance(cfy, down, PROXY)["runtime_properties"]
    assert props["vm_info"]["ips"] == OTHER and props["outputs_copied_at"] > copied_at
    cfy.execute("check_status", down).check()
    cfy.uninstall(down).check()
    cfy.uninstall(up).check()
