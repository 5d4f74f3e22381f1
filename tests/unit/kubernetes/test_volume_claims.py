"""Claims a StatefulSet makes from its volumeClaimTemplates: they carry the ownership labels,
and uninstall / rollback removes exactly this instance's (unless keep_volume_claims); an
unschedulable pod waits on a claim that may still bind and fails when its StorageClass is
missing. Over a fake backend whose "controller" makes claims as the real one does."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from cloudify_kubernetes import manifests, naming, readiness
from cloudify_kubernetes.backend import ObjectRef
from cloudify_kubernetes.drift import drift
from cloudify_kubernetes.engine import Applied, Options, install, remove
from cloudify_kubernetes.volume_claims import (
    ClaimOwner,
    claim_verdict,
    keep_live_claim_templates,
    owned_claims,
)
from cloudify_shared.errors import WaitTimeout
from cloudify_shared.ownership import ownership_labels
from tests.unit.kubernetes.test_engine import FakeBackend

LOG = logging.getLogger("test")
MINE = ownership_labels("dep", "app_one")
THEIRS = ownership_labels("dep", "app_two")
CLAIM = ("v1", "PersistentVolumeClaim")
UNBOUND = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
           "message": "0/1 nodes are available: 1 pod has unbound immediate "
                      "PersistentVolumeClaims."}


def stateful_set(name: str = "db", templates: tuple[str, ...] = ("data",),
                 storage_class: str = "local", replicas: int = 2) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "serviceName": name,
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}},
                     "volumeClaimTemplates": [
                         {"metadata": {"name": t}, "spec": {
                             "accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                             "resources": {"requests": {"storage": "1Mi"}}}} for t in templates]}}


def rendered(obj: dict[str, Any], labels: Mapping[str, str] = MINE) -> dict[str, Any]:
    """As render() makes it: ownership labels added, selectors narrowed to the instance."""
    (result,) = naming.per_instance([manifests.add_labels(obj, labels)], "", labels)
    return result


def claim(name: str, labels: Mapping[str, str] | None, namespace: str = "default",
          phase: str = "Bound", storage_class: str = "local") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
            "spec": {"storageClassName": storage_class}, "status": {"phase": phase}}


class ClaimsBackend(FakeBackend):
    """A StatefulSet is ready at once and its 'controller' makes a claim per template and
    replica, labelled with the template's labels and the selector (as Kubernetes does)."""

    def __init__(self, storage_classes: tuple[str, ...] = ("local",)) -> None:
        super().__init__()
        self.storage_classes = storage_classes

    def kinds(self) -> dict[tuple[str, str], bool]:
        return {**super().kinds(), ("apps/v1", "StatefulSet"): True, CLAIM: True,
                ("storage.k8s.io/v1", "StorageClass"): False}

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        if ref.kind == "StorageClass":
            return {"metadata": {"name": ref.name}} if ref.name in self.storage_classes else None
        return super().get(ref)

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        live = super().apply(obj)
        if obj["kind"] == "StatefulSet":
            spec = obj["spec"]
            live["status"] = {"replicas": spec["replicas"], "readyReplicas": spec["replicas"],
                              "currentRevision": "r1", "updateRevision": "r1"}
            for template in spec.get("volumeClaimTemplates") or []:
                for ordinal in range(spec["replicas"]):
                    name = f"{template['metadata']['name']}-{obj['metadata']['name']}-{ordinal}"
                    labels = {**(template["metadata"].get("labels") or {}),
                              **spec["selector"]["matchLabels"]}
                    self.add(claim(name, labels, obj["metadata"]["namespace"]))
        return live

    def add(self, obj: dict[str, Any]) -> None:
        self.objects.setdefault(ObjectRef.of(obj), obj)

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
                     label_selector: str) -> list[dict[str, Any]]:
        wanted = dict(part.split("=", 1) for part in label_selector.split(",") if part)
        return [o for r, o in self.objects.items() if r.kind == kind
                and (namespace is None or r.namespace == namespace)
                and all(o["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())]

    def claims(self) -> list[str]:
        return sorted(r.name for r in self.objects if r.kind == "PersistentVolumeClaim")


def test_claim_templates_job_templates_and_ephemeral_templates_carry_the_labels() -> None:
    labelled = manifests.add_labels(stateful_set(templates=("data", "logs")), MINE)
    for template in labelled["spec"]["volumeClaimTemplates"]:
        assert template["metadata"]["labels"] == MINE
    cron = {"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"volumes": [
                {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]}}}}}}
    labelled = manifests.add_labels(cron, MINE)
    job_template = labelled["spec"]["jobTemplate"]
    assert job_template["metadata"]["labels"] == MINE
    assert job_template["spec"]["template"]["metadata"]["labels"] == MINE
    volume = job_template["spec"]["template"]["spec"]["volumes"][0]
    assert volume["ephemeral"]["volumeClaimTemplate"]["metadata"]["labels"] == MINE
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"volumes": [{"name": "v", "ephemeral": {"volumeClaimTemplate": {
               "metadata": {"labels": {"keep": "me"}}, "spec": {}}}}]}}
    labelled = manifests.add_labels(pod, MINE)
    template = labelled["spec"]["volumes"][0]["ephemeral"]["volumeClaimTemplate"]
    assert template["metadata"]["labels"] == {"keep": "me", **MINE}
    assert "template" not in labelled["spec"]


