"""Issue 27 on the real local Kubernetes (1.20.2, no server-side field validation), through the
real cfy CLI: a descriptor field the API server would drop silently is refused before anything
is applied, naming the file, the object and the field, the same way over the API and over SSH;
with field_validation: warn it installs and the warning is in the events; a custom resource's
unknown field is refused against its CRD's schema (in the same file, or the server's)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import clusters
from tests.helpers.cfy_cli import CfyCli
from tests.helpers.paths import LOCAL_API, LOCAL_SSH, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "k8s-field-validation" / "blueprint.yaml"
UNKNOWN = "resources/unknown-fields.yaml"
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube"), pytest.mark.cfy]


@pytest.fixture(autouse=True)
def schema_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of the test's own (cfy's operations inherit the environment)."""
    folder = tmp_path / "schema-cache"
    monkeypatch.setenv("CLOUDIFY_VNF_SCHEMA_CACHE", str(folder))
    return folder


def inputs(files: list[str], mode: str = "strict", ssh: bool = False) -> dict[str, object]:
    connection = {"ssh": LOCAL_SSH} if ssh else {"api": LOCAL_API}
    return {**connection, "config_files": files, "field_validation": mode}


def refused(cfy: CfyCli, deployment_id: str, **kwargs: object) -> str:
    result = cfy.install(BLUEPRINT, deployment_id, inputs(**kwargs))  # type: ignore[arg-type]
    assert result.returncode != 0, result.output[-3000:]
    assert "nothing was applied" in result.output, result.output[-3000:]
    assert "applied " not in result.output.replace("nothing was applied", "")
    assert not cfy.outputs(deployment_id)["objects"]
    return result.output


@pytest.mark.parametrize("ssh", [False, True], ids=["api", "ssh"])
def test_a_field_the_cluster_would_drop_is_refused_before_anything_is_applied(
        cfy: CfyCli, no_leftovers: str, schema_cache: Path, ssh: bool) -> None:
    output = refused(cfy, no_leftovers, files=[UNKNOWN], ssh=ssh)
    where = f"properties.config_files[0] (file {UNKNOWN})"
    assert f"{where}: Service default/fv-web: unknown field spec.ipFamily" in output, output[-3000:]
    assert f"{where}: Job default/fv-indexed: unknown field spec.completionMode" in output
    assert "Kubernetes v1.20.2" in output and "field_validation: warn" in output
    # not retried
    assert output.count("Task started 'cloudify_kubernetes.tasks.microservice_start'") == 1
    assert len(list(schema_cache.iterdir())) == 1  # kept for the next operation
    assert clusters.kubectl("get", "configmap", "fv-settings", check=False).returncode != 0


@pytest.mark.parametrize("ssh", [False, True], ids=["api", "ssh"])
def test_warn_installs_and_says_what_the_cluster_drops(cfy: CfyCli, no_leftovers: str,
                                                       ssh: bool) -> None:
    """Over SSH too: kubectl, which would refuse the field itself, applies with --validate=false."""
    result = cfy.install(BLUEPRINT, no_leftovers,
                         inputs(["resources/service-ip-family.yaml"], "warn", ssh=ssh))
    try:
        result.check()
        warnings = [line for line in result.output.splitlines()
                    if "field unknown to the cluster" in line]
        assert len(warnings) == 1 and " WARNING: " in warnings[0], result.output[-3000:]
        assert ("properties.config_files[0] (file resources/service-ip-family.yaml): Service "
                "default/fv-web: unknown field spec.ipFamily") in warnings[0]
        spec = clusters.kubectl("get", "service", "fv-web", "-o", "jsonpath={.spec}").stdout
        assert "clusterIP" in spec and "ipFamily" not in spec  # the server dropped it
    finally:
        cfy.uninstall(no_leftovers).check()


def test_a_custom_resources_unknown_field_is_refused_against_its_crd_in_the_same_file(
        cfy: CfyCli, no_leftovers: str) -> None:
    output = refused(cfy, no_leftovers, files=["resources/crd-and-widget.yaml"])
    assert ("properties.config_files[0] (file resources/crd-and-widget.yaml): FvWidget "
            "default/small: unknown field spec.colour") in output, output[-3000:]
    assert "spec.extra" not in output  # x-kubernetes-preserve-unknown-fields
    assert clusters.kubectl("get", "crd", "fvwidgets.fv.example.com", check=False).returncode != 0


GADGET_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: fvgadgets.fv.example.com}
spec:
  group: fv.example.com
  scope: Namespaced
  names: {kind: FvGadget, plural: fvgadgets, singular: fvgadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
"""


@pytest.fixture
def gadget_crd() -> Iterator[None]:
    """A CRD the cluster has before the install (not made by the deployment)."""
    clusters.kubectl("apply", "-f", "-", input=GADGET_CRD)
    clusters.kubectl("wait", "--for=condition=Established", "--timeout=30s",
                     "crd/fvgadgets.fv.example.com")
    deadline = time.monotonic() + 20  # its schema reaches /openapi/v2 a moment later
    while "fvgadget" not in clusters.kubectl("explain", "fvgadget.spec",
                                             check=False).stdout.lower():
        assert time.monotonic() < deadline, "the CRD's schema was never published"
        time.sleep(0.5)
    yield
    clusters.kubectl("delete", "crd", "fvgadgets.fv.example.com", "--wait=true")


def test_a_custom_resources_unknown_field_is_refused_against_the_servers_schema_of_its_crd(
        cfy: CfyCli, no_leftovers: str, gadget_crd: None) -> None:
    output = refused(cfy, no_leftovers, files=["resources/gadget.yaml"])
    assert ("properties.config_files[0] (file resources/gadget.yaml): FvGadget default/small: "
            "unknown field spec.colour") in output, output[-3000:]
