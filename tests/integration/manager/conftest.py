"""Fixtures for the tests on the real Cloudify manager (`scripts/real-manager up`).

The manager runs from the pinned Cloudify source (CLOUDIFY_SOURCE, by default
../shared/real-manager/cloudify-7.0.5-src.tar.gz beside the project). Where that source is absent
(a user's clone), these tests skip and say why; wherever it is present, and always under CI=true,
a manager that does not answer FAILS them: a skipped test proves nothing.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.manager import ManagerAccess, ManagerCfy, ensure_wagon
from tests.helpers import clusters
from tests.helpers.paths import ROOT

SOURCE = Path(os.environ.get("CLOUDIFY_SOURCE",
                             ROOT.parent / "shared" / "real-manager" / "cloudify-7.0.5-src.tar.gz"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.manager)


@pytest.fixture(scope="session")
def manager_access() -> ManagerAccess:
    if not SOURCE.exists() and os.environ.get("CI") != "true":
        pytest.skip(f"no Cloudify source at {SOURCE}: the real-manager tests need it "
                    "(set CLOUDIFY_SOURCE to cloudify-7.0.5-src.tar.gz)")
    access = ManagerAccess.from_env()
    if not access.password_file.exists() or not access.answers():
        pytest.fail(f"the real Cloudify manager does not answer at https://{access.host}:{access.port}: "
                    "run scripts/real-manager up")
    return access


@pytest.fixture(scope="session")
def suite_plugin(manager_access: ManagerAccess, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The wagon built from this tree, uploaded with plugin.yaml (once per session)."""
    cli = ManagerCfy(tmp_path_factory.mktemp("cfy-plugin"), manager_access)
    return cli.ensure_plugin(ensure_wagon())


@pytest.fixture
def on_manager(manager_access: ManagerAccess, suite_plugin: str, tmp_path: Path) -> ManagerCfy:
    """The real cfy CLI with a profile for the real manager, in this test's own CFY_WORKDIR."""
    return ManagerCfy(tmp_path / "cfy-manager", manager_access)


@pytest.fixture
def manager_deployment(on_manager: ManagerCfy, deployment_id: str) -> Iterator[str]:
    """A deployment id on the manager; afterwards it is uninstalled and deleted (with its
    blueprint) if the test left it, and nothing with its labels may be left on either cluster."""
    yield deployment_id
    on_manager.uninstall(deployment_id)
    clusters.wait_gone(lambda: clusters.leftovers(deployment_id), timeout=90)
