"""The Helm test blueprint and the Helm example ship their chart twice: the source (chart/) and
the packaged chart the blueprint names (resources/<name>-<version>.tgz, `helm package chart -d
resources`). They hold the same files (Chart.yaml the same data but for the version a package of
`helm package --version` carries: web-0.2.0.tgz, the chart the manager's update test moves to), so
a change to one without the other fails here."""
from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import yaml

from tests.helpers.paths import ROOT, TEST_BLUEPRINTS

PACKAGED = [(TEST_BLUEPRINTS / "helm-release", "web-0.1.0.tgz"),
            (TEST_BLUEPRINTS / "helm-release", "web-0.2.0.tgz"),
            (ROOT / "examples" / "blueprints" / "k8s-cluster-helm", "web-backends-0.1.0.tgz")]


@pytest.mark.parametrize(("blueprint", "package_name"), PACKAGED, ids=lambda v: str(v)[-24:])
def test_the_packaged_chart_is_the_chart_directory(blueprint: Path, package_name: str) -> None:
    source = blueprint / "chart"
    files = {str(p.relative_to(source)): p.read_bytes() for p in source.rglob("*") if p.is_file()}
    with tarfile.open(blueprint / "resources" / package_name) as package:
        packed = {m.name.split("/", 1)[1]: package.extractfile(m).read()  # type: ignore[union-attr]
                  for m in package.getmembers() if m.isfile()}
    # helm package writes Chart.yaml again (same content, its own key order)
    version = package_name.rsplit("-", 1)[1].removesuffix(".tgz")
    assert yaml.safe_load(packed.pop("Chart.yaml")) == {
        **yaml.safe_load(files.pop("Chart.yaml")), "version": version}
    assert packed == files
