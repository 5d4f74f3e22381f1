"""cloudify.nodes.DeploymentProxy in manager mode: the proxy's operations (run in-process by
cloudify.workflows.local) reach a manager through the real cloudify_rest_client, over HTTP and
HTTPS, with a token and a tenant header. No Cloudify manager can be installed on this machine,
so the manager is tests/helpers/fake_manager.py: the same REST endpoints and response shapes."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.fake_manager import FakeManager, free_port, self_signed_cert, serving
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import TEST_BLUEPRINTS

DOWNSTREAM = TEST_BLUEPRINTS / "proxy-downstream" / "blueprint.yaml"
OUTPUTS = {"vm_info": {"ips": ["10.20.0.2", "10.20.0.3"], "subnet": "10.20.0.0/24"},
           "kubernetes_url": "https://10.20.0.1:6443"}


@pytest.fixture(params=["http", "https"])
def manager(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[FakeManager, dict[str, Any]]]:
    """A fake manager and the `manager` property that reaches it (token + tenant)."""
    fake = FakeManager(tenant="vnf_tenant")
    tls = self_signed_cert(tmp_path) if request.param == "https" else None
    with serving(fake, tls) as port:
        settings = {"host": "127.0.0.1", "port": port, "protocol": request.param,
                    "token": fake.token, "tenant": fake.tenant}
        if tls:
            settings["ca_cert"] = str(tls[0])
        yield fake, settings


def proxy(name: str, settings: dict[str, Any], upstream: str = "up", **inputs: Any) -> LocalDeployment:
    return LocalDeployment(DOWNSTREAM, {"upstream": upstream, "manager": settings, **inputs},
                           name=name, retries=3, retry_interval=1)


@pytest.fixture
def failure_of(capfd: pytest.CaptureFixture[str]) -> Any:
    """Install, expect it to fail, and return what the failure said (the workflow's error
    and its log, where the task's message is)."""

    def run(deployment: LocalDeployment) -> str:
        capfd.readouterr()
        with pytest.raises(Exception) as error:
            deployment.install()
        captured = capfd.readouterr()
        return f"{error.value}\n{captured.out}\n{captured.err}"

    return run


def test_slow_upstream_is_picked_up_when_its_install_ends(
        manager: tuple[FakeManager, dict[str, Any]], deployment_id: str,
        capfd: pytest.CaptureFixture[str]) -> None:
    fake, settings = manager
    fake.add_deployment("up", OUTPUTS)
    execution = fake.start_execution("up")
    ended: list[str] = []
    timer = threading.Timer(1.5, lambda: ended.append(fake.end_execution(execution)))
    deployment = proxy(deployment_id, settings)
    timer.start()
    deployment.install()
    props = deployment.runtime_properties("kubernetes_proxy")
    assert props["vm_info"] == OUTPUTS["vm_info"] and props["deployment_id"] == "up"
    assert deployment.outputs()["router_ips"] == OUTPUTS["vm_info"]["ips"]
    # every request carried the token and the tenant; the token is nowhere in logs or properties
    assert all(r.headers.get("Tenant") == "vnf_tenant" for r in fake.served())
    assert all(r.headers.get("Authentication-Token") == fake.token for r in fake.served())
    assert fake.token not in str(props) + str(deployment.runtime_properties("router"))
    assert fake.token not in capfd.readouterr().out
    delay = (datetime.fromisoformat(props["outputs_copied_at"])
             - datetime.fromisoformat(ended[0].replace("Z", "+00:00"))).total_seconds()
    print(f"\n[{settings['protocol']}] reaction delay over REST: {delay:.3f}s "
          f"({len(fake.served())} requests)")


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_failed_upstream_fails_at_once(manager: tuple[FakeManager, dict[str, Any]],
                                       deployment_id: str, failure_of: Any, status: str) -> None:
    fake, settings = manager
    fake.add_deployment("up", OUTPUTS)
    execution = fake.start_execution("up")
    fake.end_execution(execution, status, error="Traceback (most recent call last):\n"
                                                "NonRecoverableError: image not found")
    message = failure_of(proxy(deployment_id, settings, timeout=600))
    assert f"the latest install of deployment 'up' (execution {execution}) ended with " \
           f"status '{status}': NonRecoverableError: image not found" in message
    assert len(fake.served("/executions")) == 1  # not retried


def test_missing_deployment(manager: tuple[FakeManager, dict[str, Any]], deployment_id: str, failure_of: Any) -> None:
    fake, settings = manager
    message = failure_of(proxy(deployment_id, settings, upstream="nowhere"))
    assert "deployment 'nowhere' does not exist" in message
    assert [r.status for r in fake.served()] == [404]


def test_missing_deployment_waited_for(manager: tuple[FakeManager, dict[str, Any]],
                                       deployment_id: str) -> None:
    fake, settings = manager

    def create_and_install() -> None:
        fake.add_deployment("late", OUTPUTS)
        fake.end_execution(fake.start_execution("late"))

    threading.Timer(1.0, create_and_install).start()
    deployment = proxy(deployment_id, settings, upstream="late",
                       wait_for={"missing_deployment": "wait"})
    deployment.install()
    assert deployment.runtime_properties("kubernetes_proxy")["kubernetes_url"] == \
        OUTPUTS["kubernetes_url"]
    assert 404 in [r.status for r in fake.served()]


def test_401_is_not_retried(manager: tuple[FakeManager, dict[str, Any]], deployment_id: str, failure_of: Any) -> None:
    fake, settings = manager
    fake.add_deployment("up", OUTPUTS)
    message = failure_of(proxy(deployment_id, {**settings, "token": "wrong-token-12345"}))
    assert "refused the credentials (401)" in message
    assert "wrong-token-12345" not in message
    assert [r.status for r in fake.served()] == [401]


def test_unknown_tenant_is_not_retried(manager: tuple[FakeManager, dict[str, Any]],
                                       deployment_id: str, failure_of: Any) -> None:
    fake, settings = manager
    message = failure_of(proxy(deployment_id, {**settings, "tenant": "other"}))
    assert "(403)" in message and [r.status for r in fake.served()] == [403]


def test_500_then_success_is_retried(manager: tuple[FakeManager, dict[str, Any]],
                                     deployment_id: str) -> None:
    fake, settings = manager
    fake.add_deployment("up", OUTPUTS)
    fake.end_execution(fake.start_execution("up"))
    fake.fail_next("/executions", 500, times=2)
    fake.fail_next("/outputs", 503)
    deployment = proxy(deployment_id, settings)
    deployment.install()
    assert deployment.runtime_properties("kubernetes_proxy")["vm_info"] == OUTPUTS["vm_info"]
    assert [r.status for r in fake.served("/executions")] == [500, 500, 200, 200]
    assert [r.status for r in fake.served("/outputs")] == [503, 200]


def test_timeout(manager: tuple[FakeManager, dict[str, Any]], deployment_id: str, failure_of: Any) -> None:
    fake, settings = manager
    fake.add_deployment("up", OUTPUTS)
    fake.start_execution("up")
    message = failure_of(proxy(deployment_id, settings, timeout=1))
    assert "gave up waiting for deployment 'up' on manager" in message
    assert "(its install to finish)" in message and "(timeout 1s)" in message
    assert "install of deployment 'up' is started" in message


def test_https_without_the_ca_fails_clearly(tmp_path: Path, deployment_id: str, failure_of: Any) -> None:
    fake = FakeManager()
    with serving(fake, self_signed_cert(tmp_path)) as port:
        settings = {"host": "127.0.0.1", "port": port, "protocol": "https",
                    "token": fake.token}
        message = failure_of(proxy(deployment_id, settings))
    assert "TLS failed (check manager.ca_cert)" in message
    assert fake.served() == []


def test_uninstall_forgets_what_was_copied(manager: tuple[FakeManager, dict[str, Any]],
                                           deployment_id: str) -> None:
    fake, settings = manager
    fake.add_deployment("up", OUTPUTS)
    fake.end_execution(fake.start_execution("up"))
    deployment = proxy(deployment_id, settings)
    deployment.install()
    assert deployment.runtime_properties("router")["vm_info"] == OUTPUTS["vm_info"]
    deployment.uninstall()
    assert "vm_info" not in deployment.runtime_properties("router")
    assert deployment.runtime_properties("kubernetes_proxy") == {}


def test_refresh_over_rest(manager: tuple[FakeManager, dict[str, Any]], deployment_id: str,
                           capfd: pytest.CaptureFixture[str]) -> None:
    fake, settings = manager
    fake.add_deployment("up", OUTPUTS)
    fake.end_execution(fake.start_execution("up"))
    deployment = proxy(deployment_id, settings)
    deployment.install()
    fake.outputs["up"] = {**OUTPUTS, "vm_info": {**OUTPUTS["vm_info"], "ips": ["10.20.0.9"]}}
    capfd.readouterr()
    deployment.operation("kubernetes_proxy", "cloudify.interfaces.proxy.refresh")
    assert "vm_info: {'ips': ['10.20.0.2', '10.20.0.3'], 'subnet': '10.20.0.0/24'} -> " \
           "{'ips': ['10.20.0.9'], 'subnet': '10.20.0.0/24'}" in capfd.readouterr().out
    assert deployment.runtime_properties("kubernetes_proxy")["vm_info"]["ips"] == ["10.20.0.9"]


def test_basic_auth_and_verify_off_warns(tmp_path: Path, deployment_id: str,
                                         capfd: pytest.CaptureFixture[str]) -> None:
    fake = FakeManager(basic_auth=("admin", "manager-password-42"))
    fake.add_deployment("up", OUTPUTS)
    fake.end_execution(fake.start_execution("up"))
    with serving(fake, self_signed_cert(tmp_path)) as port:
        settings = {"host": "127.0.0.1", "port": port, "protocol": "https",
                    "username": "admin", "password": "manager-password-42", "verify": False}
        deployment = proxy(deployment_id, settings)
        deployment.install()
    out = capfd.readouterr().out
    assert "TLS verification is OFF for manager 127.0.0.1" in out
    assert "manager-password-42" not in out
    assert deployment.runtime_properties("kubernetes_proxy")["vm_info"] == OUTPUTS["vm_info"]
    assert {r.status for r in fake.served()} == {200}


def test_connection_refused_is_retried_until_the_manager_answers(deployment_id: str) -> None:
    fake = FakeManager()
    fake.add_deployment("up", OUTPUTS)
    fake.end_execution(fake.start_execution("up"))
    port = free_port()
    settings = {"host": "127.0.0.1", "port": port, "protocol": "http", "token": fake.token}
    deployment = proxy(deployment_id, settings)
    up = threading.Event()

    def serve_later() -> None:
        with serving(fake, port=port):
            up.set()
            while len(fake.served("/outputs")) == 0:
                threading.Event().wait(0.05)

    threading.Timer(1.0, serve_later).start()
    deployment.install()
    assert up.is_set()
    assert deployment.runtime_properties("kubernetes_proxy")["vm_info"] == OUTPUTS["vm_info"]


def test_connection_refused_at_the_end_is_recoverable(deployment_id: str, failure_of: Any) -> None:
    settings = {"host": "127.0.0.1", "port": free_port(), "protocol": "http", "token": "t0k3n-x"}
    message = failure_of(proxy(deployment_id, settings, timeout=0.5))
    assert "gave up waiting for deployment 'up'" in message
    assert "ConnectionError" in message
    assert message.count("Task failed 'cloudify_proxy.tasks.proxy_create'") >= 2  # retried
