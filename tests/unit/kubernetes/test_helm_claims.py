"""The PersistentVolumeClaims a Helm release's StatefulSets made: uninstall deletes exactly
those (named <template>-<statefulset>-<ordinal> for a StatefulSet and template of the
release's manifest, in its namespace, made at or after the release began), unless
keep_volume_claims. Over the fake cluster and helm of test_helm_release, with a 'controller'
that makes the claims a StatefulSet lacks (one already there is adopted as it is)."""
from __future__ import annotations

import base64
import gzip
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from cloudify_kubernetes import helm_history, helm_release
from cloudify_kubernetes.backend import ObjectRef
from cloudify_kubernetes.helm_release import ReleaseSpec
from cloudify_kubernetes.volume_claims import ClaimOwner, owned_claims, parse_time
from tests.unit.kubernetes.test_helm_release import OURS, FakeCluster, FakeHelm

LOG = logging.getLogger("test")
T0 = datetime(2026, 12, 7, 4, 0, 0, tzinfo=UTC)
CLAIM = ("v1", "PersistentVolumeClaim")
STATEFUL_SET = ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\n"
                "spec: {replicas: 2, serviceName: db, selector: {matchLabels: {app: db}}, "
                "template: {metadata: {labels: {app: db}}}, "
                "volumeClaimTemplates: [{metadata: {name: data}}]}\n")


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def record(first_deployed: str) -> str:
    """A storage Secret's data.release as helm writes it (base64 of gzipped JSON), base64
    again as the API returns a Secret's data."""
    data = gzip.compress(json.dumps({"info": {"first_deployed": first_deployed}}).encode())
    return base64.b64encode(base64.b64encode(data)).decode()


class ClaimCluster(FakeCluster):
    """Objects made at `now` (creationTimestamp, whole seconds); a StatefulSet is ready."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0

    def namespaced(self, api_version: str, kind: str) -> bool:
        return True

    def put(self, obj: dict[str, Any]) -> None:
        obj["metadata"].setdefault("creationTimestamp", stamp(self.now))
        if obj["kind"] == "StatefulSet":
            obj["status"] = {"replicas": 2, "readyReplicas": 2, "currentRevision": "r1",
                             "updateRevision": "r1"}
        super().put(obj)

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
                     label_selector: str) -> list[dict[str, Any]]:
        wanted = dict(part.split("=", 1) for part in label_selector.split(",") if part)
        return [o for r, o in self.objects.items() if r.kind == kind
                and (namespace is None or r.namespace == namespace)
                and wanted.items() <= (o["metadata"].get("labels") or {}).items()]

    def delete(self, ref: ObjectRef) -> None:
        self.objects.pop(ref, None)

    def add_claim(self, name: str, namespace: str = "ns") -> None:
        if self.get(ObjectRef(*CLAIM, name, namespace)) is None:
            self.put({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                      "metadata": {"name": name, "namespace": namespace},
                      "status": {"phase": "Bound"}})

    def claims(self) -> list[str]:
        return sorted(f"{r.namespace}/{r.name}" for r in self.objects if r.kind == CLAIM[1])


class ClaimHelm(FakeHelm):
    """A release of one StatefulSet `db` (template `data`, 2 replicas). Each revision's
    storage Secret keeps the time it was first stored and the release's first_deployed."""

    def __init__(self, cluster: ClaimCluster) -> None:
        super().__init__(cluster)
        self.claim_cluster = cluster

    def manifest(self, release: str, namespace: str) -> str:
        return STATEFUL_SET

    def _apply(self, tag: str) -> None:
        for ref in [r for r in self.cluster.objects if r.kind == "StatefulSet"]:
            del self.cluster.objects[ref]
        obj = yaml.safe_load(STATEFUL_SET)
        obj["metadata"]["namespace"] = self.namespace
        self.cluster.put(obj)
        for ordinal in range(2):
            self.claim_cluster.add_claim(f"data-db-{ordinal}")

    def _store(self) -> None:
        super()._store()
        first = self.revisions[0].setdefault("stored", self.claim_cluster.now)
        for number, rev in enumerate(self.revisions, 1):
            secret = self.cluster.get(ObjectRef("v1", "Secret", f"sh.helm.release.v1.r.v{number}",
                                                self.namespace))
            assert secret is not None
            secret["metadata"]["creationTimestamp"] = stamp(rev.setdefault("stored",
                                                                       self.claim_cluster.now))
            secret["data"] = {"release": record(first.isoformat())}

    def uninstall(self, release: str, namespace: str, timeout: float) -> None:
        self.calls.append("uninstall")
        self.revisions = []
        self.cluster.objects = {r: o for r, o in self.cluster.objects.items()
                                if r.kind == CLAIM[1]}


def spec(keep: bool = False) -> ReleaseSpec:
    return ReleaseSpec("r", "ns", "v1", "v1", [], dict(OURS), 2, keep)


def installed(cluster: ClaimCluster, after: timedelta = timedelta(seconds=3)) -> ClaimHelm:
    helm = ClaimHelm(cluster)
    helm_release.install(cluster, helm, spec(), LOG)
    cluster.now += after
    return helm


