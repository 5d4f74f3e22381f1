"""In the local profile the proxy reads the upstream from the same file storage its own
deployment runs from (found through the operation's context), not from a guessed path."""
from __future__ import annotations

from pathlib import Path

import pytest
from cloudify.workflows import local

from tests.helpers.local_workflows import offline_resolver
from tests.helpers.paths import TEST_BLUEPRINTS


def test_proxy_uses_the_storage_its_deployment_runs_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deployment_id: str) -> None:
    monkeypatch.setenv("CFY_WORKDIR", str(tmp_path / "not-this-one"))
    storage = local.FileStorage(storage_dir=str(tmp_path / "profile"))
    upstream = local.init_env(str(TEST_BLUEPRINTS / "proxy-upstream" / "blueprint.yaml"),
                              name=f"{deployment_id}-up", storage=storage,
                              resolver=offline_resolver())
    upstream.execute("install", task_retries=0)
    downstream = local.init_env(str(TEST_BLUEPRINTS / "proxy-downstream" / "blueprint.yaml"),
                                name=f"{deployment_id}-down", storage=storage,
                                inputs={"upstream": f"{deployment_id}-up", "timeout": 5},
                                resolver=offline_resolver())
    downstream.execute("install", task_retries=0)
    assert downstream.outputs()["proxied_url"] == "https://127.0.0.1:6443"
