"""helm_release over a fake cluster and a fake helm (the same Protocols as the real adapters):
what a failure leaves (nothing after a first install, the previous revision after an upgrade),
the recovery of a release an earlier run left pending, ownership, status."""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import yaml

from cloudify_kubernetes import helm_release
from cloudify_kubernetes.backend import ObjectRef
from cloudify_kubernetes.helm_cli import Release
from cloudify_kubernetes.helm_release import ReleaseSpec
from cloudify_shared.errors import UserError, WorkloadFailed
from cloudify_shared.ownership import ownership_labels

LOG = logging.getLogger("test")
OURS = ownership_labels("dep", "web_abc123", "t1")
NAMESPACED = {("v1", "ConfigMap"): True, ("v1", "Secret"): True, ("v1", "Pod"): True,
              ("v1", "Event"): True, ("apps/v1", "Deployment"): True}


def manifest(revision_tag: str) -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: r-{revision_tag}}}\n---\n"
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: r-web}\n"
            "spec: {replicas: 1, selector: {matchLabels: {app: web}}, "
            "template: {metadata: {labels: {app: web}}}}\n")


class FakeCluster:
    """Objects and the release's storage Secrets; Deployments ready unless `broken`."""

    def __init__(self) -> None:
        self.objects: dict[ObjectRef, dict[str, Any]] = {}
        self.broken = False

    def namespaced(self, api_version: str, kind: str) -> bool:
        return NAMESPACED[(api_version, kind)]

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        return self.objects.get(ObjectRef(ref.api_version, ref.kind, ref.name, ref.namespace))

    def put(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        meta.setdefault("uid", f"uid-{meta['name']}")
        if obj["kind"] == "Deployment":
            ready = 0 if self.broken else 1
            obj["status"] = {"updatedReplicas": ready, "replicas": 1, "availableReplicas": ready}
        self.objects[ObjectRef.of(obj)] = obj

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
                     label_selector: str) -> list[dict[str, Any]]:
        wanted = dict(part.split("=") for part in label_selector.split(","))
        return [o for r, o in self.objects.items() if r.kind == kind and r.namespace == namespace
                and wanted.items() <= ((o["metadata"].get("labels") or {}).items())]

    def watch(self, ref: ObjectRef, version: str, timeout: float) -> None:
        time.sleep(timeout)

    def events(self, ref: ObjectRef) -> list[dict[str, Any]]:
        return []

    def logs(self, namespace: str, pod: str, container: str | None, tail: int) -> str:
        return "crashing"


class FakeHelm:
    """Keeps revisions as helm does (storage Secrets labelled owner/name/status/version)."""

    def __init__(self, cluster: FakeCluster, namespace: str = "ns") -> None:
        self.cluster, self.namespace = cluster, namespace
        self.calls: list[str] = []
        self.revisions: list[dict[str, Any]] = []  # {status, tag, labels}
        self.fail_upgrade = False

    def _store(self) -> None:
        for ref in [r for r in self.cluster.objects if r.kind == "Secret"]:
            del self.cluster.objects[ref]
        for number, rev in enumerate(self.revisions, 1):
            labels = {**rev["labels"], "owner": "helm", "name": "r", "status": rev["status"],
                      "version": str(number)}
            self.cluster.put({"apiVersion": "v1", "kind": "Secret", "metadata": {
                "name": f"sh.helm.release.v1.r.v{number}", "namespace": self.namespace,
                "labels": labels}})

    def _apply(self, tag: str) -> None:
        for ref in [r for r in self.cluster.objects if r.kind != "Secret"]:
            del self.cluster.objects[ref]
        for doc in manifest(tag).split("---\n"):
            obj = yaml.safe_load(doc)
            obj["metadata"]["namespace"] = self.namespace
            self.cluster.put(obj)

    def upgrade_install(self, release: str, chart: str, namespace: str,
                        values_files: Sequence[str], labels: Mapping[str, str],
                        timeout: float) -> Release:
        self.calls.append(f"upgrade {chart}")
        if self.fail_upgrade:
            raise UserError("helm upgrade --install: values don't meet the schema")
        for rev in self.revisions:
            if rev["status"] == "deployed":
                rev["status"] = "superseded"
        self.revisions.append({"status": "deployed", "tag": chart, "labels": dict(labels)})
        self._apply(chart)
        self._store()
        return Release(release, namespace, len(self.revisions), "deployed", "web", "0.1.0", "1")

    def manifest(self, release: str, namespace: str) -> str:
        return manifest(self.revisions[-1]["tag"])

    def values(self, release: str, namespace: str) -> dict[str, Any]:
        return {}

    def uninstall(self, release: str, namespace: str, timeout: float) -> None:
        self.calls.append("uninstall")
        self.revisions = []
        self.cluster.objects = {}

    def rollback(self, release: str, revision: int, namespace: str, timeout: float) -> None:
        self.calls.append(f"rollback {revision}")
        self.cluster.broken = False
        target = self.revisions[revision - 1]
        for rev in self.revisions:
            if rev["status"] == "deployed":
                rev["status"] = "superseded"
        self.revisions.append({**target, "status": "deployed"})
        self._apply(target["tag"])
        self._store()


