"""A HelmRelease on the real manager: the mgmtworker runs the administrator's helm
(CLOUDIFY_VNF_HELM, scripts/manager/services.sh), the kubeconfig and values reach helm as private
files; install waits until every object is ready, uninstall until every object is gone. One
deployment installs a chart of the local OCI registry (the one chart source
scripts/manager/common.sh allows) with its password from a Cloudify secret, and a chart that is
a blueprint resource: the password in no event, node instance or mgmtworker log line. A
blueprint that names a helm binary is refused; a registry not allowed is refused at create,
before anything. An install whose mgmtworker is killed while it waits finishes when the
mgmtworker is started again, and the killed run's private folders are gone."""
from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from examples.manager import CfyFailed, ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import LOCAL_API, ROOT, TEST_BLUEPRINTS
from tests.helpers.sampling import Watch
from tests.integration.kubernetes.test_helm import (
    private_folders,
    registry_credentials,
    release_leftovers,
    release_status,
)
from tests.integration.manager.test_lifecycle import events_of_last, instances, timed, update
from tests.integration.manager.test_microservices import failed_install_events
from tests.integration.manager.test_secrets import cloudify_secrets, log_sizes, logs_since

pytestmark = pytest.mark.usefixtures("kube")

BLUEPRINT = TEST_BLUEPRINTS / "helm-release" / "blueprint.yaml"
OCI_BLUEPRINT = TEST_BLUEPRINTS / "helm-release" / "oci-from-secret.yaml"
assert registry_credentials  # the local registry's user and password (a fixture)


def test_a_helm_binary_named_by_a_blueprint_is_refused_on_the_manager(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, BLUEPRINT,
                                   {"api": LOCAL_API, "helm": "/bin/sh"})
    assert ("properties.helm: on a manager the helm binary is the "
            "administrator's" in events), events[-3000:]
    assert clusters.leftovers(manager_deployment) == []


def test_a_chart_repository_the_administrator_has_not_allowed_is_refused_on_the_manager(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, BLUEPRINT, {
        "api": LOCAL_API, "chart": "web", "repository": "http://127.0.0.1:9/charts",
        "chart_version": "0.1.0"})
    assert "properties.repository: 'http://127.0.0.1:9/charts/index.yaml' (http://127.0.0.1:9) " \
           "is a chart repository or registry that this manager does not allow blueprints to " \
           "reach" in events, events[-3000:]
    assert "CLOUDIFY_VNF_ALLOWED_CHART_SOURCES in the mgmtworker's environment (allowed now: " \
           "oci://127.0.0.1:15000)" in events, events[-3000:]
    assert clusters.leftovers(manager_deployment) == []


def test_an_oci_chart_with_its_password_from_a_secret_installs_and_never_shows_it(
        on_manager: ManagerCfy, manager_deployment: str,
        registry_credentials: dict[str, str]) -> None:
    """One deployment, two releases: the registry's chart (its password a Cloudify secret) and
    the chart packaged in the blueprint (a blueprint resource fetched by the mgmtworker)."""
    release, local = f"m-{uuid.uuid4().hex[:8]}", f"m-{uuid.uuid4().hex[:8]}"
    key, password = f"vnf-registry-{uuid.uuid4().hex[:8]}", registry_credentials["password"]
    sizes = log_sizes()
    with cloudify_secrets(on_manager.access, {key: password}):
        on_manager.install(OCI_BLUEPRINT, manager_deployment, {
            "api": LOCAL_API, "release_name": release, "local_release_name": local,
            "password_secret": key})
        client = on_manager.access.client()
        nodes = {i.node_id: i for i in client.node_instances.list(deployment_id=manager_deployment)}
        props = nodes["web"].runtime_properties
        assert (props["chart"], props["status"]) == ("web", "deployed")
        props = nodes["local"].runtime_properties
        assert (props["release_name"], props["revision"], props["status"],
                props["helm_version"]) == (
            local, 1, "deployed", "v4.1.4")
        assert sorted(o["kind"] for o in props["objects"]) == ["ConfigMap", "Deployment", "Service"]
        assert "on-manager" not in str(props)  # values are never runtime properties
        # a release's storage Secret carries the deployment's ownership labels: the leak check sees
        # it
        assert any(item.startswith("Secret/default/sh.helm.release.v1.") for item in
                   clusters.leftovers(manager_deployment))
        install = [e for e in on_manager.executions(manager_deployment)
                   if e.workflow_id == "install"][-1]
        events = on_manager.events(install.id)  # the pull, its log lines and the task's
        assert "chart oci://127.0.0.1:15000/charts/web 0.1.0 pulled from 127.0.0.1:15000 with " \
               "the node's registry_credentials" in events, events[-3000:]
        seen = [events, json.dumps([dict(i) for i in client.node_instances.list(
            deployment_id=manager_deployment)], default=str), logs_since(sizes)]
        assert manager_deployment in seen[-1]  # the mgmtworker's log is read
        on_manager.uninstall(manager_deployment)
    assert release_leftovers(release) == [] and release_leftovers(local) == []
    assert clusters.leftovers(manager_deployment) == []
    assert all(password not in text for text in seen), "the registry password was shown"


