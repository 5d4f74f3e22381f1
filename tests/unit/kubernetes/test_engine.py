"""The engine over a fake ClusterBackend (same Protocol as the real adapters): order, CRDs before
their custom resources, adoption rules, rollback of a failed install, reverse-order delete."""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import pytest

from cloudify_kubernetes.backend import ClusterBackend, ObjectRef, UnknownKind
from cloudify_kubernetes.engine import Applied, Options, install, remove
from cloudify_shared.errors import TransientError, UserError, WorkloadFailed

LABELS = {"cloudify.co/deployment": "d", "cloudify.co/node-instance": "n"}
LOG = logging.getLogger("test")
BUILTIN = {("v1", "Namespace"): False, ("v1", "ConfigMap"): True, ("apps/v1", "Deployment"): True,
           ("v1", "Pod"): True, ("v1", "Event"): True, ("v1", "Secret"): True,
           ("v1", "Service"): True,
           ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): False}


class FakeBackend:
    def __init__(self, failing_pod: str | None = None) -> None:
        self.objects: dict[ObjectRef, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.failing_pod = failing_pod

    def kinds(self) -> dict[tuple[str, str], bool]:
        kinds = dict(BUILTIN)
        for ref, obj in self.objects.items():
            if ref.kind == "CustomResourceDefinition":
                spec = obj["spec"]
                kinds[(f"{spec['group']}/v1", spec["names"]["kind"])] = True
        return kinds

    def namespaced(self, api_version: str, kind: str) -> bool:
        if (api_version, kind) not in self.kinds():
            raise UnknownKind(f"unknown kind: the cluster has no {kind} in {api_version}")
        return self.kinds()[(api_version, kind)]

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        self.namespaced(ref.api_version, ref.kind)
        return self.objects.get(ref)

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        live = {**obj, "metadata": {**obj["metadata"], "uid": f"uid-{obj['metadata']['name']}"}}
        kind = obj["kind"]
        if kind == "Namespace":
            live["status"] = {"phase": "Active"}
        if kind == "CustomResourceDefinition":
            live["status"] = {"conditions": [{"type": "Established", "status": "True"}]}
        if kind == "Deployment":
            ready = 0 if self.failing_pod else 1
            live["status"] = {"updatedReplicas": ready, "replicas": 1, "availableReplicas": ready}
        self.objects[ObjectRef.of(live)] = live
        self.calls.append(f"apply {ObjectRef.of(live)}")
        return live

    def replace(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append(f"replace {ObjectRef.of(obj)}")
        return self.apply(obj)

    def delete(self, ref: ObjectRef) -> None:
        self.calls.append(f"delete {ref}")
        self.objects.pop(ref, None)

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
                     label_selector: str) -> list[dict[str, Any]]:
        if self.failing_pod and any(r.kind == "Deployment" for r in self.objects):
            return [{"metadata": {"name": "web-1", "namespace": "default"}, "status": {
                "containerStatuses": [{"name": "c",
                                       "state": {"waiting": {"reason": self.failing_pod}}}]}}]
        return []

    def watch(self, ref: ObjectRef, version: str, timeout: float) -> None:
        time.sleep(timeout)

    def events(self, ref: ObjectRef) -> list[dict[str, Any]]:
        return [{"type": "Warning", "reason": "Failed", "message": f"trouble with {ref.name}"}]

    def logs(self, namespace: str, pod: str, container: str | None, tail: int) -> str:
        return "last words"

    def close(self) -> None:
        pass


def obj(api_version: str, kind: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "labels": dict(LABELS)}, **extra}


CRD = obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com",
          spec={"group": "example.com", "names": {"kind": "Widget"}, "versions": [{"name": "v1"}]})
WIDGET = obj("example.com/v1", "Widget", "w")
DEPLOYMENT = obj("apps/v1", "Deployment", "web",
                 spec={"replicas": 1, "selector": {"matchLabels": {"a": "b"}}})


def as_backend(fake: FakeBackend) -> ClusterBackend:
    return fake  # mypy checks that the fake satisfies the Protocol


def run(backend: FakeBackend, objects: list[dict[str, Any]], **options: Any) -> list[Applied]:
    recorded: list[list[Applied]] = []
    applied = install(as_backend(backend), objects, LABELS, Options(timeout=5, **options), LOG,
                      recorded.append)
    assert recorded[-1] == applied
    return applied


