"""What the proxy needs from wherever the upstream deployment lives.

Two adapters implement it: local_source (the `cfy` local profile's file storage) and
rest_source (a Cloudify manager's REST API). Both raise only cloudify_shared errors:
TransientError for what may pass (connection refused, 5xx, a file being written), UserError
for what will not (401/403). No ctx here.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class DeploymentSource(Protocol):
    def describe(self) -> str:
        """Where the deployments are, for messages (never with credentials)."""
        ...

    def executions(self, deployment_id: str) -> list[Mapping[str, Any]] | None:
        """The deployment's executions (workflow_id, status, created_at, ended_at, error),
        or None when no such deployment exists."""
        ...

    def outputs(self, deployment_id: str) -> dict[str, Any]:
        """The deployment's evaluated outputs."""
        ...

    def capabilities(self, deployment_id: str) -> dict[str, Any]:
        """The deployment's evaluated capabilities (read only by proxies that copy some)."""
        ...
