"""Run a blueprint's workflows in-process through cloudify.workflows.local.

Offline: the official types URL and `plugin:cloudify-vnf-suite` resolve to local files. Retries are
always explicit (Cloudify's defaults are unlimited retries every 30 s).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cloudify.workflows import local

from cloudify_shared.offline.resolver import OfflineImportResolver
from tests.helpers.paths import PLUGIN_YAML

DEFAULT_RETRIES = 3
DEFAULT_RETRY_INTERVAL = 1


def offline_resolver(types_file: Path | None = None) -> OfflineImportResolver:
    return OfflineImportResolver(
        types_file=str(types_file) if types_file else None,
        plugins={"cloudify-vnf-suite": str(PLUGIN_YAML)},
    )


class LocalDeployment:
    """One blueprint deployed in memory; `install`, `uninstall`, `execute`, `outputs`."""

    def __init__(self, blueprint: Path, inputs: dict[str, Any] | None = None,
                 name: str | None = None, retries: int = DEFAULT_RETRIES,
                 retry_interval: float = DEFAULT_RETRY_INTERVAL) -> None:
        self.name = name or f"t-{uuid.uuid4().hex[:8]}"
        self.retries, self.retry_interval = retries, retry_interval
        self.env = local.init_env(str(blueprint), name=self.name, inputs=inputs or {},
                                  resolver=offline_resolver())

    def execute(self, workflow: str, parameters: dict[str, Any] | None = None) -> Any:
        return self.env.execute(workflow, parameters=parameters or {},
                                task_retries=self.retries, task_retry_interval=self.retry_interval)

    def install(self) -> Any:
        return self.execute("install")

    def uninstall(self) -> Any:
        return self.execute("uninstall")

    def outputs(self) -> dict[str, Any]:
        return dict(self.env.outputs())

    def instances(self, node_id: str) -> list[Any]:
        return [i for i in self.env.storage.get_node_instances() if i.node_id == node_id]

    def runtime_properties(self, node_id: str) -> dict[str, Any]:
        (instance,) = self.instances(node_id)
        return dict(instance.runtime_properties)

    def operation(self, node_id: str, operation: str, **kwargs: Any) -> Any:
        return self.execute("execute_operation", {
            "operation": operation, "operation_kwargs": kwargs,
            "node_ids": [node_id], "allow_kwargs_override": True,
        })


@contextmanager
def deployed(blueprint: Path, inputs: dict[str, Any] | None = None,
             **kwargs: Any) -> Iterator[LocalDeployment]:
    """Install on entry, uninstall on exit (also when the body fails)."""
    deployment = LocalDeployment(blueprint, inputs, **kwargs)
    deployment.install()
    try:
        yield deployment
    finally:
        deployment.uninstall()
