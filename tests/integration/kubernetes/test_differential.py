"""Differential test against `kubectl apply` (issue 14, part 4): each multi-document manifest
under tests/blueprints/k8s-differential/manifests (a web front end, RBAC, a StatefulSet with
claims, batch jobs; written for this suite in the shape charts and operators ship) is installed
by a Microservice through the real cfy CLI, its live objects are read, it is uninstalled, then
`kubectl apply -f` makes the same file in the same namespace and those live objects are read.
Both sets must be the same object for object, field for field, except for:
- our ownership labels, wherever they are (metadata, templates, selectors narrowed to the
  instance);
- what the server sets per object: uid, resourceVersion, creationTimestamp, generation,
  managedFields, selfLink, status; a Service's clusterIP(s); a ServiceAccount's token secrets;
  a Job's generated selector and its controller-uid / job-name labels; the annotations
  kubectl (last-applied-configuration) and the Deployment controller (revision) add.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudify_shared.ownership import DEPLOYMENT, MANAGED_BY, NODE_INSTANCE
from tests.helpers import clusters
from tests.helpers.cfy_cli import CfyCli
from tests.helpers.paths import LOCAL_API, TEST_BLUEPRINTS

FOLDER = TEST_BLUEPRINTS / "k8s-differential"
BLUEPRINT = FOLDER / "blueprint.yaml"
MANIFESTS = sorted((FOLDER / "manifests").glob("*.yaml"))
NAMESPACE = "vnf-differential"  # the RBAC manifest's subjects name it
OUR_LABELS = {MANAGED_BY, DEPLOYMENT, NODE_INSTANCE}
SERVER_METADATA = {"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                   "selfLink"}
SERVER_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration",
                      "deployment.kubernetes.io/revision"}
JOB_LABELS = {"controller-uid", "job-name"}  # the Job controller's generated selector
pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def live_objects(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The live object of every document, by '<kind> <name>' (None when missing)."""
    dynamic = clusters.kube_dynamic()
    found: dict[str, dict[str, Any]] = {}
    for doc in docs:
        resource = dynamic.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        namespace = NAMESPACE if resource.namespaced else None
        obj = resource.get(name=doc["metadata"]["name"], namespace=namespace).to_dict()
        found[f"{doc['kind']} {doc['metadata']['name']}"] = obj
    return found


def without(mapping: Mapping[str, Any] | None, keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in (mapping or {}).items() if k not in keys}


def strip(value: Any, labels: set[str]) -> Any:
    """`value` without the label keys `labels` in any mapping, and without the empty labels,
    annotations, metadata and null creationTimestamp that leaves."""
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if key in labels or (key == "creationTimestamp" and item is None):
                continue
            item = strip(item, labels)
            if key in ("labels", "annotations", "metadata", "matchLabels") and item == {}:
                continue
            result[key] = item
        return result
    if isinstance(value, list):
        return [strip(item, labels) for item in value]
    return value


def normalised(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as both sides must agree on it (see the module docstring)."""
    result = {k: v for k, v in obj.items() if k != "status"}
    meta = without(obj.get("metadata"), SERVER_METADATA)
    meta["annotations"] = without(meta.get("annotations"), SERVER_ANNOTATIONS)
    result["metadata"] = meta
    spec = dict(result.get("spec") or {})
    kind = obj.get("kind")
    if kind == "Service":
        spec = without(spec, {"clusterIP", "clusterIPs"})
    if kind == "ServiceAccount":
        result.pop("secrets", None)
    labels = set(OUR_LABELS)
    if kind == "Job":
        labels |= JOB_LABELS
        spec.pop("selector", None)
    if spec:
        result["spec"] = spec
    return dict(strip(result, labels))


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    if isinstance(ours, Mapping) and isinstance(theirs, Mapping):
        return [line for key in sorted(set(ours) | set(theirs))
                for line in differences(ours.get(key), theirs.get(key),
                                        f"{path}.{key}".lstrip("."))]
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [line for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
                for line in differences(a, b, f"{path}[{i}]")]
    return [] if ours == theirs else [f"{path}: ours {ours!r}, kubectl's {theirs!r}"]


def test_normalising_keeps_what_differs() -> None:
    """The comparison itself: our labels and server fields go, a real difference stays."""
    ours = {"kind": "Deployment",
            "metadata": {"name": "a", "uid": "1", "labels": {MANAGED_BY: "x"}},
            "spec": {"selector": {"matchLabels": {"app": "a", NODE_INSTANCE: "i"}}, "replicas": 2}}
    theirs = {"kind": "Deployment", "metadata": {"name": "a", "uid": "2", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "spec": {"selector": {"matchLabels": {"app": "a"}}, "replicas": 3}}
    assert differences(normalised(ours),
                       normalised(theirs)) == ["spec.replicas: ours 2, kubectl's 3"]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[p.stem for p in MANIFESTS])
def test_we_make_what_kubectl_apply_makes(cfy: CfyCli, no_leftovers: str, manifest: Path) -> None:
    assert len(MANIFESTS) >= 4
    docs = documents(manifest)
    with clusters.static_storage(NAMESPACE, volumes=2, name="vnf-differential"):
        cfy.install(BLUEPRINT, no_leftovers, {"api": LOCAL_API, "namespace": NAMESPACE,
                                              "file": f"manifests/{manifest.name}"}).check()
        ours = live_objects(docs)
        cfy.uninstall(no_leftovers).check()
        clusters.kubectl("apply", "-n", NAMESPACE, "-f", str(manifest))
        try:
            theirs = live_objects(docs)
        finally:
            clusters.kubectl("delete", "-n", NAMESPACE, "-f", str(manifest), "--wait=true",
                             "--timeout=120s", check=False)
    assert sorted(ours) == sorted(theirs) and len(ours) == len(docs)
    found = [f"{key}: {line}" for key in sorted(ours)
             for line in differences(normalised(ours[key]), normalised(theirs[key]))]
    assert found == [], "\n".join(found)
