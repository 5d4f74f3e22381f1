"""Fault injection on the real local clusters (issue 8), each through the real `cfy` CLI:
a daemon restarted or a session dropped in the middle of an operation is ridden out or
retried, and the install completes with exactly one of everything; a killed `cfy` is
re-run without duplicates; an uninstall after a failed install leaves nothing.

These restart dockerd, the kube-apiserver and sshd: they end by waiting until both clusters
are healthy again, so the tests after them are not disturbed.
"""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import clusters, faults
from tests.helpers.cfy_cli import CfyCli
from tests.helpers.paths import (
    LOCAL_API,
    LOCAL_SSH,
    TEST_BLUEPRINTS,
)

PAIR = TEST_BLUEPRINTS / "hybrid-pair" / "blueprint.yaml"
K8S = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
API = LOCAL_API
SSH = LOCAL_SSH
pytestmark = [pytest.mark.disruptive, pytest.mark.usefixtures("swarm", "kube")]


@pytest.fixture
def patient_cfy(cfy: CfyCli, deployment_id: str) -> Iterator[CfyCli]:
    """Enough task retries to outlast a daemon restart. Afterwards: both clusters healthy again,
    the deployment uninstalled (whatever the test saw) and nothing of it left."""
    cfy.retries, cfy.retry_interval = 10, 3
    try:
        yield cfy
    finally:
        faults.wait_healthy()
        uninstall_clean(cfy, deployment_id)


def finish_ok(cfy: CfyCli, proc: Any) -> str:
    result = cfy.finish(proc)
    assert result.returncode == 0, f"install did not complete:\n{result.output[-6000:]}"
    return result.output


def uninstall_clean(cfy: CfyCli, deployment_id: str) -> None:
    if (cfy.profile_dir / "deployments" / deployment_id).exists():
        cfy.uninstall(deployment_id).check()
    clusters.wait_gone(lambda: clusters.leftovers(deployment_id), timeout=60)


def test_dockerd_restart_while_a_swarm_service_converges(
    patient_cfy: CfyCli, deployment_id: str,
) -> None:
    proc = patient_cfy.start(*patient_cfy.install_args(PAIR, deployment_id, {
        "api": API, "stability_seconds": 6, "published_port": 18321}))
    faults.wait_for(lambda: faults.swarm_services(deployment_id), "the Swarm service to be created")
    faults.restart("dockerd")
    output = finish_ok(patient_cfy, proc)
    assert "cannot reach the Docker Engine" in output, output[-4000:]  # the fault was seen ...
    assert len(faults.swarm_services(deployment_id)) == 1  # ... and ridden out without a duplicate
    assert len(faults.k8s_objects(deployment_id, "Deployment")) == 1


def test_apiserver_down_for_20s_while_a_microservice_waits(
    patient_cfy: CfyCli, deployment_id: str,
) -> None:
    proc = patient_cfy.start(*patient_cfy.install_args(PAIR, deployment_id, {
        "api": API, "ready_after": 8, "published_port": 18322}))
    faults.wait_for(lambda: faults.k8s_objects(deployment_id, "Deployment"),
                    "the Deployment to be applied")
    faults.restart("kube-apiserver", pause=20)
    output = finish_ok(patient_cfy, proc)
    assert "cannot reach the API server" in output, output[-4000:]
    assert len(faults.k8s_objects(deployment_id, "Deployment")) == 1
    assert len(faults.k8s_objects(deployment_id, "Pod")) == 1


def test_ssh_sessions_dropped_while_kubectl_mode_waits(patient_cfy: CfyCli,
                                                       deployment_id: str) -> None:
    config = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "sshdrop"},
              "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "sshdrop"}},
                       "template": {"metadata": {"labels": {"app": "sshdrop"}}, "spec": {
                           "terminationGracePeriodSeconds": 1,
                           "containers": [{"name": "main", "image": "local/busybox:1",
                                           "imagePullPolicy": "Never",
                                           "command": ["/bin/sh", "-c",
                                                       "trap 'exit 0' TERM; sleep 10; "
                                                       "touch /tmp/ready; sleep 600 & wait"],
                                           "readinessProbe": {"exec": {"command": ["test", "-f",
                                                                                   "/tmp/ready"]},
                                                              "periodSeconds": 1}}]}}}}
    proc = patient_cfy.start(*patient_cfy.install_args(K8S, deployment_id,
                                                       {"ssh": SSH, "config": [config]}))
    faults.wait_for(lambda: faults.k8s_objects(deployment_id, "Deployment"),
                    "the Deployment to be applied")
    dropped = 0
    for _ in range(3):
        dropped += faults.wait_for(faults.drop_ssh_sessions, "an SSH session to drop", timeout=20,
                                   interval=0.1)
        time.sleep(1.5)
    output = finish_ok(patient_cfy, proc)
    assert dropped >= 3
    assert "SSH session to ssh://root@127.0.0.1:2222" in output, output[-4000:]
    assert len(faults.k8s_objects(deployment_id, "Deployment")) == 1


def test_cfy_killed_mid_install_then_run_again(patient_cfy: CfyCli, deployment_id: str) -> None:
    """The second run finds what the first made (recorded per object, owned by label) and
    adopts it: one Swarm service, one of each Kubernetes object, then nothing after uninstall."""
    proc = patient_cfy.start(*patient_cfy.install_args(PAIR, deployment_id, {
        "api": API, "ready_after": 30, "published_port": 18323}))
    faults.wait_for(lambda: faults.k8s_objects(deployment_id, "Deployment"),
                    "the Deployment to be applied")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    again = patient_cfy.execute("install", deployment_id)
    assert again.returncode == 0, again.output[-6000:]
    assert len(faults.swarm_services(deployment_id)) == 1
    for kind in ("Deployment", "Service", "ConfigMap", "Pod"):
        assert len(faults.k8s_objects(deployment_id,
                                      kind)) == 1, (kind, clusters.leftovers(deployment_id))


def test_uninstall_after_a_failed_install_removes_both_sides(
    patient_cfy: CfyCli, deployment_id: str,
) -> None:
    cfy = patient_cfy
    cfy.retries = 0
    failed = cfy.install(PAIR, deployment_id, {"api": API, "k8s_image": "local/not-here:1",
                                               "published_port": 18324})
    assert failed.returncode != 0 and "ErrImageNeverPull" in failed.output, failed.output[-4000:]
    assert faults.swarm_services(deployment_id), "the Swarm side was installed before the failure"
    assert not faults.k8s_objects(deployment_id,
                                  "Deployment"), "the failed Microservice rolled back"
    # the claim itself (the fixture's uninstall is then a no-op)
    uninstall_clean(cfy, deployment_id)