def spec(chart: str = "v1", labels: Mapping[str, str] = OURS) -> ReleaseSpec:
    return ReleaseSpec("r", "ns", chart, chart, [], dict(labels), 2)


def test_install_waits_and_reports_the_objects() -> None:
    cluster = FakeCluster()
    helm = FakeHelm(cluster)
    release, refs = helm_release.install(cluster, helm, spec(), LOG)
    assert release.revision == 1
    assert [str(r) for r in refs] == ["ConfigMap ns/r-v1", "Deployment ns/r-web"]
    assert all(r.uid for r in refs)


class PrintsItsManifest(FakeHelm):
    """helm 4's upgrade --output json: the release with its manifest (no get manifest then)."""

    def upgrade_install(self, release: str, chart: str, namespace: str,
                        values_files: Sequence[str], labels: Mapping[str, str],
                        timeout: float) -> Release:
        made = super().upgrade_install(release, chart, namespace, values_files, labels, timeout)
        return Release(*list(made.as_dict().values()), manifest=manifest(chart))

    def manifest(self, release: str, namespace: str) -> str:
        raise AssertionError("helm get manifest run although upgrade printed the manifest")


def test_install_reads_the_manifest_upgrade_printed() -> None:
    cluster = FakeCluster()
    release, refs = helm_release.install(cluster, PrintsItsManifest(cluster), spec(), LOG)
    assert [str(r) for r in refs] == ["ConfigMap ns/r-v1", "Deployment ns/r-web"]


def test_a_failing_first_install_leaves_nothing() -> None:
    cluster = FakeCluster()
    cluster.broken = True
    helm = FakeHelm(cluster)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "r-web-1", "namespace": "ns",
                                                           "labels": {"app": "web"}},
           "status": {"containerStatuses": [{"name": "web", "state": {"waiting": {
               "reason": "CrashLoopBackOff", "message": "back-off"}}}]}}
    original = helm._apply

    def apply_with_pod(tag: str) -> None:
        original(tag)
        cluster.objects[ObjectRef.of(pod)] = pod
    helm._apply = apply_with_pod  # type: ignore[method-assign]
    with pytest.raises(WorkloadFailed, match="CrashLoopBackOff"):
        helm_release.install(cluster, helm, spec(), LOG)
    assert helm.calls == ["upgrade v1", "uninstall"]
    assert cluster.objects == {}


def test_a_failing_upgrade_rolls_back_to_the_deployed_revision() -> None:
    cluster = FakeCluster()
    helm = FakeHelm(cluster)
    helm_release.install(cluster, helm, spec("v1"), LOG)
    cluster.broken = True
    with pytest.raises(Exception, match="to be ready"):
        helm_release.install(cluster, helm, spec("v2"), LOG)
    assert helm.calls == ["upgrade v1", "upgrade v2", "rollback 1"]
    assert helm.revisions[-1]["tag"] == "v1" and helm.revisions[-1]["status"] == "deployed"


def test_a_refused_upgrade_made_no_revision_and_undoes_nothing() -> None:
    cluster = FakeCluster()
    helm = FakeHelm(cluster)
    helm_release.install(cluster, helm, spec("v1"), LOG)
    helm.fail_upgrade = True
    with pytest.raises(UserError, match="schema"):
        helm_release.install(cluster, helm, spec("v2"), LOG)
    assert helm.calls == ["upgrade v1", "upgrade v2"]


