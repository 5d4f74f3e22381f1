"""HelmRelease on the real local Kubernetes with the real helm (scripts/local-clusters up installs
helm 4.1.4; CLOUDIFY_VNF_HELM names it), through Cloudify's local workflows: a chart installs until
every object is ready and uninstalls until every object is gone; failures end fast with their
reason and leave no release and no object."""
from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cloudify.exceptions import WorkflowFailed

from tests.helpers import clusters
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import KUBECONFIG, LOCAL_API, LOCAL_SSH, STATE_DIR, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "helm-release" / "blueprint.yaml"
CACHE = os.environ.get("LOCAL_CLUSTERS_CACHE", "/var/cache/cloudify-vnf")
HELM = os.environ.get("CLOUDIFY_VNF_HELM") or f"{CACHE}/helm-4.1.4/helm"
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]
assert STATE_DIR  # the local clusters' state (kubeconfig, token) the api settings name


@pytest.fixture(autouse=True)
def helm_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    if not os.access(HELM, os.X_OK):
        pytest.fail(f"no helm at {HELM}: run scripts/local-clusters up")
    monkeypatch.setenv("CLOUDIFY_VNF_HELM", HELM)


@pytest.fixture
def release() -> Iterator[str]:
    """A release name of this test's own; afterwards nothing of it may be left (what a failed
    test left is uninstalled, and the test fails)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    yield name
    try:
        clusters.wait_gone(lambda: release_leftovers(name), timeout=30)
    except AssertionError:
        subprocess.run([HELM, "uninstall", name, "--namespace", "default", "--ignore-not-found",
                        "--kubeconfig", str(KUBECONFIG)], capture_output=True, timeout=120,
                       check=False)
        raise


def release_leftovers(name: str) -> list[str]:
    """The release's storage Secrets and every object helm labelled as the release's."""
    found = []
    for selector in (f"owner=helm,name={name}", f"app.kubernetes.io/instance={name}"):
        listed = json.loads(clusters.kubectl(
            "get", "secrets,configmaps,services,deployments,replicasets,pods", "--all-namespaces",
            "-l", selector, "-o", "json").stdout)
        found += [f"{i['kind']}/{i['metadata']['namespace']}/{i['metadata']['name']}"
                  for i in listed["items"]]
    return found


def deployment(name: str, retries: int = 0, **inputs: Any) -> LocalDeployment:
    return LocalDeployment(BLUEPRINT, {"api": LOCAL_API, "release_name": name, **inputs},
                           retries=retries)


def failed_install(capsys: pytest.CaptureFixture[str], name: str,
                   **inputs: Any) -> tuple[str, str, float, LocalDeployment]:
    """Install, expect failure: the failed task's error text, the install's whole output (log
    lines included) and how long the install took."""
    target = deployment(name, **inputs)
    start = time.monotonic()
    with pytest.raises(WorkflowFailed):
        target.install()
    took = time.monotonic() - start
    output = capsys.readouterr().out
    failures = [line for line in output.splitlines() if "Task failed" in line]
    assert failures, output[-3000:]
    return output[output.index(failures[0]):][:8000], output, took, target


def test_a_chart_installs_until_ready_reruns_heals_and_uninstalls_until_gone(
        release: str, capsys: pytest.CaptureFixture[str]) -> None:
    target = deployment(release, values_files=["resources/values-two.yaml"],
                        set={"greeting": "set-wins"})
    start = time.monotonic()
    target.install()
    installed = time.monotonic() - start
    props = target.runtime_properties("web")
    assert {k: props[k] for k in ("release_name", "namespace", "revision", "status", "chart",
                                  "chart_version", "app_version", "helm_version")} == {
        "release_name": release, "namespace": "default", "revision": 1, "status": "deployed",
        "chart": "web", "chart_version": "0.1.0", "app_version": "1.36", "helm_version": "v4.1.4"}
    assert sorted(f"{o['kind']}/{o['name']}" for o in props["objects"]) == [
        f"ConfigMap/{release}-web", f"Deployment/{release}-web", f"Service/{release}-web"]
    assert len(props["pods"]) == 2 and all(p["pod_ip"] for p in props["pods"])  # values file: 2
    assert props["services"][f"{release}-web"]["ports"][0]["port"] == 8080
    live = json.loads(clusters.kubectl("get", "deployment", f"{release}-web", "-o", "json").stdout)
    assert live["status"]["readyReplicas"] == 2
    config = json.loads(clusters.kubectl("get", "configmap", f"{release}-web", "-o", "json").stdout)
    assert config["data"]["index.html"] == "set-wins"  # set over values_files over the chart
    output = capsys.readouterr().out
    assert "set-wins" not in output and "to be ready" in output  # values never logged; progress

    # start again (a resumed or re-run install): an upgrade of the same release, ready again
    target.operation("web", "cloudify.interfaces.lifecycle.start")
    assert target.runtime_properties("web")["revision"] == 2
    target.operation("web", "cloudify.interfaces.validation.check_status")
    clusters.kubectl("delete", "configmap", f"{release}-web")
    with pytest.raises(WorkflowFailed):
        target.operation("web", "cloudify.interfaces.validation.check_status")
    assert f"ConfigMap default/{release}-web: missing" in capsys.readouterr().out
    target.operation("web", "cloudify.interfaces.lifecycle.heal")  # made again, ready
    assert target.runtime_properties("web")["revision"] == 3
    target.operation("web", "cloudify.interfaces.validation.check_status")

    start = time.monotonic()
    target.uninstall()
    removed = time.monotonic() - start
    assert release_leftovers(release) == []  # gone when uninstall ends, not eventually
    assert "objects" not in target.runtime_properties("web")
    print(f"\nhelm release: install until ready {installed:.1f}s, uninstall until gone {removed:.1f}s")


def test_a_crash_looping_chart_fails_fast_naming_it_and_leaves_nothing(
        release: str, capsys: pytest.CaptureFixture[str]) -> None:
    error, output, took, target = failed_install(capsys, release, set={"mode": "crash"},
                                                 timeout=300)
    assert "CrashLoopBackOff" in error and "web-crashing-on-purpose" in error  # reason and log
    assert "gave up waiting" not in output
    assert took < 30, took
    assert f"install failed: uninstalling release {release}" in output
    assert release_leftovers(release) == []
    assert "objects" not in target.runtime_properties("web")
    print(f"\ncrash loop reported after {took:.1f}s (timeout 300s)")


def test_values_the_schema_refuses_fail_naming_the_value(
        release: str, capsys: pytest.CaptureFixture[str]) -> None:
    error, _, took, _ = failed_install(capsys, release, values={"replicaCount": "many"})
    assert "node 'web'" in error and "replicaCount" in error and "schema" in error
    assert took < 30, took
    assert release_leftovers(release) == []


def test_a_missing_helm_fails_at_once(release: str, capsys: pytest.CaptureFixture[str]) -> None:
    error, _, took, _ = failed_install(capsys, release, helm="/nonexistent/helm")
    assert "Task failed 'cloudify_kubernetes.tasks_helm.helm_create'" in error  # before anything
    assert "helm binary '/nonexistent/helm' (from properties.helm) is not an executable file" in error
    assert "scripts/local-clusters up installs helm 4.1.4" in error
    assert took < 15, took


def test_an_ssh_master_is_refused_saying_why(release: str, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = {"api": {}, "ssh": LOCAL_SSH}
    target = LocalDeployment(BLUEPRINT, {"release_name": release, **inputs}, retries=0)
    with pytest.raises(WorkflowFailed):
        target.install()
    output = capsys.readouterr().out
    assert "a HelmRelease needs the Master's api connection: helm talks to the API server itself" in output
    assert release_leftovers(release) == []