def test_an_oci_registry_the_administrator_has_not_allowed_is_refused_at_create(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    events = failed_install_events(on_manager, manager_deployment, BLUEPRINT, {
        "api": LOCAL_API, "chart": "oci://127.0.0.1:15001/charts/web", "chart_version": "0.1.0",
        "plain_http": True})
    assert "Task failed 'cloudify_kubernetes.tasks_helm.helm_create'" in events, events[-3000:]
    assert "properties.chart: 'oci://127.0.0.1:15001/charts/web' (oci://127.0.0.1:15001) is a " \
           "chart repository or registry that this manager does not allow" in events, events[-3000:]
    assert clusters.leftovers(manager_deployment) == []


def ready_replicas(name: str) -> int:
    result = clusters.kubectl("get", "deployment", name, "-o", "json", check=False)
    return int(json.loads(result.stdout).get("status", {}).get("readyReplicas") or 0) \
        if result.returncode == 0 else 0


def live_of(kind: str, name: str) -> dict[str, Any]:
    return dict(json.loads(clusters.kubectl("get", kind, name, "-o", "json").stdout))


def test_day_two_of_a_release_on_the_manager(on_manager: ManagerCfy, manager_deployment: str,
                                             tmp_path: Path) -> None:
    """One deployment, one install and one uninstall: check_status fails naming a Service
    deleted out of band, check_drift reports it and a ConfigMap changed by hand, heal puts both
    back; a deployment update to new values and chart 0.2.0 in place, never fewer than 2 ready
    replicas; scale +1 (a second release, its own name) and -1 (that release gone); the
    rollback operation to revision 1; a failing update (an image that is not there) rolled
    back, the previous revision still running; uninstall until every object is gone."""
    cli, dep = on_manager, manager_deployment
    release = f"m-{uuid.uuid4().hex[:8]}"
    name = f"{release}-web"
    inputs: dict[str, Any] = {"api": LOCAL_API, "release_name": release, "timeout": 120,
                              "values": {"replicaCount": 2, "greeting": "first"}}
    timed("helm install", lambda: cli.install(BLUEPRINT, dep, inputs))
    assert ready_replicas(name) == 2
    uid = live_of("deployment", name)["metadata"]["uid"]

    clusters.kubectl("delete", "service", name)
    clusters.kubectl("patch", "configmap", name, "-p", '{"data": {"index.html": "by-hand"}}')
    with pytest.raises(CfyFailed):
        timed("helm check_status (Service deleted)", lambda: cli.execute("check_status", dep))
    assert f"Service default/{name}: missing" in events_of_last(cli, dep, "check_status")
    timed("helm check_drift", lambda: cli.execute("check_drift", dep))
    (web,) = instances(cli, dep, "web")
    drift = json.dumps(web.system_properties.get("configuration_drift"))
    assert f"Service default/{name}: missing" in drift and "by-hand" in drift, drift
    timed("helm heal", lambda: cli.execute("heal", dep))
    assert live_of("configmap", name)["data"]["index.html"] == "first"
    assert clusters.kubectl("get", "service", name, check=False).returncode == 0
    cli.execute("check_status", dep)

    # a deployment update: new values and the chart's next version, in place
    inputs = {**inputs, "chart": "resources/web-0.2.0.tgz",
              "values": {"replicaCount": 2, "greeting": "second"}}
    with Watch(lambda: ready_replicas(name)) as watch:
        timed("helm deployments update (values, chart 0.1.0 -> 0.2.0)",
              lambda: update(cli, dep, inputs, tmp_path))
    print(f"\nMEASURE helm update: fewest ready replicas {watch.minimum} over "
          f"{len(watch.seen)} samples")
    assert watch.minimum >= 2
    (web,) = instances(cli, dep, "web")
    props = web.runtime_properties
    assert (props["chart_version"], props["revision"], props["status"]) == ("0.2.0", 3, "deployed")
    assert live_of("deployment", name)["metadata"]["uid"] == uid
    assert live_of("configmap", name)["data"]["index.html"] == "second"

    # scale +1: a second release of its own name; -1 removes exactly that one
    timed("helm scale +1", lambda: cli.execute("scale", dep, {"scalable_entity_name": "web",
                                                               "delta": 1}))
    both = instances(cli, dep, "web")
    names = {i.id: i.runtime_properties["release_name"] for i in both}
    assert len(set(names.values())) == 2 and release in names.values(), names
    (added_id, added), = [(k, v) for k, v in names.items() if v != release]
    assert added.startswith(f"{release}-") and ready_replicas(f"{added}-web") == 2
    timed("helm scale -1", lambda: cli.execute("scale", dep, {
        "scalable_entity_name": "web", "delta": -1, "include_instances": [added_id]}))
    assert release_leftovers(added) == []  # gone when scale ends
    assert [i.runtime_properties["release_name"] for i in instances(cli, dep, "web")] == [release]

    # the rollback operation to revision 1 (chart 0.1.0, the first values), as revision 4
    timed("helm rollback to revision 1", lambda: cli.execute("execute_operation", dep, {
        "operation": "cloudify.interfaces.helm.rollback", "operation_kwargs": {"revision": 1},
        "allow_kwargs_override": True,
        "node_ids": ["web"]}))
    (web,) = instances(cli, dep, "web")
    assert (web.runtime_properties["revision"],
            web.runtime_properties["chart_version"]) == (4, "0.1.0")
    assert live_of("configmap", name)["data"]["index.html"] == "first"

    # a failing update (an image that is not there) rolls back: revision 4's pods still serve
    # (--skip-reinstall: otherwise Cloudify reinstalls the instance whose update failed)
    bad = {**inputs, "values": {"replicaCount": 2, "greeting": "third",
                                "image": {"repository": "local/not-here"}}}
    with Watch(lambda: ready_replicas(name)) as watch:
        timed("helm failed deployments update (missing image)",
              lambda: update(cli, dep, bad, tmp_path, "--skip-reinstall"))
    events = events_of_last(cli, dep, "update")
    assert "Task failed 'cloudify_kubernetes.tasks_helm.helm_update'" in events, events[-3000:]
    assert "ErrImageNeverPull" in events and f"rolling release {release} back to revision 4" \
        in events, events[-3000:]
    assert watch.minimum >= 2, watch.seen
    live = live_of("deployment", name)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "local/busybox:1"
    assert live_of("configmap", name)["data"]["index.html"] == "first"
    assert ready_replicas(name) == 2

    timed("helm uninstall", lambda: cli.execute("uninstall", dep))
    assert release_leftovers(release) == []  # gone when uninstall ends


def restart_mgmtworker() -> None:
    """`real-manager restart mgmtworker`: SIGKILL to its process group (the workflow and
    operation processes it runs die with it), then started again, consuming."""
    done = subprocess.run(["bash", str(ROOT / "scripts" / "real-manager"), "restart", "mgmtworker"],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"restart mgmtworker failed:\n{done.stdout}{done.stderr}"


def waiting_on_an_unready_pod(release: str) -> list[str]:
    """[] once revision 1 is deployed (helm has applied) and its pod runs, not ready yet: the
    operation is in its readiness wait; else what is seen."""
    pods = json.loads(clusters.kubectl("get", "pods", "-l", f"app.kubernetes.io/instance={release}",
                                       "-o", "json").stdout)["items"]
    unready = [c for pod in pods for c in pod["status"].get("containerStatuses") or []
               if "running" in (c.get("state") or {}) and not c.get("ready")]
    status = release_status(release)
    return [] if status == "deployed" and unready else [f"release {status}, {len(unready)} unready"]


def ended(client: Any, execution_id: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while (execution := client.executions.get(execution_id)).status not in (
            "terminated", "failed", "cancelled"):
        assert time.monotonic() < deadline, f"execution {execution_id} is {execution.status} " \
                                            f"{timeout:.0f}s on"
        time.sleep(0.5)
    return execution


def test_an_install_whose_mgmtworker_is_killed_finishes_when_it_is_started_again(
        on_manager: ManagerCfy, manager_deployment: str) -> None:
    """The mgmtworker is SIGKILLed (with its workflow and operation processes) while helm_start
    waits on a pod that becomes ready only 40 s after it starts (the chart's startDelay), and
    started again. Nobody resumes the execution: it stays `started`, RabbitMQ hands the
    install workflow and helm_start (both acked only when done) to the new mgmtworker, the
    workflow goes on from its stored task graph and helm_start runs again, as Cloudify resumes
    a redelivered operation: an upgrade over revision 1 with the same chart and values
    (revision 2; the Deployment is not made again), until every object is ready. Then
    check_status passes and uninstall leaves nothing. The killed helm_start's private folders
    (its kubeconfig, helm's home), which SIGKILL kept it from removing, are gone once the
    install ends: the re-run's first private folder swept them (cloudify_shared.private_dirs)."""
    cli, dep = on_manager, manager_deployment
    release = f"m-{uuid.uuid4().hex[:8]}"
    name = f"{release}-web"
    cli.upload_blueprint(BLUEPRINT, dep)
    cli.create_deployment(dep, dep, {"api": LOCAL_API, "release_name": release, "timeout": 60,
                                     "values": {"startDelay": 40}})
    client = cli.access.client()
    private_before = private_folders()
    start = time.monotonic()
    install = client.executions.start(dep, "install")
    clusters.wait_gone(lambda: waiting_on_an_unready_pod(release), timeout=60)
    uid = live_of("deployment", name)["metadata"]["uid"]
    assert client.executions.get(install.id).status == "started"
    killed, open_at_kill = time.monotonic(), private_folders() - private_before
    ages = {os.path.basename(p): round(time.time() - os.lstat(p).st_mtime, 1) for p in open_at_kill}
    timed("mgmtworker killed and started again", restart_mgmtworker)
    assert ready_replicas(name) == 0  # the resumed run waits too
    execution = ended(client, install.id, timeout=90)
    left = open_at_kill & private_folders()  # before check_status: its operation sweeps too
    print(f"\nTIMING helm install: {time.monotonic() - start:.1f}s, of which "
          f"{time.monotonic() - killed:.1f}s from the kill")
    events = cli.events(install.id)
    assert execution.status == "terminated", (f"{execution.status}: "
                                              f"{execution.error}\n{events[-3000:]}")
    assert [e.id for e in cli.executions(dep) if e.workflow_id == "install"] == [install.id]
    assert events.count("Starting 'install' workflow execution") == 2, events[-3000:]
    assert f"helm upgrade --install {release} (chart resources/web-0.1.0.tgz) in namespace " \
           "default over revision 1" in events, events[-3000:]
    (web,) = instances(cli, dep, "web")
    props = web.runtime_properties
    assert (props["release_name"], props["revision"], props["status"]) == (release, 2, "deployed")
    assert sorted(o["kind"] for o in props["objects"]) == ["ConfigMap", "Deployment", "Service"]
    assert live_of("deployment", name)["metadata"]["uid"] == uid
    assert ready_replicas(name) == 1
    timed("helm check_status", lambda: cli.execute("check_status", dep))

    # the killed helm_start's private folders (its kubeconfig, helm's home): SIGKILL skipped
    # their removal, the re-run's sweep removed them
    print(f"\nMEASURE private folders the killed helm_start left: {sorted(open_at_kill)} "
          f"(seconds since last changed, at the kill: {ages}); still there after the resumed "
          f"install: {sorted(left)}")
    assert any("vnf-helm-" in p for p in open_at_kill), open_at_kill  # the test saw them
    assert left == set(), f"the re-run did not sweep the killed run's private folders: {left}"
    timed("helm uninstall", lambda: cli.execute("uninstall", dep))
    assert release_leftovers(release) == []
    assert clusters.leftovers(dep) == []
