"""cloudify.nodes.DeploymentProxy in manager mode, for what a real manager cannot be made to do:
answer 5xx (retried until it answers) and refuse connections (retried; recoverable at the end).
The manager here is tests/helpers/fake_manager.py (the same REST endpoints and response shapes);
everything the real REST service can do is tested against it in
tests/integration/manager/test_proxy.py."""
from __future__ import annotations

import threading
from collections.abc import Iterator
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
def manager(request: pytest.FixtureRequest,
            tmp_path: Path) -> Iterator[tuple[FakeManager, dict[str, Any]]]:
    """A fake manager and the `manager` property that reaches it (token + tenant)."""
    fake = FakeManager(tenant="vnf_tenant")
    tls = self_signed_cert(tmp_path) if request.param == "https" else None
    with serving(fake, tls) as port:
        settings = {"host": "127.0.0.1", "port": port, "protocol": request.param,
                    "token": fake.token, "tenant": fake.tenant}
        if tls:
            settings["ca_cert"] = str(tls[0])
        yield fake, settings


def proxy(name: str, settings: dict[str, Any], upstream: str = "up",
          **inputs: Any) -> LocalDeployment:
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