@pytest.mark.parametrize("statuses, expected", [
    (["pending-install"], ["uninstall", "upgrade v2"]),
    (["failed"], ["uninstall", "upgrade v2"]),
    (["deployed", "pending-upgrade"], ["rollback 1", "upgrade v2"]),
    (["deployed", "failed"], ["upgrade v2"]),
])
def test_what_an_earlier_run_left_is_recovered_first(statuses: list[str],
                                                     expected: list[str]) -> None:
    cluster = FakeCluster()
    helm = FakeHelm(cluster)
    helm.revisions = [{"status": s, "tag": "v1", "labels": dict(OURS)} for s in statuses]
    helm._apply("v1")
    helm._store()
    helm_release.install(cluster, helm, spec("v2"), LOG)
    assert helm.calls == expected
    assert helm.revisions[-1]["status"] == "deployed"


@pytest.mark.parametrize("labels, owner", [
    (ownership_labels("other-dep", "web_abc123", "t1"), "deployment other-dep (tenant t1)"),
    (ownership_labels("dep", "web_zzz999", "t1"), "node instance web_zzz999"),
    ({}, "someone else"),
])
def test_a_release_of_another_owner_is_never_taken_over(labels: dict[str, str], owner: str) -> None:
    cluster = FakeCluster()
    helm = FakeHelm(cluster)
    helm.revisions = [{"status": "deployed", "tag": "v1", "labels": labels}]
    helm._store()
    with pytest.raises(UserError, match=re.escape(f"release r in namespace ns already exists and "
                                                  f"belongs to {owner}")):
        helm_release.install(cluster, helm, spec("v2"), LOG)
    helm_release.uninstall(cluster, helm, spec(), [], LOG)
    assert helm.calls == []


def test_uninstall_waits_until_gone_and_check_status_names_what_is_missing() -> None:
    cluster = FakeCluster()
    helm = FakeHelm(cluster)
    _, refs = helm_release.install(cluster, helm, spec(), LOG)
    assert helm_release.check_status(cluster, spec(), refs) == []
    del cluster.objects[ObjectRef("v1", "ConfigMap", "r-v1", "ns")]
    assert helm_release.check_status(cluster, spec(), refs) == ["ConfigMap ns/r-v1: missing"]
    helm_release.uninstall(cluster, helm, spec(), refs, LOG)
    assert helm.calls[-1] == "uninstall" and cluster.objects == {}
    assert helm_release.check_status(cluster, spec(),
                                     refs) == ["release r in namespace ns: missing"]
    helm_release.uninstall(cluster, None, spec(), refs, LOG)  # again: nothing to do


def with_status(helm: FakeHelm) -> FakeHelm:
    def status(release: str, namespace: str) -> Release:
        return Release(release, namespace, len(helm.revisions), helm.revisions[-1]["status"],
                       "web", "0.1.0", "1")
    helm.status = status  # type: ignore[attr-defined]
    return helm


def test_rollback_goes_to_a_kept_revision_and_waits() -> None:
    cluster = FakeCluster()
    helm = with_status(FakeHelm(cluster))
    helm_release.install(cluster, helm, spec("v1"), LOG)
    helm_release.install(cluster, helm, spec("v2"), LOG)
    release, refs = helm_release.rollback(cluster, helm, spec(), 1, LOG)
    assert (release.revision, helm.calls[-1]) == (3, "rollback 1")
    assert [str(r) for r in refs] == ["ConfigMap ns/r-v1", "Deployment ns/r-web"]
    with pytest.raises(UserError, match=re.escape("inputs.revision: 7 is not a revision of "
                                                  "release r (helm keeps 1, 2, 3)")):
        helm_release.rollback(cluster, helm, spec(), 7, LOG)


def test_a_rollback_that_does_not_get_ready_is_rolled_back() -> None:
    cluster = FakeCluster()
    helm = with_status(FakeHelm(cluster))
    helm_release.install(cluster, helm, spec("v1"), LOG)
    helm_release.install(cluster, helm, spec("v2"), LOG)
    original = helm.rollback

    def rollback_broken(release: str, revision: int, namespace: str, timeout: float) -> None:
        original(release, revision, namespace, timeout)
        if revision == 1:
            cluster.broken = True
            helm._apply(helm.revisions[-1]["tag"])
    helm.rollback = rollback_broken  # type: ignore[method-assign]
    with pytest.raises(Exception, match="to be ready"):
        helm_release.rollback(cluster, helm, spec(), 1, LOG)
    assert helm.calls[-2:] == ["rollback 1", "rollback 2"]
    assert helm.revisions[-1]["tag"] == "v2"


