"""API mode against the real local Kubernetes: a multi-document file (Namespace + ConfigMap +
Deployment + Service) with overrides and env installs, reports its objects, re-applies without
duplicating, and uninstalls leaving nothing with this deployment's labels."""
from __future__ import annotations

import json

import pytest

from cloudify_shared.ownership import DEPLOYMENT, NODE_INSTANCE, label_value
from tests.helpers.cfy_cli import CfyCli
from tests.helpers.clusters import kubectl, leftovers
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import K8S_CA, K8S_TOKEN_FILE, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "k8s-app" / "blueprint.yaml"
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]


def app_inputs(namespace: str, **extra: object) -> dict[str, object]:
    return {"token_file": str(K8S_TOKEN_FILE), "ca_file": str(K8S_CA), "namespace": namespace,
            **extra}


def kube_json(*args: str) -> dict:
    return json.loads(kubectl(*args, "-o", "json").stdout)


def test_multi_document_file_installs_reports_and_uninstalls(no_leftovers: str) -> None:
    namespace = f"cvnf-{no_leftovers}"[:60].lower()
    deployment = LocalDeployment(BLUEPRINT, app_inputs(namespace, greeting="bonjour"),
                                 name=no_leftovers, retries=0)
    deployment.install()
    try:
        outputs = deployment.outputs()
        kinds = [(o["kind"], o["namespace"], o["name"]) for o in outputs["objects"]]
        assert kinds == [("Namespace", None, namespace), ("ConfigMap", namespace, "web-config"),
                         ("Deployment", namespace, "web"), ("Service", namespace, "web")]
        assert all(o["uid"] and o["apiVersion"] for o in outputs["objects"])
        assert outputs["endpoint"] == "https://127.0.0.1:6443"
        assert outputs["services"]["web"]["cluster_ip"].startswith("10.0.0.")
        assert outputs["services"]["web"]["ports"][0]["port"] == 80
        pods = outputs["pods"]
        assert len(pods) == 2 and all(p["pod_ip"] and p["host_ip"] and p["node"] == "node1"
                                      for p in pods)

        live = kube_json("-n", namespace, "get", "deployment", "web")
        assert live["status"]["readyReplicas"] == 2  # string override "['spec']['replicas']=2"
        assert live["metadata"]["annotations"]["cloudify.co/test"] == "overridden"
        assert live["metadata"]["labels"][DEPLOYMENT] == label_value(no_leftovers)
        env = live["spec"]["template"]["spec"]["containers"][0]["env"]
        assert {"name": "APP_MODE", "value": "test"} in env
        assert {"name": "BACKENDS", "value": "10.0.0.2 10.0.0.3"} in env
        config = kube_json("-n", namespace, "get", "configmap", "web-config")
        assert config["data"]["greeting"] == "bonjour"  # merge-patch override
        assert config["metadata"]["labels"][NODE_INSTANCE]
        in_container = kubectl("-n", namespace, "exec", pods[0]["name"], "--", "sh", "-c",
                               "echo $APP_MODE/$GREETING").stdout.strip()
        assert in_container == "test/bonjour"

        # a second start (say after a crash) adopts what is there instead of duplicating
        deployment.operation("app", "cloudify.interfaces.lifecycle.start")
        again = deployment.runtime_properties("app")["objects"]
        assert [o["uid"] for o in again] == [o["uid"] for o in outputs["objects"]]
        replica_sets = kube_json("-n", namespace, "get", "replicasets")["items"]
        assert len(replica_sets) == 1
    finally:
        deployment.uninstall()
    assert kubectl("get", "namespace", namespace, check=False).returncode != 0
    assert "objects" not in deployment.runtime_properties("app")


@pytest.mark.cfy
def test_cfy_cli_installs_and_uninstalls(cfy: CfyCli, no_leftovers: str) -> None:
    namespace = f"cvnf-{no_leftovers}"[:60].lower()
    cfy.install(BLUEPRINT, no_leftovers, app_inputs(namespace, replicas=1)).check()
    try:
        outputs = cfy.outputs(no_leftovers)
        assert [o["kind"] for o in outputs["objects"]] == ["Namespace", "ConfigMap", "Deployment",
                                                           "Service"]
        assert len(outputs["pods"]) == 1
        token = K8S_TOKEN_FILE.read_text().strip()
        assert token not in json.dumps(cfy.node_instances(no_leftovers))
    finally:
        cfy.uninstall(no_leftovers).check()


@pytest.mark.cfy
def test_cluster_reached_through_a_deployment_proxy(cfy: CfyCli, deployment_id: str) -> None:
    cluster = f"{deployment_id}-cluster"
    cfy.install(TEST_BLUEPRINTS / "k8s-master" / "blueprint.yaml", cluster,
                {"token_file": str(K8S_TOKEN_FILE), "ca_file": str(K8S_CA)}).check()
    try:
        result = cfy.install(TEST_BLUEPRINTS / "k8s-via-proxy" / "blueprint.yaml", deployment_id,
                             {"cluster_deployment": cluster}).check()
        try:
            (pod,) = cfy.outputs(deployment_id)["pods"]
            assert pod["pod_ip"] and pod["node"] == "node1"
            # no error from the relationship
            assert "relationship web -> cluster" not in result.output
        finally:
            cfy.uninstall(deployment_id).check()
        assert not leftovers(deployment_id)
    finally:
        cfy.uninstall(cluster).check()


def test_inline_token_is_used_but_never_stored(capsys: pytest.CaptureFixture[str],
                                               no_leftovers: str) -> None:
    token = K8S_TOKEN_FILE.read_text().strip()
    deployment = LocalDeployment(TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml", {
        "api": {"host": "https://127.0.0.1:6443", "token": token, "ca_file": str(K8S_CA)},
        "config": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inline-token"},
                    "data": {"a": "b"}}]}, name=no_leftovers, retries=0)
    deployment.install()
    try:
        stored = json.dumps([deployment.runtime_properties("master"),
                             deployment.runtime_properties("app")])
        assert token not in stored
        assert '"inline_credentials": true' in stored
        assert deployment.outputs()["objects"][0]["name"] == "inline-token"
    finally:
        deployment.uninstall()
    out = capsys.readouterr().out
    assert token not in out
    assert "kubernetes reachable at https://127.0.0.1:6443" in out  # URLs are not secrets
