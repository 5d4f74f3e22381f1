"""A StatefulSet's PersistentVolumeClaims on the real local Kubernetes, through the real cfy
CLI (local profile): they carry our ownership labels (the leak check lists them) and go with
uninstall, leaving a claim that existed before in place; a StorageClass that does not exist
fails the install at once naming it, and the rollback leaves no claim; keep_volume_claims
keeps them; kubectl over SSH does the same. The cluster has no dynamic provisioner: each test makes
a StorageClass without one and static hostPath volumes (clusters.static_storage), and removes
them."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from cloudify_shared.ownership import DEPLOYMENT, MANAGED_BY, NODE_INSTANCE, label_value
from tests.helpers import clusters
from tests.helpers.cfy_cli import CfyCli
from tests.helpers.paths import LOCAL_API, LOCAL_SSH, SSH_DIR, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "k8s-volume-claims" / "blueprint.yaml"
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]


@pytest.fixture
def namespace() -> str:
    return f"vc-{uuid.uuid4().hex[:8]}"


def inputs(namespace: str, storage_class: str, **extra: Any) -> dict[str, Any]:
    return {"api": LOCAL_API, "namespace": namespace, "storage_class": storage_class, **extra}


def owner_labels(claim: dict[str, Any]) -> dict[str, str]:
    labels = claim["metadata"].get("labels") or {}
    return {k: v for k, v in labels.items() if k in (MANAGED_BY, DEPLOYMENT, NODE_INSTANCE)}


def app_instance(cfy: CfyCli, deployment: str) -> str:
    (instance,) = [i["id"] for i in cfy.node_instances(deployment) if i["node_id"] == "app"]
    return str(instance)


def test_claims_carry_our_labels_and_go_with_uninstall(cfy: CfyCli, no_leftovers: str,
                                                       namespace: str) -> None:
    dep = no_leftovers
    with clusters.static_storage(namespace, volumes=2) as storage_class:
        # made before install: the StatefulSet's replica 1 uses it; it is not ours
        clusters.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data-store-1"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                     "resources": {"requests": {"storage": "16Mi"}}}}))
        cfy.install(BLUEPRINT, dep, inputs(namespace, storage_class, replicas=2)).check()
        found = clusters.claims(namespace)
        assert sorted(found) == ["data-store-0", "data-store-1"]
        assert all(c["status"]["phase"] == "Bound" for c in found.values()), found
        assert owner_labels(found["data-store-0"]) == {
            MANAGED_BY: "cloudify-vnf-suite", DEPLOYMENT: label_value(dep),
            NODE_INSTANCE: label_value(app_instance(cfy, dep))}
        assert owner_labels(found["data-store-1"]) == {}
        assert f"PersistentVolumeClaim/{namespace}/data-store-0" in clusters.leftovers(dep)
        assert f"PersistentVolumeClaim/{namespace}/data-store-1" not in clusters.leftovers(dep)

        removed = cfy.uninstall(dep).check()
        assert f"deleting PersistentVolumeClaim {namespace}/data-store-0" in removed.output
        assert "data-store-1 (made from" not in removed.output
        assert list(clusters.claims(namespace)) == ["data-store-1"]  # gone when uninstall ends
        assert clusters.leftovers(dep) == []


def test_a_missing_storage_class_fails_at_once_and_leaves_no_claim(
        cfy: CfyCli, no_leftovers: str, namespace: str) -> None:
    dep = no_leftovers
    cfy.retries = 0
    missing = f"no-such-class-{uuid.uuid4().hex[:6]}"
    with clusters.static_storage(namespace, volumes=0):
        started = time.monotonic()
        failed = cfy.install(BLUEPRINT, dep, inputs(namespace, missing))
        elapsed = time.monotonic() - started
        assert failed.returncode != 0
        assert (f"PersistentVolumeClaim {namespace}/data-store-0: StorageClass '{missing}' "
                "(its spec.storageClassName) does not "
                "exist") in failed.output, failed.output[-4000:]
        assert "ProvisioningFailed" in failed.output  # the claim's events are in the evidence
        assert "gave up waiting" not in failed.output and elapsed < 100, elapsed
        assert f"deleting PersistentVolumeClaim {namespace}/data-store-0" in failed.output
        assert clusters.claims(namespace) == {}  # removed by the rollback
        assert clusters.leftovers(dep) == []
        cfy.uninstall(dep).check()


def test_keep_volume_claims_keeps_them(cfy: CfyCli, no_leftovers: str, namespace: str) -> None:
    dep = no_leftovers
    with clusters.static_storage(namespace, volumes=1) as storage_class:
        cfy.install(BLUEPRINT, dep,
                    inputs(namespace, storage_class, keep_volume_claims=True)).check()
        removed = cfy.uninstall(dep).check()
        assert (f"keep_volume_claims: leaving 1 PersistentVolumeClaim(s) in place: "
                f"PersistentVolumeClaim {namespace}/data-store-0") in removed.output
        kept = clusters.claims(namespace)
        assert list(kept) == ["data-store-0"] and kept["data-store-0"]["status"]["phase"] == "Bound"
        assert clusters.leftovers(dep) == [f"PersistentVolumeClaim/{namespace}/data-store-0"]
        clusters.kubectl("delete", "pvc", "data-store-0", "-n", namespace, "--wait=true",
                         "--timeout=60s")
        assert clusters.leftovers(dep) == []


def test_kubectl_over_ssh_removes_claims_and_names_a_missing_storage_class(
        cfy: CfyCli, no_leftovers: str, namespace: str) -> None:
    if not (SSH_DIR / "known_hosts").exists():
        pytest.fail("the local sshd is not set up: run scripts/local-clusters up")
    dep, missing = no_leftovers, f"no-such-class-{uuid.uuid4().hex[:6]}"
    ssh = {"ssh": LOCAL_SSH, "api": {}}
    with clusters.static_storage(namespace, volumes=1) as storage_class:
        cfy.install(BLUEPRINT, dep, {**inputs(namespace, storage_class), **ssh}).check()
        assert list(clusters.claims(namespace)) == ["data-store-0"]
        assert f"PersistentVolumeClaim/{namespace}/data-store-0" in clusters.leftovers(dep)
        cfy.uninstall(dep).check()
        assert clusters.claims(namespace) == {}

        cfy.retries = 0
        failed = cfy.install(BLUEPRINT, f"{dep}-b", {**inputs(namespace, missing), **ssh})
        assert failed.returncode != 0
        assert f"StorageClass '{missing}' (its spec.storageClassName) does not exist" \
            in failed.output, failed.output[-4000:]
        assert "gave up waiting" not in failed.output
        assert clusters.claims(namespace) == {} and clusters.leftovers(f"{dep}-b") == []
        cfy.uninstall(f"{dep}-b").check()