def test_rollback_of_a_missing_pending_or_foreign_release_is_refused() -> None:
    cluster = FakeCluster()
    helm = with_status(FakeHelm(cluster))
    with pytest.raises(UserError, match="missing, nothing to roll back"):
        helm_release.rollback(cluster, helm, spec(), 1, LOG)
    helm.revisions = [{"status": "deployed", "tag": "v1", "labels": dict(OURS)},
                      {"status": "pending-upgrade", "tag": "v2", "labels": dict(OURS)}]
    helm._store()
    with pytest.raises(UserError, match="is pending-upgrade .revision 2.: run start"):
        helm_release.rollback(cluster, helm, spec(), 1, LOG)
    helm.revisions = [{"status": "deployed", "tag": "v1", "labels": {}}]
    helm._store()
    with pytest.raises(UserError, match="belongs to someone else"):
        helm_release.rollback(cluster, helm, spec(), 1, LOG)
    assert helm.calls == []


def test_drift_compares_the_live_objects_with_the_manifest() -> None:
    cluster = FakeCluster()
    helm = FakeHelm(cluster)
    assert helm_release.release_drift(cluster, helm,
                                      spec()) == ["release r in namespace ns: missing"]
    helm_release.install(cluster, helm, spec("v1"), LOG)
    assert helm_release.release_drift(cluster, helm, spec()) == []
    cluster.objects[ObjectRef("apps/v1", "Deployment", "r-web", "ns")]["spec"]["replicas"] = 3
    del cluster.objects[ObjectRef("v1", "ConfigMap", "r-v1", "ns")]
    assert helm_release.release_drift(cluster, helm, spec()) == [
        "ConfigMap ns/r-v1: missing", "Deployment ns/r-web: spec.replicas: desired 1, live 3"]


class MadeWith:
    """A helm whose release was made with chart web 0.1.0 and the given values."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.given = values

    def status(self, release: str, namespace: str) -> Release:
        return Release(release, namespace, 3, "deployed", "web", "0.1.0", "1")

    def values(self, release: str, namespace: str) -> dict[str, Any]:
        return self.given


def test_properties_drift_names_the_chart_version_and_the_values_paths_never_values() -> None:
    helm = MadeWith({"replicaCount": 2, "image": {"tag": "1", "repository": "local/busybox"},
                     "token": "s3cret"})
    same = helm_release.Wanted("web", "0.1.0", {"replicaCount": 2, "token": "s3cret", "image": {
        "repository": "local/busybox", "tag": "1"}})
    assert helm_release.properties_drift(helm, spec(), same) == []  # type: ignore[arg-type]
    changed = helm_release.Wanted("web", "0.2.0", {"replicaCount": 2, "token": "other", "image": {
        "repository": "local/busybox", "tag": "2"}, "greeting": "hi"})
    found = helm_release.properties_drift(helm, spec(), changed)  # type: ignore[arg-type]
    assert found == ["release r: chart web 0.1.0 (revision 3), the node's properties name web "
                     "0.2.0",
                     "release r: values greeting: differs from the node's properties",
                     "release r: values image.tag: differs from the node's properties",
                     "release r: values token: differs from the node's properties"]
    assert "s3cret" not in str(found) and "other" not in str(found)
    unknown = helm_release.Wanted(None, None, dict(helm.given))  # a Chart.yaml that did not read
    assert helm_release.properties_drift(helm, spec(), unknown) == []  # type: ignore[arg-type]


def test_chart_metadata_of_a_package_and_a_directory(tmp_path: Any) -> None:
    from tests.helpers.paths import TEST_BLUEPRINTS
    folder = TEST_BLUEPRINTS / "helm-release"
    assert helm_release.chart_metadata(str(folder / "resources" / "web-0.2.0.tgz")) == ("web",
                                                                                        "0.2.0")
    assert helm_release.chart_metadata(str(folder / "chart")) == ("web", "0.1.0")
    assert helm_release.chart_metadata(str(tmp_path)) == (None, None)
