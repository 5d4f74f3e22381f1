"""kubectl over SSH (the local sshd on 127.0.0.1:2222, key auth, host key checked against a
pinned known_hosts) gives the same behaviour as API mode: apply, readiness, runtime properties,
failure verdicts with evidence, delete-and-wait leaving nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
from cloudify.exceptions import WorkflowFailed

from tests.helpers.clusters import kubectl
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import (
    LOCAL_SSH,
    SSH_DIR,
    TEST_BLUEPRINTS,
)
from tests.integration.kubernetes.test_failures import deployment_config

BLUEPRINT = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
SSH = LOCAL_SSH
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube", "sshd")]


@pytest.fixture(scope="module")
def sshd() -> None:
    if not (SSH_DIR / "known_hosts").exists():
        pytest.fail("the local sshd is not set up: run scripts/local-clusters up")


def test_kubectl_over_ssh_installs_waits_reports_and_uninstalls(no_leftovers: str) -> None:
    config = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
               "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}}]
    deployment = LocalDeployment(BLUEPRINT, {
        "ssh": SSH,
        "config_files": [{"file": "resources/web.yaml", "overrides": ["['spec']['replicas']=2"]}],
        "config": config, "env": {"ROUTES": "203.0.113.0/24"}}, name=no_leftovers, retries=0)
    deployment.install()
    try:
        outputs = deployment.outputs()
        assert (outputs["info"]["mode"] == "ssh"
                and outputs["info"]["endpoint"].startswith("ssh://root@127.0.0.1:2222"))
        assert [(o["kind"], o["name"]) for o in outputs["objects"]] == [("Deployment", "web"),
                                                                        ("Service", "web")]
        assert all(o["uid"] for o in outputs["objects"])
        assert len(outputs["pods"]) == 2 and all(p["pod_ip"] for p in outputs["pods"])
        live = kubectl("get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas} "
                       "{.spec.template.spec.containers[0].env[0].value}").stdout
        assert live == "2 203.0.113.0/24"
    finally:
        deployment.uninstall()
    assert kubectl("get", "deployment", "web", check=False).returncode != 0


def test_kubectl_over_ssh_reports_workload_failures(capsys: pytest.CaptureFixture[str],
                                                    no_leftovers: str) -> None:
    deployment = LocalDeployment(BLUEPRINT, {"ssh": SSH, "config": deployment_config(
        "sshnoimage", image="local/not-here:1")}, name=no_leftovers, retries=0)
    with pytest.raises(WorkflowFailed):
        deployment.install()
    output = capsys.readouterr().out
    assert "ErrImageNeverPull" in output and "events of Pod" in output
    assert not deployment.runtime_properties("app").get("objects")


def test_unknown_host_key_is_refused(capsys: pytest.CaptureFixture[str], no_leftovers: str,
                                     tmp_path: Path) -> None:
    other = tmp_path / "known_hosts"
    other.write_text("[127.0.0.1]:2222 ssh-ed25519 "
                     "AAAAC3NzaC1lZDI1NTE5AAAAIHx1ZNt0kSWUgHZ0e2m5YlMQ0Vh6bTqg5cx3pF2C8xXs\n")
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    for known_hosts, expected in ((other, "does not match"), (empty, "not found in known_hosts")):
        deployment = LocalDeployment(BLUEPRINT, {"ssh": {**SSH, "known_hosts": str(known_hosts)},
                                                 "config": deployment_config("never")},
                                     name=no_leftovers, retries=0)
        with pytest.raises(WorkflowFailed):
            deployment.install()
        output = capsys.readouterr().out
        assert "node 'master'" in output and expected in output
