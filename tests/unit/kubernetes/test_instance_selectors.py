"""Every instance's selectors and pod sets are its own: selectors narrowed to the instance for
the first / only instance too (names kept), a workload applied before that rule keeps its live
(immutable) selector, and readiness / describe / deletion waits count only the object's own pods
(the label cloudify.co/node-instance of its pod template), never another instance's."""
from __future__ import annotations

import copy
import logging
from typing import Any

from cloudify_kubernetes import naming
from cloudify_kubernetes.backend import ObjectRef
from cloudify_kubernetes.drift import drift
from cloudify_kubernetes.engine import Applied, Options, describe, install, remove
from cloudify_kubernetes.manifests import add_labels
from cloudify_kubernetes.waits import PodSet
from cloudify_shared.ownership import NODE_INSTANCE
from tests.unit.kubernetes.test_engine import LABELS, FakeBackend, obj

LOG = logging.getLogger("test")
MINE = {**LABELS, NODE_INSTANCE: "app_first"}
THEIRS = {**LABELS, NODE_INSTANCE: "app_second"}
REF = ObjectRef("apps/v1", "Deployment", "web", "default")


def deployment(labels: dict[str, str] | None = MINE, name: str = "web") -> dict[str, Any]:
    body = obj("apps/v1", "Deployment", name, spec={
        "replicas": 1, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "c", "image": "local/busybox:1"}]}}})
    return add_labels(body, labels) if labels else body


def service(app: str = "web") -> dict[str, Any]:
    return add_labels(obj("v1", "Service", "web", spec={"selector": {"app": app},
                                                        "ports": [{"port": 80}]}), MINE)


def pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": "web", **labels}},
            "status": {"podIP": "10.0.0.1"}}


class PodsBackend(FakeBackend):
    """Pods that a label selector picks, as the API server does; deleting a workload leaves its
    own pods to go with it (foreground) and every other pod where it is."""

    def __init__(self, pods: list[dict[str, Any]]) -> None:
        super().__init__()
        self.pods = pods
        self.selectors: list[str] = []

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
                     label_selector: str) -> list[dict[str, Any]]:
        self.selectors.append(label_selector)
        wanted = dict(part.split("=", 1) for part in label_selector.split(","))
        return [p for p in self.pods if naming.selects(wanted, p["metadata"]["labels"])]

    def delete(self, ref: ObjectRef) -> None:
        live = self.objects.get(ref)
        super().delete(ref)
        owner = ((live or {}).get("metadata") or {}).get("labels", {}).get(NODE_INSTANCE)
        if ref.kind == "Deployment":
            self.pods = [p for p in self.pods if p["metadata"]["labels"].get(NODE_INSTANCE)
                         != owner]


def test_the_first_and_only_instance_gets_narrowed_selectors_and_keeps_its_names() -> None:
    rc = add_labels(obj("v1", "ReplicationController", "rc", spec={
        "selector": {"app": "rc"}, "template": {"metadata": {"labels": {"app": "rc"}}}}), MINE)
    config = obj("v1", "ConfigMap", "c", data={"a": "1"})
    out = naming.per_instance([config, deployment(), service(), rc], "", MINE)
    assert [o["metadata"]["name"] for o in out] == ["c", "web", "web", "rc"]
    assert out[0] == config
    assert out[1]["spec"]["selector"]["matchLabels"] == {"app": "web", NODE_INSTANCE: "app_first"}
    assert out[2]["spec"]["selector"] == {"app": "web", NODE_INSTANCE: "app_first"}
    assert out[3]["spec"]["selector"] == {"app": "rc", NODE_INSTANCE: "app_first"}


def test_a_service_fronting_pods_the_node_does_not_make_keeps_its_selector() -> None:
    (out,) = naming.per_instance([service("elsewhere")], "", MINE)
    assert out["spec"]["selector"] == {"app": "elsewhere"}
    (out,) = naming.per_instance([service("elsewhere")], "-x8u01s", MINE)
    assert (out["metadata"]["name"] == "web-x8u01s" and out["spec"]["selector"]
            == {"app": "elsewhere"})


def test_a_workload_applied_before_the_rule_keeps_its_live_selector() -> None:
    (desired,) = naming.per_instance([deployment()], "", MINE)
    old = {**deployment(), "status": {}}
    kept = naming.keep_live_selector(desired, old)
    assert kept["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert kept["spec"]["template"] == desired["spec"]["template"]  # the rest as desired
    assert naming.keep_live_selector(desired, None) == desired
    narrowed = naming.keep_live_selector(desired, desired)
    assert narrowed["spec"]["selector"]["matchLabels"][NODE_INSTANCE] == "app_first"
    # a selector the descriptors changed otherwise is applied (and refused by the API as before)
    changed = copy.deepcopy(desired)
    changed["spec"]["selector"]["matchLabels"]["tier"] = "front"
    assert naming.keep_live_selector(changed, old) == changed
    # a Service's selector is mutable: narrowed in place
    (svc,) = naming.per_instance([service()], "", MINE)
    assert naming.keep_live_selector(svc, service()) == svc


def test_apply_keeps_the_live_selector_of_an_old_workload_and_narrows_its_service() -> None:
    backend = PodsBackend([pod("web-1", MINE)])
    old = {**deployment(), "metadata": {**deployment()["metadata"], "namespace": "default"}}
    old_service = {**service(), "metadata": {**service()["metadata"], "namespace": "default"}}
    backend.objects[REF] = old
    backend.objects[ObjectRef("v1", "Service", "web", "default")] = old_service
    known = [Applied(REF), Applied(ObjectRef("v1", "Service", "web", "default"))]
    desired = naming.per_instance([deployment(), service()], "", MINE)
    install(backend, desired, MINE, Options(timeout=2), LOG, lambda _: None, known)
    assert backend.objects[REF]["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    live_service = backend.objects[ObjectRef("v1", "Service", "web", "default")]
    assert live_service["spec"]["selector"] == {"app": "web", NODE_INSTANCE: "app_first"}
    assert drift(backend, desired, "default") == []  # the kept selector is no difference


def test_pod_sets_are_the_objects_own_pods() -> None:
    old = {**deployment(), "metadata": {**deployment()["metadata"], "namespace": "default"}}
    pods = PodSet.of(old)
    assert pods is not None and pods.selector == f"app=web,{NODE_INSTANCE}=app_first"
    adopted = PodSet.of({**deployment(labels=None), "metadata": {"name": "web", "namespace": "x"}})
    assert adopted == PodSet("x", "app=web")
    assert PodSet.of(service()) is None


def test_describe_and_deletion_wait_never_count_another_instances_pods() -> None:
    backend = PodsBackend([pod("web-1", MINE), pod("web-x-1", THEIRS)])
    mine = {**deployment(), "metadata": {**deployment()["metadata"], "namespace": "default"}}
    backend.objects[REF] = mine  # applied before the rule: selector app=web matches both pods
    facts = describe(backend, [Applied(REF)])
    assert [p["name"] for p in facts["pods"]] == ["web-1"]
    remove(backend, [Applied(REF)], 1, LOG)  # would time out counting web-x-1
    assert [p["metadata"]["name"] for p in backend.pods] == ["web-x-1"]
    assert all(f"{NODE_INSTANCE}=app_first" in s for s in backend.selectors)
