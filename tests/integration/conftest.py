"""The suite-wide leak check: after every integration module, nothing carrying this suite's
ownership labels is left on either cluster, whatever deployment made it. (Tests also check
their own deployment; this catches what a test forgot, under any deployment id.)

Run the integration tests on clusters that nothing else uses at the same time (no demo up,
no benchmark running), or this check will report their objects."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import clusters


@pytest.fixture(scope="module", autouse=True)
def nothing_of_ours_left_after_the_module() -> Iterator[None]:
    yield
    if clusters.swarm_up() and clusters.kubernetes_up():
        clusters.wait_gone(clusters.leftovers, timeout=90)
