"""Cloudify's own workflows on a Kubernetes Microservice, through the real cfy CLI against the
real local cluster: check_status, heal, check_drift (secrets masked), lifecycle.update in place
(the minimum ready replicas during the rollout is measured), a failed update that leaves the
previous Deployment running; several instances of one node own distinct objects and removing
one instance removes exactly its set."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.cfy_cli import CfyCli
from tests.helpers.clusters import kube_dynamic, kubectl
from tests.helpers.paths import LOCAL_API, TEST_BLUEPRINTS
from tests.helpers.sampling import Watch

BLUEPRINT = TEST_BLUEPRINTS / "k8s-lifecycle" / "blueprint.yaml"
MULTI = TEST_BLUEPRINTS / "k8s-lifecycle-multi" / "blueprint.yaml"
PASSWORD = "lc-pw-7f3a9e"  # must never show up in drift results or logs
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]


def live(kind: str, name: str) -> dict[str, Any] | None:
    result = kubectl("get", kind, name, "-o", "json", check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


def uid(kind: str, name: str) -> str:
    obj = live(kind, name)
    assert obj is not None, f"{kind} {name} missing"
    return str(obj["metadata"]["uid"])


def instance(cfy: CfyCli, deployment: str, node: str = "app") -> list[dict[str, Any]]:
    return [i for i in cfy.node_instances(deployment) if i["node_id"] == node]


def ready_replicas(name: str) -> Callable[[], int]:
    resource = kube_dynamic().resources.get(api_version="apps/v1", kind="Deployment")
    return lambda: int(resource.get(name=name, namespace="default").status.readyReplicas or 0)


def run_update(cfy: CfyCli, deployment: str, **kwargs: Any) -> Any:
    return cfy.execute("execute_operation", deployment, {
        "operation": "cloudify.interfaces.lifecycle.update", "node_ids": ["app"],
        "allow_kwargs_override": True,
        "operation_kwargs": kwargs})


def test_status_heal_drift_and_update_in_place(cfy: CfyCli, no_leftovers: str,
                                               record_property: Any) -> None:
    dep = no_leftovers
    cfy.retries = 0
    cfy.install(BLUEPRINT, dep, {"api": LOCAL_API, "password": PASSWORD}).check()
    try:
        started = time.monotonic()
        cfy.execute("check_status", dep).check()
        record_property("check_status_s", round(time.monotonic() - started, 1))
        service_uid, deployment_uid = uid("service", "web-lc"), uid("deployment", "web-lc")

        kubectl("delete", "secret", "lc-secret")
        failed = cfy.execute("check_status", dep)
        assert failed.returncode != 0 and "Secret default/lc-secret: missing" in failed.output

        started = time.monotonic()
        healed = cfy.execute("heal", dep, {"allow_reinstall": False}).check()
        record_property("heal_s", round(time.monotonic() - started, 1))
        assert "1 object(s) to re-apply, 2 healthy left untouched" in healed.output
        assert live("secret", "lc-secret") is not None
        assert (uid("service", "web-lc"), uid("deployment", "web-lc")) == (service_uid,
                                                                           deployment_uid)
        cfy.execute("check_status", dep).check()

        kubectl("patch", "secret", "lc-secret", "-p",
                json.dumps({"stringData": {"password": "manual"}}))
        kubectl("set", "env", "deployment/web-lc", "-c", "web", "VERSION=manual")
        drifted = cfy.execute("check_drift", dep).check()
        drift = instance(cfy, dep)[0]["system_properties"]["configuration_drift"]["result"]
        assert drift == ["Secret default/lc-secret: data.password: differs",
                         "Deployment default/web-lc: "
                         "spec.template.spec.containers[0].env[1].value: differs"]
        assert PASSWORD not in drifted.output and "manual" not in json.dumps(drift)

        kubectl("rollout", "status", "deployment/web-lc", "--timeout=60s")
        started = time.monotonic()
        with Watch(ready_replicas("web-lc")) as watch:
            run_update(cfy, dep, env={"VERSION": "2"}, overrides=[
                {"kind": "Deployment", "name": "web-lc", "path": "spec.replicas", "value": 2},
                {"kind": "Deployment", "name": "web-lc",
                 "path": "spec.template.spec.containers.0.image",
                 "value": "docker.io/local/busybox:1"}]).check()
        record_property("update_s", round(time.monotonic() - started, 1))
        record_property("update_min_ready_replicas", watch.minimum)
        print(f"update: minimum ready replicas during the rollout {watch.minimum} "
              f"over {len(watch.seen)} samples")
        assert watch.minimum >= 1
        web = live("deployment", "web-lc")
        assert web is not None and web["metadata"]["uid"] == deployment_uid
        container = web["spec"]["template"]["spec"]["containers"][0]
        assert (container["image"] == "docker.io/local/busybox:1" and web["status"]["readyReplicas"]
                == 2)
        assert {"name": "VERSION", "value": "2"} in container["env"]
        cfy.execute("check_drift", dep).check()
        assert instance(cfy, dep)[0]["system_properties"]["configuration_drift"]["result"] == []

        broken = run_update(cfy, dep, overrides=[
            {"kind": "Deployment", "name": "web-lc",
             "path": "spec.template.spec.containers.0.image",
             "value": "local/does-not-exist:1"}])
        assert broken.returncode != 0 and "ErrImageNeverPull" in broken.output
        web = live("deployment", "web-lc")
        assert web is not None and web["metadata"]["uid"] == deployment_uid
        assert (web["spec"]["template"]["spec"]["containers"][0]["image"]
                == "docker.io/local/busybox:1")
        assert web["status"].get("readyReplicas") == 2
        cfy.execute("check_status", dep).check()
    finally:
        cfy.uninstall(dep).check()
    assert live("deployment", "web-lc") is None and live("secret", "lc-secret") is None


def test_several_instances_own_distinct_objects(cfy: CfyCli, no_leftovers: str) -> None:
    """instances: 2 (the local profile has no scale workflow: it needs a manager's deployment
    modifications; stopping and deleting one instance stands in for scale -1)."""
    dep = no_leftovers
    cfy.retries = 0
    cfy.install(MULTI, dep, {"api": LOCAL_API}).check()
    try:
        instances = instance(cfy, dep)
        suffixes = [i["runtime_properties"]["name_suffix"] for i in instances]
        assert suffixes == ["-" + i["id"].rsplit("_", 1)[1] for i in instances]
        for item, suffix in zip(instances, suffixes, strict=True):
            web = live("deployment", f"web-lc{suffix}")
            assert web is not None and web["status"]["readyReplicas"] == 1
            env = web["spec"]["template"]["spec"]["containers"][0]["env"]
            assert env[0]["valueFrom"]["secretKeyRef"]["name"] == f"lc-secret{suffix}"
            assert web["spec"]["selector"]["matchLabels"]["cloudify.co/node-instance"] == item["id"]
            service = live("service", f"web-lc{suffix}")
            assert (service is not None and service["spec"]["selector"]["cloudify.co/node-instance"]
                    == item["id"])
        assert live("deployment", "web-lc") is None
        cfy.execute("check_status", dep).check()

        kept, removed = instances
        kept_uids = {k: uid(k, f"{n}{kept['runtime_properties']['name_suffix']}")
                     for k, n in (("deployment", "web-lc"), ("service", "web-lc"),
                                  ("secret", "lc-secret"))}
        for step in ("stop", "delete"):  # as scale in takes an instance down
            cfy.execute("execute_operation", dep, {
                "operation": f"cloudify.interfaces.lifecycle.{step}",
                "node_instance_ids": [removed["id"]]}).check()
        gone = removed["runtime_properties"]["name_suffix"]
        for kind, name in (("deployment", "web-lc"), ("service", "web-lc"),
                           ("secret", "lc-secret")):
            assert live(kind, f"{name}{gone}") is None
            assert uid(kind,
                       f"{name}{kept['runtime_properties']['name_suffix']}") == kept_uids[kind]
    finally:
        cfy.uninstall(dep).check()


def test_start_after_a_lone_stop_brings_the_workload_back(cfy: CfyCli, no_leftovers: str) -> None:
    """stop then start with no delete, as the restart workflow runs them (the local profile's
    types have no restart workflow): start first waits until stop's deletions are done, then
    applies again."""
    dep = no_leftovers
    cfy.install(BLUEPRINT, dep, {"api": LOCAL_API, "password": PASSWORD}).check()
    try:
        first = uid("deployment", "web-lc")
        for step in ("stop", "start"):
            cfy.execute("execute_operation", dep, {
                "operation": f"cloudify.interfaces.lifecycle.{step}", "node_ids": ["app"]}).check()
        web = live("deployment", "web-lc")
        assert web is not None and web["metadata"]["uid"] != first  # made again
        assert web["status"].get("readyReplicas") == 1
        assert "removal" not in instance(cfy, dep)[0]["runtime_properties"]
        cfy.execute("check_status", dep).check()
    finally:
        cfy.uninstall(dep).check()
    assert live("deployment", "web-lc") is None and live("secret", "lc-secret") is None
