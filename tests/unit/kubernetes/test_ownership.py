"""Issue 24, class 4 and 3 over the fake backend: another deployment's or tenant's object is
never taken over (adopt_existing or not, nothing applied); deletes carry the uid, so an object
made again under the name by someone else is left in place; a Namespace we made that now holds
others' objects is left in place; manifests, object counts and timeouts are bounded."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from cloudify_kubernetes.backend import NotOurs, ObjectRef
from cloudify_kubernetes.connection import parse_api, parse_ssh
from cloudify_kubernetes.engine import Applied, Options, install, remove
from cloudify_kubernetes.manifests import build_objects, load_sources
from cloudify_kubernetes.microservice import parse_settings
from cloudify_kubernetes.owners import strangers_in
from cloudify_shared.errors import UserError
from cloudify_shared.ownership import ownership_labels
from tests.unit.kubernetes.test_engine import FakeBackend

LOG = logging.getLogger("test")
OURS = ownership_labels("app", "app_x1", "tenant-a")
OTHER_DEPLOYMENT = ownership_labels("other", "other_y2", "tenant-a")
OTHER_TENANT = ownership_labels("app", "app_x1", "tenant-b")


class UidBackend(FakeBackend):
    """Deletes honour the uid precondition as the API server does; objects made 'by someone
    else' are added with `plant`; list_objects lists what is in a namespace."""

    def __init__(self) -> None:
        super().__init__()
        self.deleted: list[ObjectRef] = []

    def plant(self, body: dict[str, Any], uid: str) -> None:
        self.objects[ObjectRef.of(body)] = {**body, "metadata": {**body["metadata"], "uid": uid}}

    def delete(self, ref: ObjectRef) -> None:
        live = self.objects.get(ref)
        if live is not None and ref.uid and live["metadata"]["uid"] != ref.uid:
            raise NotOurs(f"{ref}: not the object recorded")
        self.deleted.append(ref)
        super().delete(ref)

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
                     label_selector: str) -> list[dict[str, Any]]:
        scoped = self.namespaced(api_version, kind)  # the API lists cluster objects everywhere
        return [o for r, o in self.objects.items() if (r.api_version, r.kind) == (api_version, kind)
                and (namespace is None or not scoped or r.namespace == namespace)]


def config_map(name: str, labels: Mapping[str, str], namespace: str = "default") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)}, "data": {}}


def run(backend: FakeBackend, objects: list[dict[str, Any]], known: list[Applied] | None = None,
        **options: Any) -> list[Applied]:
    return install(backend, objects, OURS, Options(timeout=2, **options), LOG, lambda _: None,
                   known)


@pytest.mark.parametrize("owner", [OTHER_DEPLOYMENT, OTHER_TENANT])
def test_adopt_existing_refuses_another_deployments_object_before_applying_anything(
        owner: dict[str, str]) -> None:
    backend = UidBackend()
    backend.plant(config_map("shared", owner), "their-uid")
    with pytest.raises(UserError, match=r"ConfigMap default/shared belongs to deployment "
                                        r"(other|app) \(tenant tenant-(a|b)\)"):
        run(backend, [config_map("mine", OURS), config_map("shared", OURS)], adopt_existing=True)
    assert backend.calls == []  # checked before the first object was applied
    assert backend.objects[ObjectRef("v1", "ConfigMap", "shared",
                                     "default")]["metadata"]["labels"] == owner


def test_adopt_existing_takes_over_an_object_nobody_owns() -> None:
    backend = UidBackend()
    backend.plant(config_map("hand-made", {"team": "x"}), "hand-uid")
    applied = run(backend, [config_map("hand-made", OURS)], adopt_existing=True)
    assert applied[0].preexisting


def test_a_recorded_object_now_another_deployments_is_never_patched() -> None:
    backend = UidBackend()
    backend.plant(config_map("c", OTHER_DEPLOYMENT), "their-uid")
    known = [Applied(ObjectRef("v1", "ConfigMap", "c", "default", "our-old-uid"))]
    with pytest.raises(UserError, match="belongs to deployment other"):
        run(backend, [config_map("c", OURS)], known)
    assert backend.calls == []


def test_a_delete_carries_the_recorded_uid_and_leaves_an_object_made_again_by_someone_else(
        caplog: pytest.LogCaptureFixture) -> None:
    backend = UidBackend()
    applied = run(backend, [config_map("c", OURS), config_map("d", OURS)])
    assert [a.ref.uid for a in applied] == ["uid-c", "uid-d"]
    backend.plant(config_map("c", OTHER_DEPLOYMENT), "their-uid")  # deleted and made again
    with caplog.at_level(logging.INFO):
        remove(backend, applied, 2, LOG, OURS)
    assert [(r.name, r.uid) for r in backend.deleted] == [("d", "uid-d")]
    assert ObjectRef("v1", "ConfigMap", "c", "default") in backend.objects
    assert "leaving ConfigMap default/c in place" in caplog.text


def test_a_delete_without_a_recorded_uid_uses_the_one_read_just_before() -> None:
    backend = UidBackend()
    backend.plant(config_map("c", OURS), "live-uid")
    remove(backend, [Applied(ObjectRef("v1", "ConfigMap", "c", "default"))], 2, LOG, OURS)
    assert [r.uid for r in backend.deleted] == ["live-uid"]
    backend.plant(config_map("c", OURS), "live-uid")  # stop's path (no wait) reads it too
    remove(backend, [Applied(ObjectRef("v1", "ConfigMap", "c", "default"))], 2, LOG, OURS,
           wait=False)
    assert [r.uid for r in backend.deleted] == ["live-uid", "live-uid"]


NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team", "labels": OURS}}


def test_a_namespace_we_made_is_left_when_anything_not_ours_is_inside(
        caplog: pytest.LogCaptureFixture) -> None:
    backend = UidBackend()
    applied = run(backend, [NAMESPACE, config_map("c", OURS, "team")])
    backend.plant(config_map("theirs", OTHER_TENANT, "team"), "t-1")
    backend.plant(config_map("hand-made", {}, "team"), "t-2")
    with caplog.at_level(logging.INFO):
        remove(backend, applied, 2, LOG, OURS)
    assert [r.name for r in backend.deleted] == ["c"]
    assert ObjectRef("v1", "Namespace", "team") in backend.objects
    assert ("leaving Namespace team in place: it holds objects that are not this deployment's: "
            "ConfigMap theirs, ConfigMap hand-made") in caplog.text


def test_a_namespace_holding_only_what_every_namespace_holds_and_ours_goes() -> None:
    backend = UidBackend()
    applied = run(backend, [NAMESPACE, config_map("c", OURS, "team")])
    backend.plant(config_map("kube-root-ca.crt", {}, "team"), "b-1")
    backend.plant({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "default", "namespace": "team"}}, "b-2")
    backend.plant({"apiVersion": "v1", "kind": "Secret",
                   "type": "kubernetes.io/service-account-token",
                   "metadata": {"name": "default-token-x", "namespace": "team"}}, "b-3")
    backend.plant(config_map("sibling", ownership_labels("app", "other_node_z", "tenant-a"),
                             "team"), "s")
    backend.plant({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}, "n")
    assert strangers_in(backend, "team", OURS) == []
    remove(backend, applied, 2, LOG, OURS)
    assert [r.name for r in backend.deleted] == ["c", "team"]


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "widgets.example.com", "labels": OURS},
       "spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": [{"name": "v1"}]}}


def widget(name: str, labels: Mapping[str, str], namespace: str = "default") -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)}}


def test_a_crd_we_made_is_left_when_another_deployment_has_custom_resources_of_it(
        caplog: pytest.LogCaptureFixture) -> None:
    backend = UidBackend()
    applied = run(backend, [CRD, widget("w", OURS)])
    backend.plant(widget("theirs", OTHER_DEPLOYMENT, "elsewhere"), "t-1")
    with caplog.at_level(logging.INFO):
        remove(backend, applied, 2, LOG, OURS)
    assert [r.name for r in backend.deleted] == ["w"]
    assert ("leaving CustomResourceDefinition widgets.example.com in place: deleting it would "
            "delete objects that are not this deployment's: Widget elsewhere/theirs") in caplog.text
    backend.objects.pop(ObjectRef("example.com/v1", "Widget", "theirs", "elsewhere"))
    remove(backend, applied, 2, LOG, OURS)  # a later uninstall, once theirs is gone
    assert backend.deleted[-1].name == "widgets.example.com" and not backend.objects


# ---- bounds --------------------------------------------------------------------------------------

def test_manifests_are_loaded_under_the_yaml_and_object_count_bounds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n"
        for i in range(8))
    with pytest.raises(UserError, match="too many YAML nodes"):
        build_objects(load_sources(["bomb.yaml"], None, lambda _: bomb), {}, [], OURS)
    monkeypatch.setenv("CLOUDIFY_VNF_MAX_OBJECTS", "2")
    three = "\n---\n".join(f"{{apiVersion: v1, kind: ConfigMap, metadata: {{name: c{i}}}}}"
                           for i in range(3))
    with pytest.raises(UserError, match=r"file many\.yaml\): 3 objects are too many: at most 2 "
                                        r"\(the administrator's setting "
                                        r"CLOUDIFY_VNF_MAX_OBJECTS\)"):
        build_objects(load_sources(["many.yaml"], None, lambda _: three), {}, [], OURS)
    inline = [config_map(f"c{i}", {}) for i in range(3)]
    with pytest.raises(UserError, match=r"properties\.config: 3 objects are too many"):
        load_sources([], inline, lambda _: "")
    two = "\n---\n".join(three.split("\n---\n")[:2])
    with pytest.raises(UserError, match=r"^properties: 3 objects are too many"):
        build_objects(load_sources(["two.yaml"], inline[:1], lambda _: two), {}, [], OURS)


@pytest.mark.parametrize(("parse", "field"), [
    (lambda v: parse_settings({"timeout": v}, {}), "properties.timeout"),
    (lambda v: parse_settings({}, {"timeout": v}), "properties.timeout"),
    (lambda v: parse_api({"host": "https://h", "token": "t", "request_timeout": v}, "api"),
     "api.request_timeout"),
    (lambda v: parse_ssh({"host": "h", "key_file": "/k", "connect_timeout": v}, "ssh"),
     "ssh.connect_timeout"),
])
def test_every_timeout_is_bounded(parse: Any, field: str) -> None:
    with pytest.raises(UserError, match=f"{field}: must not be negative"):
        parse(-1)
    with pytest.raises(UserError, match=f"{field}: 3601(\\.0)? seconds is too long: at most 3600"):
        parse(3601)
    parse(3600)
