"""Day-2 rules of the engine over the fake backend: a failed update / re-run restores what
existed and removes only what it made, resumed operations, adoption across reinstall, dropped
objects, heal, check_status, drift masking, per-instance names, auth errors while deleting."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from cloudify_kubernetes import naming
from cloudify_kubernetes.backend import ObjectRef
from cloudify_kubernetes.drift import drift
from cloudify_kubernetes.engine import (
    ADOPTED,
    Applied,
    Options,
    check_status,
    heal,
    install,
    remove,
)
from cloudify_kubernetes.waits import wait_gone
from cloudify_shared.errors import UserError, WorkloadFailed
from tests.unit.kubernetes.test_engine import LABELS, FakeBackend, obj

LOG = logging.getLogger("test")
BAD = "local/missing:1"


class ImageBackend(FakeBackend):
    """Deployments whose image is BAD never get ready and their pod says ErrImageNeverPull."""

    def apply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        live = super().apply(body)
        if body["kind"] == "Deployment" and image(body) == BAD:
            live["status"] = {"updatedReplicas": 0, "replicas": 1, "availableReplicas": 0}
        return live

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
                     label_selector: str) -> list[dict[str, Any]]:
        if any(r.kind == "Deployment" and image(o) == BAD for r, o in self.objects.items()):
            return [{"metadata": {"name": "web-1", "namespace": "default"}, "status": {
                "containerStatuses": [{"name": "c",
                                       "state": {"waiting": {"reason": "ErrImageNeverPull"}}}]}}]
        return []


def image(body: Mapping[str, Any]) -> str:
    return str(body["spec"]["template"]["spec"]["containers"][0]["image"])


def web(img: str = "local/busybox:1", name: str = "web") -> dict[str, Any]:
    return obj("apps/v1", "Deployment", name, spec={
        "replicas": 1, "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [{"name": "c", "image": img}]}}})


CM = obj("v1", "ConfigMap", "c", data={"a": "1"})


def placed(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "metadata": {**body["metadata"], "namespace": "default"}}
REF = ObjectRef("apps/v1", "Deployment", "web", "default")


def run(backend: FakeBackend, objects: list[dict[str, Any]], known: list[Applied] | None = None,
        **options: Any) -> tuple[list[Applied], list[list[Applied]]]:
    recorded: list[list[Applied]] = []
    try:
        applied = install(backend, objects, LABELS, Options(timeout=2, **options), LOG,
                          recorded.append, known)
    except WorkloadFailed:
        return [], recorded
    return applied, recorded


def test_a_failed_update_restores_the_previous_spec_and_removes_only_what_it_made() -> None:
    backend = ImageBackend()
    before, _ = run(backend, [CM, web()])
    assert not any(a.pending for a in before)
    backend.calls.clear()
    new_cm = obj("v1", "ConfigMap", "extra")
    applied, recorded = run(backend, [CM, web(BAD), new_cm], before)
    assert applied == []  # it failed
    assert image(backend.objects[REF]) == "local/busybox:1"  # previous spec back, not deleted
    assert "delete Deployment default/web" not in backend.calls
    assert "delete ConfigMap default/extra" in backend.calls  # made by the failed update
    assert "replace Deployment default/web" in backend.calls
    assert [a.ref.name for a in recorded[-1]] == ["c", "web"]


def test_a_failed_first_install_removes_everything_it_made() -> None:
    backend = ImageBackend()
    _, recorded = run(backend, [CM, web(BAD)])
    assert backend.objects == {} and recorded[-1] == []


def test_a_resumed_install_that_fails_removes_what_the_interrupted_run_made() -> None:
    backend = ImageBackend()
    backend.apply(placed(CM))  # made by a run killed before it recorded it: ours, unrecorded
    backend.apply(placed(web()))  # recorded by the killed run, but that run never finished
    known = [Applied(REF, pending=True)]
    _, recorded = run(backend, [CM, web(BAD)], known)
    assert backend.objects == {} and recorded[-1] == []


def test_a_rerun_is_idempotent() -> None:
    backend = FakeBackend()
    first, _ = run(backend, [CM, web()])
    again, _ = run(backend, [CM, web()], first)
    assert again == first and len(backend.objects) == 2


def test_adopted_objects_stay_adopted_across_uninstall_and_install() -> None:
    backend = FakeBackend()
    backend.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "c", "namespace": "default"}})
    applied, _ = run(backend, [CM], adopt_existing=True)
    assert applied[0].preexisting
    assert backend.objects[applied[0].ref]["metadata"]["annotations"][ADOPTED] == "true"
    remove(backend, applied, 2, LOG)  # uninstall: left in place, with our labels on it
    again, _ = run(backend, [CM])  # install again: no record, not asked to adopt
    assert again[0].preexisting
    remove(backend, again, 2, LOG)
    assert applied[0].ref in backend.objects


def test_an_update_deletes_what_the_descriptors_no_longer_name() -> None:
    backend = FakeBackend()
    before, _ = run(backend, [CM, web()])
    after, recorded = run(backend, [web()], before)
    assert [a.ref.name for a in after] == ["web"] and list(backend.objects) == [REF]
    assert recorded[-1] == after


def test_heal_recreates_what_is_missing_and_leaves_healthy_objects_untouched() -> None:
    backend = FakeBackend()
    applied, _ = run(backend, [CM, web()])
    del backend.objects[applied[0].ref]
    assert check_status(backend, applied) == ["ConfigMap default/c: missing"]
    backend.calls.clear()
    healed = heal(backend, [CM, web()], LABELS, Options(timeout=2), LOG, lambda _: None, applied)
    assert backend.calls == ["apply ConfigMap default/c"]
    assert [a.ref.name for a in healed] == ["c", "web"] and check_status(backend, healed) == []


def test_check_status_names_an_object_that_is_not_ready() -> None:
    backend = ImageBackend()
    backend.apply(placed(web(BAD)))
    assert check_status(backend, [Applied(REF)]) == [
        "Deployment default/web: pod web-1: container c: ErrImageNeverPull"]


def test_drift_masks_secret_values_and_env_values() -> None:
    backend = FakeBackend()
    backend.apply({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "s", "namespace": "default"},
                   "data": {"password": "bGl2ZQ=="}})
    deployment = web()
    deployment["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "TOKEN",
                                                                       "value": "live-token"}]
    backend.apply(placed(deployment))
    desired = web()
    desired["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "TOKEN",
                                                                    "value": "wanted-token"}]
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
              "stringData": {"password": "wanted"}}
    found = drift(backend, [secret, desired], "default",
                  [Applied(ObjectRef("v1", "ConfigMap", "old", "default"))])
    assert found == ["Secret default/s: data.password: differs",
                     "Deployment default/web: spec.template.spec.containers[0].env[0].value: "
                     "differs",
                     "ConfigMap default/old: no longer in the descriptors"]
    same = {**secret, "stringData": {"password": "live"}}
    assert drift(backend, [same], "default") == []


class Forbidden(FakeBackend):
    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        raise UserError("reading: HTTP 403 forbidden")


def test_a_403_while_waiting_for_deletion_is_an_error_not_gone() -> None:
    with pytest.raises(UserError, match="403"):
        wait_gone(Forbidden(), [REF], [], 1, LOG)


def test_names_per_instance() -> None:
    assert naming.choose_suffix("app_x8u01s", 1, False) == ""
    assert naming.choose_suffix("app_x8u01s", 3, True) == ""  # applied before: today's names
    assert naming.choose_suffix("app_x8u01s", 2, False) == "-x8u01s"
    labels = {**LABELS, "cloudify.co/node-instance": "app_x8u01s"}
    deployment = web()
    deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [
        {"configMapRef": {"name": "c"}}, {"secretRef": {"name": "theirs"}}]
    service = obj("v1", "Service", "web", spec={"selector": {"app": "web"}})
    out = naming.per_instance([CM, deployment, service], "-x8u01s", labels)
    assert [o["metadata"]["name"] for o in out] == ["c-x8u01s", "web-x8u01s", "web-x8u01s"]
    refs = out[1]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert refs == [{"configMapRef": {"name": "c-x8u01s"}}, {"secretRef": {"name": "theirs"}}]
    assert out[1]["spec"]["selector"]["matchLabels"] == {"app": "web",
                                                         "cloudify.co/node-instance": "app_x8u01s"}
    assert out[2]["spec"]["selector"] == {"app": "web", "cloudify.co/node-instance": "app_x8u01s"}
    assert naming.per_instance([CM], "", labels) == [CM]
    crd = obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com")
    with pytest.raises(UserError,
                       match=r"config_files\[0\] \(file crd.yaml\): CustomResourceDefinition"):
        naming.per_instance([crd], "-x8u01s", labels,
                            {("CustomResourceDefinition",
                              "widgets.example.com"): "config_files[0] (file crd.yaml)"})
