"""The suite-wide leak check: after every integration module, nothing carrying this suite's
ownership labels is left on either cluster, whatever deployment made it. (Tests also check
their own deployment; this catches what a test forgot, under any deployment id.) A leak fails
the module that left it (and, under CI, is then removed, so it is reported once).

Under CI=true (a machine whose clusters serve nothing but this run) objects of ours found before
the first test (an earlier run that was killed, on a machine that keeps its clusters) are listed
and removed first, and a module's leak is removed after it is reported: they would otherwise
collide with the fixed names of the test blueprints and fail tests that have nothing to do with
them. Elsewhere nothing is removed (the objects may be a demo's, or another run's): they are
reported, and the run fails.

Run the integration tests on clusters that nothing else uses at the same time (no demo up,
no benchmark running), or this check will report their objects."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from tests.helpers import clusters

SWEEP = os.environ.get("CI") == "true"


@pytest.fixture(scope="session", autouse=True)
def clusters_swept_before_the_run() -> None:
    if not SWEEP or not (clusters.swarm_up() and clusters.kubernetes_up()):
        return
    found = clusters.leftovers()
    if found:
        print(f"\nremoving {len(found)} object(s) an earlier run left: {found}", file=sys.stderr)
        clusters.remove_leftovers()
        clusters.wait_gone(clusters.leftovers, timeout=120)


@pytest.fixture(scope="module", autouse=True)
def nothing_of_ours_left_after_the_module() -> Iterator[None]:
    yield
    if clusters.swarm_up() and clusters.kubernetes_up():
        clusters.assert_nothing_left(timeout=90, remove=SWEEP)
