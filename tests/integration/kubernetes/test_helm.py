"""HelmRelease on the real local Kubernetes with the real helm (scripts/local-clusters up installs
helm 4.1.4; CLOUDIFY_VNF_HELM names it), through Cloudify's local workflows: a chart installs until
every object is ready and uninstalls until every object is gone; failures end fast with their
reason and leave no release and no object; a release a killed run left pending is recovered on
the retry; another's release or object is never adopted or removed; day 2 (check_status,
check_drift, heal, rollback); a chart from a chart repository served on this machine (one with
HTTP basic credentials too); a chart of the local OCI registry (scripts/clusters/registry.sh) with
its credentials, and with wrong ones; a chart with a subchart in charts/, a CRD in crds/ with a
custom resource of it in its templates, and a pre-install hook Job that fails, named in the
error."""
from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudify.exceptions import WorkflowFailed

from cloudify_kubernetes import helm_history
from cloudify_kubernetes.volume_claims import parse_time
from tests.helpers import clusters
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import KUBECONFIG, LOCAL_API, LOCAL_SSH, STATE_DIR, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "helm-release" / "blueprint.yaml"
CHART = BLUEPRINT.parent / "resources" / "web-0.1.0.tgz"
CACHE = os.environ.get("LOCAL_CLUSTERS_CACHE", "/var/cache/cloudify-vnf")
HELM = os.environ.get("CLOUDIFY_VNF_HELM") or f"{CACHE}/helm-4.1.4/helm"
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]
assert STATE_DIR  # the local clusters' state (kubeconfig, token) the api settings name


@pytest.fixture(autouse=True)
def helm_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    if not os.access(HELM, os.X_OK):
        pytest.fail(f"no helm at {HELM}: run scripts/local-clusters up")
    monkeypatch.setenv("CLOUDIFY_VNF_HELM", HELM)


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def indexed_chart_folder(folder: Path, path: str) -> tuple[int, str]:
    """`folder` made with the test chart and the index.yaml `helm repo index` writes for a
    repository at http://127.0.0.1:PORT`path` (PORT free now); the port and that URL."""
    folder.mkdir()
    shutil.copy(CHART, folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}{path}"
    index = subprocess.run([HELM, "repo", "index", str(folder), "--url", url], capture_output=True,
                           text=True, timeout=60, check=False)
    assert index.returncode == 0, index.stderr
    return port, url


@pytest.fixture
def chart_repository(tmp_path: Path) -> Iterator[str]:
    """A chart repository on this machine: the test chart and the index.yaml `helm repo index`
    makes, served by `python -m http.server`; its URL."""
    folder = tmp_path / "repo"
    port, url = indexed_chart_folder(folder, "/charts")
    (tmp_path / "charts").symlink_to(folder)
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        clusters.wait_gone(lambda: [] if listening(port) else ["not listening"], timeout=20)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


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


def private_folders() -> set[str]:
    """The operations' private folders (LocalFiles' and HelmCli's) in the temp directory."""
    return {str(p) for pattern in ("vnf-files-*", "vnf-helm-*")
            for p in Path(tempfile.gettempdir()).glob(pattern)}


