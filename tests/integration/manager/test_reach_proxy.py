"""The DeploymentProxy's reach on the real manager (issue 24, class 6): run by the mgmtworker,
a proxy reaches another manager only where the administrator allows it. The harness allows
exactly https://127.0.0.1:18443 (CLOUDIFY_VNF_ALLOWED_MANAGERS, scripts/real-manager), so the
REST service behind nginx (plain http on 127.0.0.1:18100, the manager's own loopback) is refused
before any request, the events naming the field, the URL and the setting; the allowed https URL
still copies the outputs; a deployment_id that would leave its REST path (`../tenants`) is
refused naming the field. `manager: {}` (the manager running the operation) is
test_proxy.py's test_proxy_on_the_manager_reads_the_manager_it_runs_on. The same settings in
the local profile are not checked (tests/integration/proxy)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from examples.manager import ManagerAccess, ManagerCfy
from tests.integration.manager.test_microservices import failed_install_events
from tests.integration.manager.test_proxy import (
    DOWNSTREAM,
    UPSTREAM,
    UPSTREAM_IPS,
    token_settings,
    unique,
)

SETTING = "CLOUDIFY_VNF_ALLOWED_MANAGERS"


@pytest.fixture(scope="module")
def upstream(manager_access: ManagerAccess, suite_plugin: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """proxy-upstream, installed on the manager: what every proxy here would copy from."""
    cli = ManagerCfy(tmp_path_factory.mktemp("cfy-reach-proxy"), manager_access)
    name = unique("reach-up")
    cli.install(UPSTREAM, name)
    yield name
    cli.uninstall(name)


def allowed_manager(access: ManagerAccess) -> dict[str, Any]:
    """The manager over its allowed https URL with a fresh token. Its CA file is outside the
    directories the harness lets blueprints name (CLOUDIFY_VNF_ALLOWED_DIRS), so TLS is not
    verified here; test_proxy.py verifies it in the local profile."""
    settings = {k: v for k, v in token_settings(access).items() if k != "ca_cert"}
    return {**settings, "verify": False}


def test_the_rest_service_behind_nginx_over_http_is_refused_naming_field_and_setting(
        on_manager: ManagerCfy, manager_access: ManagerAccess, manager_deployment: str,
        upstream: str) -> None:
    token = allowed_manager(manager_access)["token"]
    manager = {"host": "127.0.0.1", "port": 18100, "protocol": "http", "token": token,
               "tenant": manager_access.tenant}
    events = failed_install_events(on_manager, manager_deployment, DOWNSTREAM,
                                   {"upstream": upstream, "manager": manager})
    assert ("properties.manager.host: 'http://127.0.0.1:18100' (http://127.0.0.1:18100) is a "
            "Cloudify manager that this manager does not allow blueprints to reach") in events, \
        events[-3000:]
    assert SETTING in events and "allowed now: https://127.0.0.1:18443" in events
    assert events.count("Task failed 'cloudify_proxy.tasks.proxy_create'") == 1  # not retried
    assert "copied" not in events and token not in events
    (proxy,) = manager_access.client().node_instances.list(deployment_id=manager_deployment,
                                                            node_id="kubernetes_proxy")
    assert "vm_info" not in proxy.runtime_properties


def test_the_allowed_https_url_still_copies_the_outputs(
        on_manager: ManagerCfy, manager_access: ManagerAccess, manager_deployment: str,
        upstream: str) -> None:
    manager = allowed_manager(manager_access)
    on_manager.install(DOWNSTREAM, manager_deployment, {"upstream": upstream, "manager": manager})
    outputs = on_manager.outputs(manager_deployment)
    assert outputs["proxied_ips"] == UPSTREAM_IPS and outputs["router_ips"] == UPSTREAM_IPS
    assert outputs["proxy_deployment"] == upstream
    install = [e for e in on_manager.executions(manager_deployment) if e.workflow_id
               == "install"][-1]
    events = on_manager.events(install.id)
    assert f"from manager https://127.0.0.1:18443 (tenant {manager_access.tenant})" in events
    assert manager["token"] not in events


@pytest.mark.parametrize("upstream_id", ["../tenants", "up/../../tenants"])
def test_a_deployment_id_leaving_its_rest_path_is_refused(
        on_manager: ManagerCfy, manager_deployment: str, upstream_id: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, DOWNSTREAM,
                                   {"upstream": upstream_id})
    assert (f"properties.deployment_id: '{upstream_id}' is not a Cloudify deployment id"
            in events), events[-3000:]
    assert events.count("Task failed 'cloudify_proxy.tasks.proxy_create'") == 1