@pytest.mark.parametrize("found, expected", [
    (claim("data-db-0", MINE), True),
    (claim("data-db-11", {**MINE, "app": "db"}), True),
    (claim("data-db-0", THEIRS), False),  # another instance's
    (claim("data-db-0", {k: v for k, v in MINE.items() if "managed-by" not in k}), False),
    (claim("data-db-0", None), False),  # existed before: the controller used it as it was
    (claim("data-db-0", MINE, namespace="other"), False),
    (claim("logs-db-0", MINE), False),  # not one of the StatefulSet's templates
    (claim("data-other-0", MINE), False),
    (claim("data-db-x", MINE), False),
    (claim("data-db", MINE), False),
])
def test_owned_claims_are_this_instances_claims_of_the_statefulset(
        found: dict[str, Any], expected: bool) -> None:
    owner = ClaimOwner("default", "db", ("data",))
    assert bool(owned_claims([owner], [found], MINE)) is expected


def test_a_gone_statefulset_matches_any_template_name_but_still_only_its_own() -> None:
    owner = ClaimOwner.of(ObjectRef("apps/v1", "StatefulSet", "db", "default"), None)
    assert owner == ClaimOwner("default", "db", None)
    found = owned_claims([owner], [claim("logs-db-3", MINE), claim("logs-web-3", MINE)], MINE)
    assert [r.name for r in found] == ["logs-db-3"]
    assert ClaimOwner.of(ObjectRef("apps/v1", "Deployment", "db", "default"), None) is None


def installed(backend: ClaimsBackend, *objects: dict[str, Any],
              labels: Mapping[str, str] = MINE) -> list[Applied]:
    return install(backend, [rendered(o, labels) for o in objects], labels, Options(timeout=2),
                   LOG, lambda _: None)


def test_uninstall_removes_this_instances_claims_and_nothing_else() -> None:
    backend = ClaimsBackend()
    backend.add(claim("data-db-5", None))  # made by hand before: never ours
    backend.add(claim("data-db-6", THEIRS))
    backend.add(claim("data-other-0", MINE))  # of no StatefulSet being removed
    applied = installed(backend, stateful_set())
    assert backend.claims() == ["data-db-0", "data-db-1", "data-db-5", "data-db-6", "data-other-0"]
    assert backend.objects[ObjectRef(*CLAIM, "data-db-0", "default")]["metadata"]["labels"] \
        == {**MINE, "app": "db"}
    remove(backend, applied, 2, LOG, MINE)
    assert backend.claims() == ["data-db-5", "data-db-6", "data-other-0"]
    calls = [c for c in backend.calls if c.startswith("delete")]
    assert calls[0] == "delete StatefulSet default/db"  # the claims only after it is gone
    assert sorted(calls[1:]) == ["delete PersistentVolumeClaim default/data-db-0",
                                 "delete PersistentVolumeClaim default/data-db-1"]


def test_keep_volume_claims_leaves_them_and_logs_them(caplog: pytest.LogCaptureFixture) -> None:
    backend = ClaimsBackend()
    applied = installed(backend, stateful_set())
    with caplog.at_level(logging.INFO):
        remove(backend, applied, 2, LOG, MINE, keep_volume_claims=True)
    assert backend.claims() == ["data-db-0", "data-db-1"]
    assert "leaving 2 PersistentVolumeClaim(s) in place: PersistentVolumeClaim default/data-db-0" \
        in caplog.text
    assert not any(r.kind == "StatefulSet" for r in backend.objects)


def test_without_labels_no_claim_is_looked_for() -> None:
    backend = ClaimsBackend()
    applied = installed(backend, stateful_set())
    remove(backend, applied, 2, LOG)
    assert backend.claims() == ["data-db-0", "data-db-1"]


def test_an_adopted_statefulsets_claims_stay_with_it() -> None:
    backend = ClaimsBackend()
    applied = installed(backend, stateful_set())
    remove(backend, [Applied(a.ref, preexisting=True) for a in applied], 2, LOG, MINE)
    assert backend.claims() == ["data-db-0", "data-db-1"]


def test_a_failed_install_removes_the_claims_it_caused() -> None:
    backend = ClaimsBackend()
    failing = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {}}}}
    backend.failing_pod = "CrashLoopBackOff"  # the Deployment never gets ready
    with pytest.raises(WaitTimeout):
        install(backend, [rendered(stateful_set()), rendered(failing)], MINE, Options(timeout=0.3),
                LOG, lambda _: None)
    assert backend.claims() == []
    assert backend.objects == {}


