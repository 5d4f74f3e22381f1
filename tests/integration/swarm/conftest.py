"""Swarm tests check leftovers on the Swarm only: they create nothing on Kubernetes, and the
other cluster's state must not decide their outcome."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import clusters


@pytest.fixture
def no_leftovers(deployment_id: str) -> Iterator[str]:
    """Yields the deployment id; after the test, asserts nothing with its labels is left on the
    Swarm."""
    yield deployment_id
    clusters.wait_gone(lambda: clusters.docker_leftovers(deployment_id), timeout=60)
