"""A CRD and its custom resource in one blueprint; day-2 scale / update / drift round trips."""
from __future__ import annotations

import json
import os

import pytest

from cloudify_kubernetes.stored_inputs import NOT_STORED
from tests.helpers.clusters import kubectl
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import (
    K8S_CA,
    K8S_TOKEN_FILE,
    KUBECTL,
    LOCAL_API,
    TEST_BLUEPRINTS,
)

API = LOCAL_API
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]


# kube-apiserver 1.20.2 built with Go >= 1.18 against the vendored modern-go/reflect2 v1.0.1
# dies ("fatal error: fault") as soon as it decodes a custom resource (seen twice on 2026-11-22
# before the build was patched). The patched build records "-p1" or later in bin/BUILD; on an
# unpatched build this test would take the shared cluster down, so it does not run there.
BUILD = KUBECTL.parent / "BUILD"
PATCHED = BUILD.exists() and BUILD.read_text().strip() != "1.20.2"


@pytest.mark.skipif(not (PATCHED or os.environ.get("CVNF_K8S_CUSTOM_RESOURCES_OK")),
                    reason="unpatched local kube-apiserver crashes on custom resources "
                           "(reflect2 v1.0.1 + Go >= 1.18): rebuild with scripts/local-clusters up")
def test_crd_and_custom_resource(no_leftovers: str) -> None:
    deployment = LocalDeployment(TEST_BLUEPRINTS / "k8s-crd" / "blueprint.yaml",
                                 {"token_file": str(K8S_TOKEN_FILE), "ca_file": str(K8S_CA),
                                  "asn": 65001},
                                 name=no_leftovers, retries=0)
    deployment.install()
    try:
        objects = deployment.outputs()["objects"]
        assert [(o["kind"], o["namespace"]) for o in objects] == [
            ("CustomResourceDefinition", None), ("VnfRouter", "default")]
        live = json.loads(kubectl("get", "vnfrouters.cvnf.example.com", "edge", "-o",
                                  "json").stdout)
        assert live["spec"] == {"routes": ["203.0.113.0/24"], "asn": 65001}
        assert live["metadata"]["uid"] == objects[1]["uid"]
    finally:
        deployment.uninstall()
    assert kubectl("get", "crd", "vnfrouters.cvnf.example.com", check=False).returncode != 0


def deployment_state() -> tuple[int, list[dict], int]:
    live = json.loads(kubectl("get", "deployment", "web", "-o", "json").stdout)
    replica_sets = json.loads(kubectl("get", "replicasets", "-l", "app=web", "-o",
                                      "json").stdout)["items"]
    active = [rs for rs in replica_sets if rs["spec"]["replicas"]]
    return (live["status"].get("readyReplicas", 0),
            live["spec"]["template"]["spec"]["containers"][0].get("env", []),
            len(active))


def test_scale_update_and_drift_round_trip(no_leftovers: str) -> None:
    deployment = LocalDeployment(TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml", {
        "api": API, "config_files": [{"file": "resources/web.yaml"}]}, name=no_leftovers, retries=0)
    deployment.install()
    try:
        assert deployment_state() == (1, [], 1)
        deployment.operation("app", "cloudify.interfaces.kubernetes.scale", replicas=2)
        assert deployment_state() == (2, [], 1)
        assert len(deployment.runtime_properties("app")["pods"]) == 2

        deployment.operation("app", "cloudify.interfaces.kubernetes.update", env={"VERSION": "2"})
        ready, env, active = deployment_state()
        # rolled out, scale kept
        assert (ready, env, active) == (2, [{"name": "VERSION", "value": "2"}], 1)
        # an input's env value is not kept (it may be a secret): later operations take it live
        assert deployment.runtime_properties("app")["inputs_used"]["env"] == {"VERSION": NOT_STORED}

        deployment.operation("app", "cloudify.interfaces.kubernetes.check_drift")
        assert deployment.runtime_properties("app")["drift"] == []
        kubectl("scale", "deployment", "web", "--replicas=3")
        kubectl("annotate", "deployment", "web", "x=y")
        deployment.operation("app", "cloudify.interfaces.kubernetes.check_drift")
        assert deployment.runtime_properties("app")["drift"] == [
            "Deployment default/web: spec.replicas: desired 2, live 3"]
        deployment.operation("app", "cloudify.interfaces.kubernetes.scale", replicas=1)
        assert deployment_state()[:2] == (1, [{"name": "VERSION", "value": "2"}])  # taken live
    finally:
        deployment.uninstall()
