"""Fixtures shared by the whole suite.

Integration tests need the real local clusters (`scripts/local-clusters up`). When a cluster is
down they FAIL with that instruction rather than skip: a skipped integration test proves nothing.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import clusters
from tests.helpers.cfy_cli import CfyCli


@pytest.fixture(scope="session")
def swarm() -> None:
    if not clusters.swarm_up():
        pytest.fail("the local Docker Swarm is not up: run scripts/local-clusters up")


@pytest.fixture(scope="session")
def kube() -> None:
    if not clusters.kubernetes_up():
        pytest.fail("the local Kubernetes is not up: run scripts/local-clusters up")


@pytest.fixture
def deployment_id(request: pytest.FixtureRequest) -> str:
    """A unique, readable deployment id for one test."""
    name = request.node.name.replace("[", "-").replace("]", "").replace("_", "-")[:30].strip("-")
    return f"{name}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def cfy(tmp_path: Path) -> Iterator[CfyCli]:
    """The real cfy CLI in a fresh CFY_WORKDIR of this test's own."""
    yield CfyCli(tmp_path / "cfy-workdir")


@pytest.fixture
def no_leftovers(deployment_id: str) -> Iterator[str]:
    """Yields the deployment id; after the test, asserts nothing with its labels is left."""
    yield deployment_id
    clusters.wait_gone(lambda: clusters.leftovers(deployment_id), timeout=60)
