"""The Helm test blueprint ships its chart twice: the source (chart/) and the packaged chart the
blueprint names (resources/web-0.1.0.tgz, `helm package chart -d resources`). They hold the
same files (Chart.yaml the same data), so a change to one without the other fails here."""
from __future__ import annotations

import tarfile

import yaml

from tests.helpers.paths import TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "helm-release"


def test_the_packaged_chart_is_the_chart_directory() -> None:
    source = BLUEPRINT / "chart"
    files = {str(p.relative_to(source)): p.read_bytes() for p in source.rglob("*") if p.is_file()}
    with tarfile.open(BLUEPRINT / "resources" / "web-0.1.0.tgz") as package:
        packed = {m.name.split("/", 1)[1]: package.extractfile(m).read()  # type: ignore[union-attr]
                  for m in package.getmembers() if m.isfile()}
    # helm package writes Chart.yaml again (same content, its own key order)
    assert yaml.safe_load(packed.pop("Chart.yaml")) == yaml.safe_load(files.pop("Chart.yaml"))
    assert packed == files
