"""cloudify.nodes.DeploymentProxy in the cfy local profile, for real: two blueprints installed
with the real `cfy` CLI in one CFY_WORKDIR. The upstream exposes outputs (get_attribute,
concat); the downstream's proxy waits for it and copies them; a router node receives them over
connected_to_proxy; both are read back through get_attribute in the downstream's outputs."""
from __future__ import annotations

import time

import pytest

from tests.helpers import proxy_timing
from tests.helpers.cfy_cli import CfyCli
from tests.helpers.paths import TEST_BLUEPRINTS
from tests.helpers.proxy_timing import (
    Background,
    install_down,
    instance,
    wait_until_proxy_is_creating,
)

pytestmark = pytest.mark.cfy

UPSTREAM = TEST_BLUEPRINTS / "proxy-upstream" / "blueprint.yaml"
FAILING = TEST_BLUEPRINTS / "proxy-upstream-failing" / "blueprint.yaml"
TOKEN = "upstream-secret-token-0123"
VM_INFO = {"ips": ["10.10.0.2", "10.10.0.3"], "subnet": "10.10.0.0/24"}


@pytest.fixture
def ids(deployment_id: str) -> tuple[str, str]:
    return f"{deployment_id}-up", f"{deployment_id}-down"


def test_copies_all_outputs_and_router_reads_them(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    result = install_down(cfy, down, up).check()
    outputs = cfy.outputs(down)
    assert outputs["proxied_ips"] == VM_INFO["ips"]
    assert outputs["proxied_url"] == "https://127.0.0.1:6443"
    assert outputs["router_ips"] == VM_INFO["ips"]
    assert outputs["router_subnet"] == VM_INFO["subnet"]
    assert outputs["proxy_deployment"] == up
    props = instance(cfy, down, "kubernetes_proxy")["runtime_properties"]
    assert props["copied_outputs"] == ["api_token", "kubernetes_url", "vm_info"]
    assert props["api_token"] == TOKEN  # copied: users need it ...
    assert TOKEN not in result.output    # ... but never logged
    assert props["outputs_copied_at"].endswith("+00:00")
    cfy.uninstall(down).check()
    cfy.uninstall(up).check()


def test_list_form_copies_only_the_named_outputs(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    install_down(cfy, down, up, inherit_outputs=["vm_info"]).check()
    props = instance(cfy, down, "kubernetes_proxy")["runtime_properties"]
    assert props["vm_info"] == VM_INFO
    assert "kubernetes_url" not in props and "api_token" not in props
    assert cfy.outputs(down)["router_ips"] == VM_INFO["ips"]


def test_mapping_form_renames_outputs(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    install_down(cfy, down, up,
                 inherit_outputs={"vm_info": "backends", "kubernetes_url": "k8s_url"}).check()
    props = instance(cfy, down, "kubernetes_proxy")["runtime_properties"]
    assert props["backends"] == VM_INFO and props["k8s_url"] == "https://127.0.0.1:6443"
    assert "vm_info" not in props
    router = instance(cfy, down, "router")["runtime_properties"]
    assert router["backends"] == VM_INFO


def test_failed_upstream_fails_the_proxy_at_once(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    assert cfy.install(FAILING, up).returncode != 0
    started = time.monotonic()
    result = install_down(cfy, down, up, timeout=600)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert f"the latest install of deployment '{up}'" in result.output
    assert "ended with status 'failed'" in result.output
    assert "gave up waiting" not in result.output
    print(f"\nproxy of a failed upstream failed after {elapsed:.1f}s (timeout was 600 s)")


def test_missing_deployment_is_a_clear_error(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    result = install_down(cfy, down, up)
    assert result.returncode != 0
    assert "node 'kubernetes_proxy'" in result.output
    assert f"deployment '{up}' does not exist" in result.output
    assert "missing_deployment: wait" in result.output


def test_missing_output_lists_the_existing_ones(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    result = install_down(cfy, down, up, inherit_outputs=["vm_info", "backend_ips"])
    assert result.returncode != 0
    assert "inherit_outputs" in result.output and "'backend_ips'" in result.output
    assert "its outputs are: api_token, kubernetes_url, vm_info" in result.output


def test_timeout_says_what_it_waited_for(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    never = {"conditions": [{"output": "vm_info", "path": ["ips"], "contains": "10.99.0.9"}]}
    result = install_down(cfy, down, up, wait_for=never, timeout=2)
    assert result.returncode != 0
    assert f"gave up waiting for deployment '{up}'" in result.output
    assert "(timeout 2s)" in result.output
    assert "vm_info['ips'] contains '10.99.0.9'" in result.output


WAIT_FOR_CREATION = {"missing_deployment": "wait"}


def test_upstream_installed_after_the_proxy_started_waiting(
        cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    waiting = Background(cfy, down, up, wait_for=WAIT_FOR_CREATION, timeout=240)
    wait_until_proxy_is_creating(cfy, down)
    upstream = cfy.install(UPSTREAM, up).check()
    result = waiting.join().check()
    assert "does not exist yet" in result.output  # it did wait
    assert cfy.outputs(down)["proxied_ips"] == VM_INFO["ips"]
    finished = proxy_timing.install_finished_at(upstream.output)
    completed = proxy_timing.proxy_create_succeeded_at(result.output)
    props = instance(cfy, down, "kubernetes_proxy")["runtime_properties"]
    print(f"\nreaction delay: upstream install finished {finished.time()}, proxy copied at "
          f"{proxy_timing.copied_at(props).time()} "
          f"({proxy_timing.delay_seconds(finished, proxy_timing.copied_at(props)):.3f}s), "
          f"proxy create completed {completed.time()} "
          f"({proxy_timing.delay_seconds(finished, completed):.3f}s)")


def test_failed_upstream_ends_a_running_wait(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    waiting = Background(cfy, down, up, wait_for=WAIT_FOR_CREATION, timeout=600)
    wait_until_proxy_is_creating(cfy, down)
    upstream = cfy.install(FAILING, up)
    assert upstream.returncode != 0
    result = waiting.join()
    assert result.returncode != 0
    assert "ended with status 'failed'" in result.output
    finished = proxy_timing.install_finished_at(upstream.output)
    print(f"\nfailure reaction: the waiting proxy failed "
          f"""{proxy_timing.delay_seconds(finished,
                                          proxy_timing.install_finished_at(result.output)):.3f}s """
          f"after the upstream install failed (timeout was 600 s)")


def test_refresh_reads_changed_outputs_again(cfy: CfyCli, ids: tuple[str, str]) -> None:
    up, down = ids
    cfy.install(UPSTREAM, up).check()
    install_down(cfy, down, up).check()
    refresh = {"operation": "cloudify.interfaces.proxy.refresh", "node_ids": ["kubernetes_proxy"]}
    unchanged = cfy.execute("execute_operation", down, refresh).check()
    assert f"refreshed outputs of deployment '{up}': no change" in unchanged.output
    # the cluster is redeployed with one more backend
    cfy.uninstall(up).check()
    more = ["10.10.0.2", "10.10.0.3", "10.10.0.4"]
    cfy.install(UPSTREAM, up, {"backend_ips": more}).check()
    changed = cfy.execute("execute_operation", down, refresh).check()
    assert f"refreshed outputs of deployment '{up}': vm_info changed" in changed.output
    assert "10.10.0.4" not in changed.output  # names what changed, never the value
    props = instance(cfy, down, "kubernetes_proxy")["runtime_properties"]
    assert props["vm_info"]["ips"] == more
    assert cfy.outputs(down)["proxied_ips"] == more