def test_crd_is_applied_and_ready_before_its_custom_resource() -> None:
    backend = FakeBackend()
    applied = run(backend, [CRD, WIDGET])
    assert backend.calls == ["apply CustomResourceDefinition widgets.example.com",
                             "apply Widget default/w"]
    assert [a.ref.namespace for a in applied] == [None, "default"]


def test_unknown_kind_fails_before_anything_is_applied() -> None:
    backend = FakeBackend()
    with pytest.raises(UserError, match="Widget w: unknown kind"):
        run(backend, [obj("v1", "ConfigMap", "c"), WIDGET])
    assert backend.calls == []


def test_failed_workload_is_rolled_back_with_evidence() -> None:
    backend = FakeBackend(failing_pod="ErrImageNeverPull")
    recorded: list[list[Applied]] = []
    with pytest.raises(WorkloadFailed) as caught:
        install(backend, [obj("v1", "ConfigMap", "c"), DEPLOYMENT], LABELS, Options(timeout=5), LOG,
                recorded.append)
    message = str(caught.value)
    assert "pod web-1: container c: ErrImageNeverPull" in message
    assert "trouble with web-1" in message and "last words" in message
    assert backend.calls[-2:] == ["delete Deployment default/web", "delete ConfigMap default/c"]
    assert backend.objects == {} and recorded[-1] == []


def test_existing_objects_are_only_adopted_on_request_and_then_left_alone() -> None:
    backend = FakeBackend()
    backend.apply({**obj("v1", "ConfigMap", "theirs"),
                   "metadata": {"name": "theirs", "namespace": "default"}})
    with pytest.raises(UserError, match="already exists and was not made by this node instance"):
        run(backend, [obj("v1", "ConfigMap", "theirs")])
    applied = run(backend, [obj("v1", "ConfigMap", "theirs"), obj("v1", "ConfigMap", "mine")],
                  adopt_existing=True)
    assert [a.preexisting for a in applied] == [True, False]
    remove(backend, applied, 5, LOG)
    assert list(backend.objects) == [ObjectRef("v1", "ConfigMap", "theirs", "default")]


def test_remove_runs_in_reverse_with_namespaces_and_crds_last() -> None:
    backend = FakeBackend()
    applied = run(backend, [obj("v1", "Namespace", "ns"), CRD, obj("v1", "ConfigMap", "c"), WIDGET])
    backend.calls.clear()
    remove(backend, applied, 5, LOG)
    assert backend.calls == ["delete Widget default/w", "delete ConfigMap default/c",
                             "delete CustomResourceDefinition widgets.example.com",
                             "delete Namespace ns"]


def test_remove_without_wait_asks_for_the_workloads_only_and_a_second_remove_finishes() -> None:
    backend = FakeBackend()
    applied = run(backend, [obj("v1", "Namespace", "ns"), CRD, obj("v1", "ConfigMap", "c"), WIDGET])
    backend.calls.clear()
    remove(backend, applied, 5, LOG, wait=False)  # stop
    assert backend.calls == ["delete Widget default/w", "delete ConfigMap default/c"]
    remove(backend, applied, 5, LOG)  # delete: asks again (gone: a no-op), then the rest
    assert backend.calls[-2:] == ["delete CustomResourceDefinition widgets.example.com",
                                  "delete Namespace ns"]
    assert backend.objects == {}


class StuckDelete(FakeBackend):
    """Deletes are accepted but nothing goes away (a pod stuck terminating)."""

    def delete(self, ref: ObjectRef) -> None:
        self.calls.append(f"delete {ref}")


def test_a_deletion_slower_than_the_timeout_is_retried_not_fatal() -> None:
    backend = StuckDelete()
    applied = run(backend, [obj("v1", "ConfigMap", "c")])
    with pytest.raises(TransientError, match="gave up waiting for 1 object.*a retry waits again"):
        remove(backend, applied, 0.2, LOG)


def test_a_rollback_that_cannot_finish_keeps_the_cause_and_the_record() -> None:
    backend = StuckDelete(failing_pod="ErrImageNeverPull")
    recorded: list[list[Applied]] = []
    with pytest.raises(WorkloadFailed) as caught:
        install(backend, [obj("v1", "ConfigMap", "c"), DEPLOYMENT], LABELS, Options(timeout=0.3),
                LOG,
                recorded.append)
    message = str(caught.value)
    assert "ErrImageNeverPull" in message  # the cause, not the cleanup's timeout, comes first
    assert ("rollback incomplete, uninstall removes the rest: gave up waiting for 2 "
            "object(s)" in message)
    assert [a.ref.name for a in recorded[-1]] == ["c", "web"]  # still recorded for uninstall