def helm(*args: str, home: Path) -> subprocess.Popen[str]:
    """The real helm, by hand (as a user, or a run that is then killed, would run it), with its
    folders under `home`."""
    env = {**os.environ, "KUBECONFIG": str(KUBECONFIG), "HELM_CONFIG_HOME": str(home / "config"),
           "HELM_CACHE_HOME": str(home / "cache"), "HELM_DATA_HOME": str(home / "data")}
    return subprocess.Popen([HELM, *args, "--namespace", "default"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def helm_done(*args: str, home: Path) -> None:
    run = helm(*args, home=home)
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 0, out


def kill_when(run: subprocess.Popen[str], name: str, status: str) -> None:
    """Kill `run` (a helm waiting on a pod that runs but is never ready) once the release is
    in `status` and that pod runs: what a killed worker leaves. (This kubelet takes up to a
    minute to remove a pod whose container never ran; one that runs goes in seconds.)"""
    def not_yet() -> list[str]:
        pods = json.loads(clusters.kubectl("get", "pods", "-l",
                                           f"app.kubernetes.io/instance={name}",
                                           "-o", "json").stdout)["items"]
        unready = [c for pod in pods for c in pod["status"].get("containerStatuses") or []
                   if "running" in (c.get("state") or {}) and not c.get("ready")]
        found = release_status(name)
        return [] if found == status and unready else [found]
    try:
        clusters.wait_gone(not_yet, timeout=60)
    finally:
        run.kill()
        run.communicate()


def release_status(name: str) -> str:
    """The latest revision's status, from the release's storage Secrets ('none' when none)."""
    listed = json.loads(clusters.kubectl("get", "secrets", "-n", "default", "-l",
                                         f"owner=helm,name={name}", "-o", "json").stdout)["items"]
    latest = max(listed, key=lambda s: int(s["metadata"]["labels"]["version"]), default=None)
    return str(latest["metadata"]["labels"]["status"]) if latest else "none"


def labels_of(target: LocalDeployment) -> str:
    """The ownership labels the HelmRelease's instance puts on its release, as --labels takes
    them."""
    (instance,) = target.instances("web")
    return (f"app.kubernetes.io/managed-by=cloudify-vnf-suite,cloudify.co/deployment={target.name},"
            f"cloudify.co/node-instance={instance.id}")


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
    private_before = private_folders()
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
    assert private_folders() == private_before  # kubeconfig, values, helm's home: removed

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
    print(f"\nhelm release: install until ready {installed:.1f}s, uninstall until gone "
          f"{removed:.1f}s")


def test_a_crash_looping_chart_fails_fast_naming_it_and_leaves_nothing(
        release: str, capsys: pytest.CaptureFixture[str]) -> None:
    error, output, took, target = failed_install(capsys, release, set={"mode": "crash"},
                                                 timeout=300)
    assert "CrashLoopBackOff" in error and "web-crashing-on-purpose" in error  # reason and log
    assert "gave up waiting" not in output
    assert took < 150, took  # never its 300 s timeout (the clean-up waits for the kubelet)
    assert f"install failed: uninstalling release {release}" in output
    assert release_leftovers(release) == []
    assert "objects" not in target.runtime_properties("web")
    # the reason is logged before the clean-up waits for the pods to go
    reported = logged_at(output, f"release {release} failed: ") - logged_at(output, "helm upgrade "
                                                                                    "--install")
    assert reported < 30, reported  # benchmarks.helm_compare measures it (about 10 s)
    print(f"\ncrash loop: reason logged {reported:.1f}s after helm applied, install failed and "
          f"cleaned up after {took:.1f}s (timeout 300s)")


def logged_at(output: str, text: str) -> float:
    """The time (seconds of the day) of the first log line holding `text`."""
    line = next(line for line in output.splitlines() if text in line)
    clock = line.split()[1]  # 'YYYY-MM-DD HH:MM:SS.mmm  LOG ...'
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_values_the_schema_refuses_fail_naming_the_value(
        release: str, capsys: pytest.CaptureFixture[str]) -> None:
    error, _, took, _ = failed_install(capsys, release, values={"replicaCount": "many"})
    assert "node 'web'" in error and "replicaCount" in error and "schema" in error
    assert took < 30, took
    assert release_leftovers(release) == []


def test_a_missing_helm_fails_at_once(release: str, capsys: pytest.CaptureFixture[str]) -> None:
    error, _, took, _ = failed_install(capsys, release, helm="/nonexistent/helm")
    assert "Task failed 'cloudify_kubernetes.tasks_helm.helm_create'" in error  # before anything
    assert ("helm binary '/nonexistent/helm' (from properties.helm) is not an executable "
            "file" in error)
    assert "scripts/local-clusters up installs helm 4.1.4" in error
    assert took < 15, took


def test_an_ssh_master_is_refused_saying_why(release: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    inputs = {"api": {}, "ssh": LOCAL_SSH}
    target = LocalDeployment(BLUEPRINT, {"release_name": release, **inputs}, retries=0)
    with pytest.raises(WorkflowFailed):
        target.install()
    output = capsys.readouterr().out
    assert ("a HelmRelease needs the Master's api connection: helm talks to the API server "
            "itself" in output)
    assert release_leftovers(release) == []


def test_releases_a_killed_run_left_pending_are_recovered_on_the_retry(
        release: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = deployment(release)
    # a first install killed while helm waited on a pod that is never ready (pending-install,
    # with this instance's labels)
    kill_when(helm("install", release, str(CHART), "--set", "mode=unready", "--wait=watcher",
                   "--timeout", "120s", "--labels", labels_of(target), home=tmp_path),
              release, "pending-install")
    capsys.readouterr()
    start = time.monotonic()
    target.install()  # the retry
    took = time.monotonic() - start
    output = capsys.readouterr().out
    assert f"release {release} is pending-install (revision 1) and was never deployed (an " \
           "earlier run was stopped or failed): uninstalling it first" in output
    assert release_status(release) == "deployed"
    assert target.runtime_properties("web")["revision"] == 1  # a fresh release
    assert "httpd" in clusters.kubectl("get", "deployment", f"{release}-web", "-o",
                                       "jsonpath={.spec.template.spec.containers[0].command}").stdout

    # an upgrade killed while helm waited (pending-upgrade), applied client-side (as helm 3
    # did): the recovery's rollback and the upgrade still force conflicts server-side
    kill_when(helm("upgrade", release, str(CHART), "--set", "mode=unready", "--wait=watcher",
                   "--server-side=false", "--timeout", "120s", home=tmp_path),
              release, "pending-upgrade")
    capsys.readouterr()
    target.operation("web", "cloudify.interfaces.lifecycle.start")  # the retry
    output = capsys.readouterr().out
    assert f"release {release} is pending-upgrade (revision 2; an earlier run was stopped): " \
           "rolling back to revision 1 first" in output
    assert release_status(release) == "deployed"
    assert target.runtime_properties("web")["revision"] == 4  # 3: the rollback, 4: the upgrade
    target.operation("web", "cloudify.interfaces.validation.check_status")
    target.uninstall()
    assert release_leftovers(release) == []
    print(f"\npending-install recovered and installed in {took:.1f}s")


def test_a_release_or_an_object_another_made_is_never_adopted_or_removed(
        release: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # an object of another deployment of this suite with the name the chart makes
    clusters.kubectl("create", "configmap", f"{release}-web", "--from-literal=index.html=theirs")
    clusters.kubectl("label", "configmap", f"{release}-web",
                     "app.kubernetes.io/managed-by=cloudify-vnf-suite",
                     "cloudify.co/deployment=someone-else", "cloudify.co/node-instance=x_1")
    before = json.loads(clusters.kubectl("get", "configmap", f"{release}-web", "-o", "json").stdout)
    try:
        error, _, took, target = failed_install(capsys, release)
        assert "node 'web'" in error
        assert f'ConfigMap "{release}-web" in namespace "default" exists and cannot be imported' \
            in error, error
        target.uninstall()
        after = json.loads(clusters.kubectl("get", "configmap", f"{release}-web", "-o",
                                            "json").stdout)
        assert (after["metadata"]["uid"], after["data"]) == (before["metadata"]["uid"],
                                                            {"index.html": "theirs"})
        assert release_status(release) == "none"
        assert clusters.kubectl("get", "deployment", f"{release}-web", check=False).returncode != 0
    finally:
        clusters.kubectl("delete", "configmap", f"{release}-web", "--ignore-not-found")

    # a release of that name made by another deployment (its labels), then by hand (none)
    for labels, owner in (("app.kubernetes.io/managed-by=cloudify-vnf-suite,"
                           "cloudify.co/deployment=someone-else,cloudify.co/node-instance=web_1",
                           "deployment someone-else"),
                          ("", "someone else (it carries no ownership labels of this suite)")):
        # (--wait: a pod removed while this kubelet still makes it takes up to a minute to go)
        helm_done("install", release, str(CHART), *(["--labels", labels] if labels else []),
                  "--wait", "--timeout", "60s", home=tmp_path)
        try:
            error, _, _, target = failed_install(capsys, release)
            assert f"release {release} in namespace default already exists and belongs to " \
                   f"{owner}: it is never taken over" in error, error
            target.uninstall()  # leaves the other's release in place
            assert f"belongs to {owner}: left in place" in capsys.readouterr().out
            assert release_status(release) == "deployed"  # untouched: still revision 1
            assert json.loads(clusters.kubectl(
                "get", "secrets", "-l", f"owner=helm,name={release}", "-o",
                "json").stdout)["items"][0]["metadata"]["labels"]["version"] == "1"
        finally:
            helm_done("uninstall", release, "--wait", home=tmp_path)
    print(f"\nforeign object refused after {took:.1f}s")


def test_day_two_status_drift_heal_and_rollback(
        release: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = deployment(release, set={"greeting": "drift-me", "token": "s3cret-token"})
    start = time.monotonic()
    target.install()  # revision 1
    installed = time.monotonic() - start
    target.operation("web", "cloudify.interfaces.lifecycle.check_drift")
    assert target.runtime_properties("web")["drift"] == []

    # out of band: an env value, a secret value, the replicas changed; the Service deleted
    name = f"{release}-web"
    clusters.kubectl("set", "env", f"deployment/{name}", "GREETING=tampered-env")
    clusters.kubectl("patch", "secret", name, "-p", json.dumps(
        {"data": {"token": base64.b64encode(b"tampered-secret").decode()}}))
    clusters.kubectl("scale", f"deployment/{name}", "--replicas", "2")
    clusters.kubectl("delete", "service", name)
    # (pods deleted while their containers are still being made take this kubelet up to a
    # minute to go: let the out-of-band rollout finish before heal replaces it)
    clusters.kubectl("rollout", "status", f"deployment/{name}", "--timeout", "60s")
    capsys.readouterr()
    with pytest.raises(WorkflowFailed):
        target.operation("web", "cloudify.interfaces.validation.check_status")
    assert f"Service default/{name}: missing" in capsys.readouterr().out
    target.operation("web", "cloudify.interfaces.lifecycle.check_drift")
    drift = target.runtime_properties("web")["drift"]
    assert sorted(drift) == [
        f"Deployment default/{name}: spec.replicas: desired 1, live 2",
        f"Deployment default/{name}: spec.template.spec.containers[0].env[0].value: differs",
        f"Secret default/{name}: data.token: differs",
        f"Service default/{name}: missing"], drift
    output = capsys.readouterr().out
    assert f"drift: Secret default/{name}: data.token: differs" in output
    for secret in ("tampered", "s3cret", "drift-me", "dGFtcGVyZWQ", "czNjcmV0"):
        assert secret not in output and secret not in str(drift), secret

    target.operation("web", "cloudify.interfaces.lifecycle.heal")  # all put back: revision 2
    assert target.runtime_properties("web")["revision"] == 2
    target.operation("web", "cloudify.interfaces.lifecycle.check_drift")
    assert target.runtime_properties("web")["drift"] == []
    target.operation("web", "cloudify.interfaces.validation.check_status")

    # a revision made by hand (3), applied client-side (as helm 3 did): our next upgrade (4)
    # still forces conflicts, server-side; then the rollback operation to revision 3 (as 5)
    helm_done("upgrade", release, str(CHART), "--reuse-values", "--set", "greeting=by-hand",
              "--server-side=false", "--wait", "--timeout", "60s", home=tmp_path)
    assert greeting_of(name) == "by-hand"
    target.operation("web", "cloudify.interfaces.lifecycle.start")
    assert greeting_of(name) == "drift-me" and target.runtime_properties("web")["revision"] == 4
    start = time.monotonic()
    target.operation("web", "cloudify.interfaces.helm.rollback", revision=3)
    rolled = time.monotonic() - start
    props = target.runtime_properties("web")
    assert (props["revision"], props["status"]) == (5, "deployed")
    assert greeting_of(name) == "by-hand"
    target.operation("web", "cloudify.interfaces.validation.check_status")
    capsys.readouterr()
    with pytest.raises(WorkflowFailed):
        target.operation("web", "cloudify.interfaces.helm.rollback", revision=99)
    assert f"inputs.revision: 99 is not a revision of release {release} (helm keeps 1, 2, 3, 4, " \
           "5)" in capsys.readouterr().out
    target.uninstall()
    assert release_leftovers(release) == []
    print(f"\nday 2: install {installed:.1f}s, rollback until ready {rolled:.1f}s")


def greeting_of(name: str) -> str:
    return str(json.loads(clusters.kubectl("get", "configmap", name, "-o",
                                           "json").stdout)["data"]["index.html"])


def test_a_chart_of_a_chart_repository_installs_by_its_exact_version(
        release: str, chart_repository: str, capsys: pytest.CaptureFixture[str]) -> None:
    error, _, took, _ = failed_install(capsys, release, chart="web", repository=chart_repository,
                                       chart_version="0.2.0")
    assert f"properties.chart_version: '0.2.0' is not a version of chart web in " \
           f"properties.repository ({chart_repository}/index.yaml) (it lists 0.1.0)" in error, error
    assert release_status(release) == "none" and took < 15, took

    target = deployment(release, chart="web", repository=chart_repository, chart_version="0.1.0")
    start = time.monotonic()
    target.install()
    installed = time.monotonic() - start
    props = target.runtime_properties("web")
    assert (props["chart"], props["chart_version"], props["status"]) == ("web", "0.1.0", "deployed")
    output = capsys.readouterr().out
    assert f"chart web 0.1.0 fetched from {chart_repository}/web-0.1.0.tgz" in output
    assert f"chart web 0.1.0 of {chart_repository}" in output
    target.uninstall()
    assert release_leftovers(release) == []
    print(f"\nchart of a repository: install until ready {installed:.1f}s")


REGISTRY = "127.0.0.1:15000"  # scripts/clusters/registry.sh: credentials required, plain HTTP
OCI_CHART = f"oci://{REGISTRY}/charts/web"


@pytest.fixture(scope="session")
def registry_credentials() -> dict[str, str]:
    """The local OCI registry's user and password (it holds the test chart as web 0.1.0)."""
    password = STATE_DIR / "registry" / "password"
    if not password.is_file() or not listening(int(REGISTRY.rsplit(":", 1)[1])):
        pytest.fail(f"no OCI registry on {REGISTRY}: run scripts/local-clusters up")
    return {"username": "vnf-tests", "password": password.read_text().strip()}


def oci_inputs(credentials: dict[str, str]) -> dict[str, Any]:
    return {"chart": OCI_CHART, "chart_version": "0.1.0", "plain_http": True,
            "registry_credentials": credentials}


def test_an_oci_chart_with_credentials_installs_until_ready_and_uninstalls_until_gone(
        release: str, registry_credentials: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    target = deployment(release, **oci_inputs(registry_credentials))
    private_before = private_folders()
    start = time.monotonic()
    target.install()
    installed = time.monotonic() - start
    props = target.runtime_properties("web")
    assert (props["chart"], props["chart_version"], props["status"]) == ("web", "0.1.0", "deployed")
    live = json.loads(clusters.kubectl("get", "deployment", f"{release}-web", "-o", "json").stdout)
    assert live["status"]["readyReplicas"] == live["spec"]["replicas"] >= 1
    output = capsys.readouterr().out
    assert f"chart {OCI_CHART} 0.1.0 pulled from {REGISTRY} with the node's registry_credentials" \
           in output, output[-3000:]
    assert registry_credentials["password"] not in output + json.dumps(props)
    assert private_folders() == private_before  # the registry config went with helm's home
    start = time.monotonic()
    target.uninstall()
    removed = time.monotonic() - start
    assert release_leftovers(release) == []
    print(f"\noci chart: install until ready {installed:.1f}s, uninstall until gone {removed:.1f}s")


def test_wrong_registry_credentials_fail_naming_the_node_and_field_leaving_nothing(
        release: str, registry_credentials: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    wrong = {**registry_credentials, "password": f"wrong-{uuid.uuid4().hex}"}
    error, output, took, _ = failed_install(capsys, release, **oci_inputs(wrong))
    assert "node 'web'" in error and "properties.registry_credentials: the registry of " \
           f"{OCI_CHART} refused them" in error and "401" in error, error
    assert wrong["password"] not in output
    assert release_status(release) == "none" and release_leftovers(release) == []
    assert took < 15, took


def test_an_oci_chart_over_the_size_bound_is_refused_naming_it_leaving_nothing(
        release: str, registry_credentials: dict[str, str],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A pulled chart is held to the administrator's file bound, as a repository's chart is."""
    monkeypatch.setenv("CLOUDIFY_VNF_MAX_FILE_BYTES", "1000")  # the test chart is about 2 KB
    error, _, _, _ = failed_install(capsys, release, **oci_inputs(registry_credentials))
    assert "node 'web'" in error and f"properties.chart: {OCI_CHART} 0.1.0" in error \
        and "is too large" in error and "CLOUDIFY_VNF_MAX_FILE_BYTES" in error, error
    assert release_status(release) == "none" and release_leftovers(release) == []


def write_chart_with_subchart_and_hook(root: Path, group: str) -> Path:
    """A chart 'parent' with its dependency 'child' in charts/ (each a ConfigMap), a CRD (kind
    Widget of `group`) in crds/ with a Widget in its templates, and a pre-install hook Job that
    exits 0, or 1 when hookFails is set."""
    parent = root / "parent"
    (parent / "templates").mkdir(parents=True)
    (parent / "crds").mkdir()
    (parent / "crds" / "widget.yaml").write_text(
        f"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        f"metadata: {{name: widgets.{group}}}\nspec:\n  group: {group}\n  scope: Namespaced\n"
        "  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n"
        "  versions:\n    - name: v1\n      served: true\n      storage: true\n"
        "      schema:\n        openAPIV3Schema:\n          type: object\n"
        "          x-kubernetes-preserve-unknown-fields: true\n")
    (parent / "templates" / "widget.yaml").write_text(
        f"apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: {{{{ .Release.Name }}}}-widget\n"
        "spec: {size: 3}\n")
    (parent / "charts" / "child" / "templates").mkdir(parents=True)
    (parent / "Chart.yaml").write_text(
        "apiVersion: v2\nname: parent\nversion: 0.1.0\n"
        "dependencies:\n  - name: child\n    version: 0.1.0\n")
    (parent / "values.yaml").write_text("hookFails: false\n")
    (parent / "charts" / "child" / "Chart.yaml").write_text("apiVersion: v2\nname: child\nversion: "
                                                            "0.1.0\n")
    for folder, name in ((parent, "parent"), (parent / "charts" / "child", "child")):
        (folder / "templates" / "configmap.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            f"  name: {{{{ .Release.Name }}}}-{name}\n"
            "  labels: {app.kubernetes.io/instance: '{{ .Release.Name }}'}\n"
            f"data: {{from: {name}}}\n")
    (parent / "templates" / "hook.yaml").write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}-setup\n"
        "  labels: {app.kubernetes.io/instance: '{{ .Release.Name }}'}\n"
        "  annotations:\n    helm.sh/hook: pre-install\n"
        "    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded,hook-failed\n"
        "spec:\n  backoffLimit: 0\n  template:\n    metadata:\n"
        "      labels: {app.kubernetes.io/instance: '{{ .Release.Name }}'}\n    spec:\n"
        "      restartPolicy: Never\n      containers:\n        - name: setup\n"
        "          image: local/busybox:1\n          imagePullPolicy: Never\n"
        "          command: [sh, -c, 'exit {{ if .Values.hookFails }}1{{ else }}0{{ end }}']\n")
    return parent


def hook_jobs(release: str) -> list[str]:
    listed = json.loads(clusters.kubectl("get", "jobs", "-l",
                                         f"app.kubernetes.io/instance={release}",
                                         "-o", "json").stdout)
    return [f"Job/{i['metadata']['name']}" for i in listed["items"]]


def test_a_subchart_and_a_crd_install_with_their_parent_and_a_failing_hook_is_named(
        release: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    group = f"{release}.example.com"
    chart = str(write_chart_with_subchart_and_hook(tmp_path, group))
    try:
        error, _, took, _ = failed_install(capsys, release, chart=chart, set={"hookFails": True})
        assert ("node 'web'" in error and "pre-install" in error
                and f"{release}-setup" in error), error
        assert release_status(release) == "none"
        # the hook's Job goes with helm's hook-failed policy; its pod by the garbage collector
        clusters.wait_gone(lambda: release_leftovers(release) + hook_jobs(release), timeout=30)
        assert took < 60, took
        target = deployment(release, chart=chart)
        target.install()  # the CRD of crds/ first, then the Widget of the templates
        made = sorted(f"{o['kind']}/{o['name']}"
                      for o in target.runtime_properties("web")["objects"])
        assert made == [f"ConfigMap/{release}-child", f"ConfigMap/{release}-parent",
                        f"Widget/{release}-widget"], made
        widget = json.loads(clusters.kubectl("get", f"widgets.{group}", f"{release}-widget",
                                             "-o", "json").stdout)
        assert widget["spec"] == {"size": 3}
        target.uninstall()
        left = release_leftovers(release)  # the release's objects and pods: gone at once
        assert [x for x in left if not x.startswith(f"Pod/default/{release}-setup-")] == [], left
        # helm deleted the succeeded hook's Job at install (hook-succeeded) with background
        # propagation: its finished pod is the garbage collector's, gone within seconds
        clusters.wait_gone(lambda: release_leftovers(release), timeout=30)
        assert json.loads(clusters.kubectl("get", f"widgets.{group}", "--all-namespaces", "-o",
                                           "json").stdout)["items"] == []  # the Widget is gone
        # the CRD is left, as helm leaves the CRDs of crds/ (docs/guides/helm.md)
        assert clusters.kubectl("get", "crd", f"widgets.{group}", check=False).returncode == 0
    finally:
        clusters.kubectl("delete", "crd", f"widgets.{group}", "--ignore-not-found")
    print(f"\nfailing hook reported after {took:.1f}s")


AUTH_SERVER = """
import base64, functools, http.server, sys
port, folder, expected = int(sys.argv[1]), sys.argv[2], sys.stdin.read().strip()
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != "Basic " + expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="charts"')
            self.end_headers()
            return
        super().do_GET()
http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                functools.partial(Handler, directory=folder)).serve_forever()
"""


@pytest.fixture
def private_chart_repository(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A chart repository on this machine that answers only with HTTP basic credentials (the
    password reaches the server through its stdin); its URL and the credentials."""
    folder = tmp_path / "charts"
    port, url = indexed_chart_folder(folder, "")
    login = {"username": "charts", "password": f"repo-{uuid.uuid4().hex}"}
    server = subprocess.Popen([sys.executable, "-c", AUTH_SERVER, str(port), str(folder)],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, text=True)
    assert server.stdin is not None
    server.stdin.write(base64.b64encode(f"charts:{login['password']}".encode()).decode())
    server.stdin.close()
    try:
        clusters.wait_gone(lambda: [] if listening(port) else ["not listening"], timeout=20)
        yield url, login
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_chart_repository_with_credentials_refuses_wrong_ones_and_serves_right_ones(
        release: str, private_chart_repository: tuple[str, dict[str, str]],
        capsys: pytest.CaptureFixture[str]) -> None:
    url, login = private_chart_repository
    wrong = {**login, "password": f"wrong-{uuid.uuid4().hex}"}
    common: dict[str, Any] = {"chart": "web", "repository": url, "chart_version": "0.1.0"}
    error, output, took, _ = failed_install(capsys, release, **common, repository_credentials=wrong)
    assert "node 'web'" in error and f"properties.repository_credentials: {url}/index.yaml " \
           "answered 401" in error and "refused them" in error, error
    assert wrong["password"] not in output and release_status(release) == "none" and took < 15
    target = deployment(release, **common, repository_credentials=login)
    target.install()
    assert target.runtime_properties("web")["status"] == "deployed"
    output = capsys.readouterr().out
    assert login["password"] not in output + json.dumps(target.runtime_properties("web"))
    target.uninstall()
    assert release_leftovers(release) == []


def write_stateful_chart(root: Path, storage_class: str) -> Path:
    """A chart 'stateful': one StatefulSet (1 replica) with one volumeClaimTemplate 'data' of
    `storage_class`, so its controller makes the claim data-<release>-db-0."""
    chart = root / "stateful"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: stateful\nversion: 0.1.0\n")
    (chart / "templates" / "statefulset.yaml").write_text(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {{ .Release.Name }}-db\n"
        "  labels: {app.kubernetes.io/instance: '{{ .Release.Name }}'}\n"
        "spec:\n  replicas: 1\n  serviceName: '{{ .Release.Name }}-db'\n"
        "  selector: {matchLabels: {app.kubernetes.io/instance: '{{ .Release.Name }}'}}\n"
        "  template:\n    metadata:\n      labels: {app.kubernetes.io/instance: "
        "'{{ .Release.Name }}'}\n    spec:\n      terminationGracePeriodSeconds: 1\n"
        "      containers:\n        - name: db\n          image: local/busybox:1\n"
        "          imagePullPolicy: Never\n          command: [sh, -c, 'sleep 3600']\n"
        "          volumeMounts: [{name: data, mountPath: /data}]\n"
        "  volumeClaimTemplates:\n    - metadata: {name: data}\n      spec:\n"
        "        accessModes: [ReadWriteOnce]\n"
        f"        storageClassName: {storage_class}\n"
        "        resources: {requests: {storage: 16Mi}}\n")
    return chart


@pytest.mark.parametrize("case", ["made-by-the-release", "keep_volume_claims", "older-claim"])
def test_uninstall_removes_the_claims_the_releases_statefulset_made(
        release: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    """Uninstall deletes the claim the chart's StatefulSet made and ends when it is gone; with
    keep_volume_claims it is left (logged); a claim made before the release (adopted by the
    StatefulSet as it is) is someone else's and is left too."""
    namespace, claim = f"{release}-ns", f"data-{release}-db-0"
    with clusters.static_storage(namespace, volumes=1) as storage_class:
        if case == "older-claim":
            clusters.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                         "resources": {"requests": {"storage": "16Mi"}}}}))
            time.sleep(1.1)  # creationTimestamps are whole seconds: the claim is surely older
        chart = str(write_stateful_chart(tmp_path, storage_class))
        target = deployment(release, chart=chart, namespace=namespace,
                            keep_volume_claims=case == "keep_volume_claims")
        target.install()
        before = clusters.claims(namespace)
        assert list(before) == [claim] and before[claim]["status"]["phase"] == "Bound", before
        # the release began (revision 1 stored) no later than its claim was made; helm's own
        # first_deployed (what counts once revision 1 is pruned) reads and agrees
        stored = json.loads(clusters.kubectl("get", "secret", f"sh.helm.release.v1.{release}.v1",
                                             "-n", namespace, "-o", "json").stdout)
        began = parse_time(stored["metadata"]["creationTimestamp"])
        first = helm_history.first_deployed(stored)
        made = parse_time(before[claim]["metadata"]["creationTimestamp"])
        assert began and first and made and abs((first - began).total_seconds()) < 5, (began, first)
        assert (made >= began) == (case != "older-claim"), (made, began)
        capsys.readouterr()
        start = time.monotonic()
        target.uninstall()
        took = time.monotonic() - start
        output = capsys.readouterr().out
        assert release_leftovers(release) == []
        if case == "made-by-the-release":
            assert f"deleting PersistentVolumeClaim {namespace}/{claim}" in output, output[-3000:]
            assert clusters.claims(namespace) == {}  # gone when uninstall ends
        else:
            assert "deleting PersistentVolumeClaim" not in output, output[-3000:]
            left = clusters.claims(namespace)
            assert list(left) == [claim], left
            assert left[claim]["metadata"]["uid"] == before[claim]["metadata"]["uid"]
            if case == "keep_volume_claims":
                assert f"keep_volume_claims: leaving 1 PersistentVolumeClaim(s) in place: " \
                       f"PersistentVolumeClaim {namespace}/{claim}" in output, output[-3000:]
            clusters.kubectl("delete", "pvc", claim, "-n", namespace, "--wait=true",
                             "--timeout=60s")
            assert clusters.claims(namespace) == {}
    print(f"\nhelm release with a claim ({case}): uninstall until gone {took:.1f}s")