def test_uninstall_deletes_the_claims_of_the_releases_statefulset_and_waits() -> None:
    cluster = ClaimCluster()
    helm = installed(cluster)
    assert cluster.claims() == ["ns/data-db-0", "ns/data-db-1"]
    helm_release.uninstall(cluster, helm, spec(), [], LOG)
    assert cluster.claims() == []


def test_a_claim_older_than_the_release_is_never_deleted() -> None:
    cluster = ClaimCluster()
    cluster.now = T0 - timedelta(hours=1)
    cluster.add_claim("data-db-0")  # someone's data the StatefulSet then adopts as it is
    cluster.now = T0
    helm = installed(cluster)
    helm_release.uninstall(cluster, helm, spec(), [], LOG)
    assert cluster.claims() == ["ns/data-db-0"]


def test_claims_of_another_statefulset_template_or_namespace_are_never_deleted() -> None:
    cluster = ClaimCluster()
    helm = installed(cluster)
    for name, namespace in (("data-other-0", "ns"), ("logs-db-0", "ns"), ("data-db-0", "elsewhere"),
                            ("data-db-x", "ns")):
        cluster.add_claim(name, namespace)
    helm_release.uninstall(cluster, helm, spec(), [], LOG)
    assert cluster.claims() == ["elsewhere/data-db-0", "ns/data-db-x", "ns/data-other-0",
                                "ns/logs-db-0"]


def test_keep_volume_claims_leaves_them_and_names_them(caplog: pytest.LogCaptureFixture) -> None:
    cluster = ClaimCluster()
    helm = installed(cluster)
    with caplog.at_level(logging.INFO):
        helm_release.uninstall(cluster, helm, spec(keep=True), [], LOG)
    assert cluster.claims() == ["ns/data-db-0", "ns/data-db-1"]
    assert "PersistentVolumeClaim ns/data-db-0, PersistentVolumeClaim ns/data-db-1" in caplog.text
    assert "keep_volume_claims" in caplog.text


def test_a_release_recovered_by_uninstall_loses_its_claims_too() -> None:
    cluster = ClaimCluster()
    helm = installed(cluster)
    helm.revisions[-1]["status"] = "pending-install"  # a killed first install
    helm._store()
    cluster.now += timedelta(minutes=1)
    helm_release.install(cluster, helm, spec(), LOG)
    assert "uninstall" in helm.calls
    made = {o["metadata"]["creationTimestamp"] for r, o in cluster.objects.items()
            if r.kind == CLAIM[1]}
    assert made == {stamp(cluster.now)}  # deleted with the release, made again by the new one


def test_the_release_began_at_revision_1_else_at_the_first_deployed_of_its_record() -> None:
    cluster = ClaimCluster()
    helm = installed(cluster, after=timedelta(hours=2))
    helm_release.install(cluster, helm, spec(), LOG)  # revision 2, two hours later
    assert helm_history.release_began(cluster, "ns", "r") == T0
    del cluster.objects[ObjectRef("v1", "Secret", "sh.helm.release.v1.r.v1", "ns")]  # pruned
    assert helm_history.release_began(cluster, "ns", "r") == T0
    helm_release.uninstall(cluster, helm, spec(), [], LOG)
    assert cluster.claims() == []


def test_helms_first_deployed_with_nanoseconds_and_an_offset_reads() -> None:
    secret = {"data": {"release": record("2026-12-07T05:00:00.123456789+01:00")}}
    assert helm_history.first_deployed(secret) == T0 + timedelta(microseconds=123456)
    assert helm_history.first_deployed({"data": {"release": "not base64!"}}) is None
    assert helm_history.first_deployed({}) is None


def test_without_a_readable_start_the_claims_are_left(caplog: pytest.LogCaptureFixture) -> None:
    cluster = ClaimCluster()
    helm = installed(cluster)
    for ref, obj in cluster.objects.items():
        if ref.kind == "Secret":
            obj["metadata"]["labels"]["version"] = "2"
            obj["data"] = {}
    helm_release.uninstall(cluster, helm, spec(), [], LOG)
    assert cluster.claims() == ["ns/data-db-0", "ns/data-db-1"]
    assert "left in place" in caplog.text


def test_an_owner_by_time_matches_claims_made_in_the_same_second_or_later() -> None:
    began = T0 + timedelta(microseconds=600_000)  # helm's clock; the claims' are whole seconds
    owner = ClaimOwner("ns", "db", ("data",), began)

    def claim(name: str, made: datetime) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": "ns", "creationTimestamp": stamp(made)}}
    claims = [claim("data-db-0", T0), claim("data-db-1", T0 + timedelta(seconds=9)),
              claim("data-db-2", T0 - timedelta(seconds=1))]
    assert [r.name for r in owned_claims([owner], claims, {})] == ["data-db-0", "data-db-1"]
    # without a time the ownership labels decide, as for a Microservice: none carry them
    assert owned_claims([ClaimOwner("ns", "db", ("data",))], claims, OURS) == []
    assert parse_time("not a time") is None
    assert parse_time("2026-12-07T04:00:00") is None  # no time zone: cannot be compared
