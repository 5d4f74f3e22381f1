"""Failure cases on the real local Kubernetes: each install fails with a clear error naming the
node and the cause, ends at once (no waiting for the timeout), and leaves nothing behind."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from cloudify.exceptions import WorkflowFailed

from tests.helpers import clusters
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import K8S_CA, LOCAL_API, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
API = LOCAL_API
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]


def deployment_config(name: str, image: str = "local/busybox:1",
                      command: str = "trap 'exit 0' TERM; httpd -f -p 8080 & wait",
                      pull: str = "Never") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                         "terminationGracePeriodSeconds": 1,
                         "containers": [{"name": "main", "image": image, "imagePullPolicy": pull,
                                         "command": ["/bin/sh", "-c", command]}]}}}}


def failed_install(capsys: pytest.CaptureFixture[str], deployment_id: str,
                   **inputs: Any) -> tuple[str, LocalDeployment]:
    """Install, expect failure; the task's error text (from the event stream)."""
    deployment = LocalDeployment(BLUEPRINT, {"api": API, **inputs}, name=deployment_id, retries=0)
    with pytest.raises(WorkflowFailed):
        deployment.install()
    output = capsys.readouterr().out
    failures = [line for line in output.splitlines() if "Task failed" in line]
    assert failures, output[-3000:]
    return "\n".join(failures) + output[output.index(failures[0]):][:6000], deployment


def assert_nothing_recorded(deployment: LocalDeployment) -> None:
    assert not deployment.runtime_properties("app").get("objects")


@pytest.mark.parametrize("files, expected", [
    ([{"file": "resources/missing.yaml"}], "blueprint resource 'resources/missing.yaml' not found"),
    ([{"file": "resources/malformed.yaml"}],
     "config_files[0] (file resources/malformed.yaml): malformed YAML"),
    ([{"file": "resources/web.yaml", "overrides": [{"path": "spec.nothing.replicas", "value": 2}]}],
     "['spec']['nothing']['replicas'] does not exist"),
    ([{"file": "resources/web.yaml",
       "overrides": ["['spec']['replicas']=__import__('os').system('id')"]}],
     "the value must be a literal"),
    ([{"file": "resources/web.yaml", "overrides": ["['spec'].update({'replicas': 2})"]}],
     "must be exactly one assignment"),
])
def test_bad_descriptors_fail_before_touching_the_cluster(
        capsys: pytest.CaptureFixture[str], no_leftovers: str, files: list, expected: str) -> None:
    error, deployment = failed_install(capsys, no_leftovers, config_files=files)
    assert "node 'app'" in error and expected in error
    assert "microservice_start" in error  # create is not mapped (#28): start renders first
    assert_nothing_recorded(deployment)


def test_missing_image_fails_at_once_with_the_reason(
        capsys: pytest.CaptureFixture[str], no_leftovers: str) -> None:
    error, deployment = failed_install(
        capsys, no_leftovers, config=deployment_config("noimage", image="local/not-here:1"))
    assert "ErrImageNeverPull" in error and "pod noimage-" in error
    assert "events of Pod" in error
    assert "gave up waiting" not in error  # ended by the verdict, not by the timeout
    assert_nothing_recorded(deployment)


def test_an_unreachable_registry_is_waited_out_and_named(
        capsys: pytest.CaptureFixture[str], no_leftovers: str) -> None:
    """Issue 25: a registry that cannot be resolved may come back, so it is waited out; but the
    wait says so while it waits and the timeout names the image's pull error, not a bare
    'timed out'. (.invalid never resolves: RFC 2606.)"""
    error, _ = failed_install(
        capsys, no_leftovers, timeout=20,
        config=deployment_config("unreach", image="registry.invalid:5000/vnf/web:1", pull="Always"))
    assert "gave up waiting" in error and "pod unreach-" in error, error
    assert "registry unreachable, waited out" in error and "no such host" in error, error
    # the failed install asked for its objects' removal (a pod that never started can take the
    # kubelet a minute or more to let go of)
    clusters.wait_gone(lambda: clusters.leftovers(no_leftovers), timeout=180)


def test_a_claim_naming_its_class_by_the_beta_annotation_fails_naming_it(
        capsys: pytest.CaptureFixture[str], no_leftovers: str) -> None:
    """Issue 25: the older annotation still names a StorageClass; one that does not exist fails
    the install at once, naming the class and where it was named."""
    annotation = "volume.beta.kubernetes.io/storage-class"
    stateful = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "beta"},
                "spec": {"serviceName": "beta", "replicas": 1,
                         "selector": {"matchLabels": {"app": "beta"}},
                         "template": deployment_config("beta")["spec"]["template"],
                         "volumeClaimTemplates": [{
                             "metadata": {"name": "data",
                                          "annotations": {annotation: "no-such-class"}},
                             "spec": {"accessModes": ["ReadWriteOnce"],
                                      "resources": {"requests": {"storage": "1Mi"}}}}]}}
    stateful["spec"]["template"]["metadata"]["labels"] = {"app": "beta"}
    error, deployment = failed_install(capsys, no_leftovers, timeout=60, config=stateful)
    assert (f"StorageClass 'no-such-class' (its annotation {annotation}) does not "
            "exist" in error), error
    assert "gave up waiting" not in error
    assert_nothing_recorded(deployment)


def test_crash_loop_fails_with_the_last_log_lines(
        capsys: pytest.CaptureFixture[str], no_leftovers: str) -> None:
    error, deployment = failed_install(
        capsys, no_leftovers,
        config=deployment_config("crasher", command="echo boom-$((6*7)); exit 3"))
    assert "CrashLoopBackOff" in error
    assert "last log lines of container main" in error and "boom-42" in error
    assert "gave up waiting" not in error
    assert_nothing_recorded(deployment)


def test_unknown_kind_is_rejected_before_anything_is_applied(
        capsys: pytest.CaptureFixture[str], no_leftovers: str) -> None:
    config = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first"}},
              {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}]
    error, deployment = failed_install(capsys, no_leftovers, config=config)
    assert "unknown kind: the cluster has no Widget in example.com/v1" in error
    assert_nothing_recorded(deployment)


def test_bad_token_is_a_clear_401(capsys: pytest.CaptureFixture[str], no_leftovers: str) -> None:
    api = {"host": "https://127.0.0.1:6443", "token": "not-the-right-token", "ca_file": str(K8S_CA)}
    error, _ = failed_install(capsys, no_leftovers, api=api,
                                 config=deployment_config("never"))
    assert "node 'master'" in error and "HTTP 401 unauthorized" in error
    assert "not-the-right-token" not in error


def test_wrong_ca_fails_tls_verification(capsys: pytest.CaptureFixture[str], no_leftovers: str,
                                         tmp_path: Path) -> None:
    ca = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=not-the-cluster-ca", "-keyout", str(tmp_path / "k"), "-out",
                    str(ca)],
                   check=True, capture_output=True)
    error, _ = failed_install(capsys, no_leftovers, api={**API, "ca_file": str(ca)},
                                 config=deployment_config("never"))
    assert "node 'master'" in error and "TLS verification failed" in error
