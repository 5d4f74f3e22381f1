"""A proxy with `manager: {}` on a manager reads as the execution that runs it (issue 17): the
REST client is cloudify.manager.get_rest_client() with no tenant or token of its own (it takes
the operation context's tenant and execution token), and the source names that tenant, so a
deployment of another tenant is reported missing from the tenant the proxy looked in."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import cloudify.manager
import pytest

from cloudify_proxy import tasks
from cloudify_proxy.config import parse_proxy


def test_manager_empty_uses_the_executions_own_client_and_names_its_tenant(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def get_rest_client(**kwargs: Any) -> object:
        calls.append(kwargs)
        return object()

    monkeypatch.setattr(cloudify.manager, "get_rest_client", get_rest_client)
    ctx = SimpleNamespace(tenant_name="vnf_tenant_b", _local=False, logger=None)
    source = tasks.open_source(ctx, parse_proxy({"deployment_id": "up"}, {}))
    assert calls == [{}]  # neither a tenant nor a token: the execution's
    assert source.describe() == "this manager (tenant 'vnf_tenant_b', the execution's own)"