def test_dropping_a_statefulset_from_the_descriptors_removes_its_claims() -> None:
    backend = ClaimsBackend()
    applied = installed(backend, stateful_set("db"), stateful_set("cache"))
    install(backend, [rendered(stateful_set("cache"))], MINE, Options(timeout=2), LOG,
            lambda _: None, applied)
    assert backend.claims() == ["data-cache-0", "data-cache-1"]


def test_a_statefulset_applied_before_keeps_its_unlabelled_templates() -> None:
    old = {**stateful_set(), "metadata": {"name": "db", "namespace": "default"}}
    old["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"] = "Filesystem"  # server default
    old["spec"]["volumeClaimTemplates"][0]["status"] = {"phase": "Pending"}
    desired = rendered(stateful_set())
    kept = keep_live_claim_templates(desired, old)
    assert kept["spec"]["volumeClaimTemplates"] == old["spec"]["volumeClaimTemplates"]
    assert kept["metadata"] == desired["metadata"]
    changed = rendered(stateful_set(storage_class="fast"))
    assert keep_live_claim_templates(changed, old) == changed  # a real change: the API decides
    labelled = {**desired, "metadata": {**desired["metadata"], "namespace": "default"}}
    assert keep_live_claim_templates(desired, labelled) == desired
    assert keep_live_claim_templates(desired, None) == desired
    backend = ClaimsBackend()
    backend.objects[ObjectRef("apps/v1", "StatefulSet", "db", "default")] = old
    assert not [line for line in drift(backend, [desired], "default")
                if "volumeClaimTemplates" in line]


def pod(*claims: str, condition: dict[str, Any] | None = UNBOUND) -> dict[str, Any]:
    return {"metadata": {"name": "db-0", "namespace": "default"},
            "spec": {"volumes": [{"name": c, "persistentVolumeClaim": {"claimName": c}}
                                 for c in claims] + [{"name": "tmp", "emptyDir": {}}]},
            "status": {"phase": "Pending", "conditions": [condition] if condition else []}}


def test_a_missing_storage_class_fails_the_pod_naming_it() -> None:
    backend = ClaimsBackend(storage_classes=())
    backend.add(claim("data-db-0", MINE, phase="Pending", storage_class="nope"))
    failing = readiness.failing_pod([pod("data-db-0")], None, lambda p: claim_verdict(backend, p))
    assert failing is not None
    assert failing[1] == ("PersistentVolumeClaim default/data-db-0: StorageClass 'nope' (its "
                          "spec.storageClassName) does not exist (the claim cannot bind)")


def test_a_claim_that_may_still_bind_is_waited_for() -> None:
    backend = ClaimsBackend(storage_classes=("local",))
    backend.add(claim("data-db-0", MINE, phase="Pending"))
    judge = lambda p: claim_verdict(backend, p)  # noqa: E731
    assert readiness.failing_pod([pod("data-db-0")], None, judge) is None
    verdict = claim_verdict(backend, pod("data-db-0"))
    assert verdict is not None and not verdict.is_failed
    assert "PersistentVolumeClaim default/data-db-0 Pending, not bound yet" in verdict.message
    assert readiness.failing_pod([pod("data-db-9")], None, judge) is None  # not made yet
    backend.objects[ObjectRef(*CLAIM, "data-db-0", "default")]["status"]["phase"] = "Bound"
    # bound now; the scheduler's condition is from before: it places the pod on its next try
    assert readiness.failing_pod([pod("data-db-0")], None, judge) is None
    other = {**UNBOUND, "message": "0/1 nodes are available: 1 Insufficient cpu."}
    failing = readiness.failing_pod([pod("data-db-0", condition=other)], None, judge)
    assert failing is not None and "Insufficient cpu" in failing[1]
    assert claim_verdict(backend, pod(condition=None)) is None  # no claims


@pytest.mark.parametrize("kind", ["Job", "ReplicationController"])
def test_a_job_without_labels_gets_its_templates_as_the_api_server_would(kind: str) -> None:
    job = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "j"},
           "spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {}}}}
    assert manifests.add_labels(job, MINE)["metadata"]["labels"] == {"app": "x", **MINE}
    job["metadata"]["labels"] = {"own": "1"}
    assert manifests.add_labels(job, MINE)["metadata"]["labels"] == {"own": "1", **MINE}
    deployment = {**job, "kind": "Deployment", "metadata": {"name": "d"}}
    assert manifests.add_labels(deployment, MINE)["metadata"]["labels"] == MINE


def test_a_class_named_by_the_beta_annotation_is_checked_too() -> None:
    backend = ClaimsBackend(storage_classes=())
    old_style = claim("data-db-0", MINE, phase="Pending")
    old_style["spec"].pop("storageClassName")
    old_style["metadata"]["annotations"] = {"volume.beta.kubernetes.io/storage-class": "gone"}
    backend.add(old_style)
    failing = readiness.failing_pod([pod("data-db-0")], None, lambda p: claim_verdict(backend, p))
    assert failing is not None
    assert ("StorageClass 'gone' (its annotation volume.beta.kubernetes.io/storage-class) does not "
            "exist" \
        in failing[1])
