"""Apply, wait, delete and compare a Microservice's objects on any ClusterBackend.

Apply is idempotent (the backend creates, or patches what is there) and adopts objects this
node instance made before; objects that existed before install are only taken over on explicit
request and then left alone on delete. A failed install removes what it made. Delete runs in
reverse order with foreground propagation and waits until objects and pods are gone. Service
layer: no ctx.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cloudify_kubernetes.backend import ClusterBackend, ObjectRef
from cloudify_kubernetes.waits import PodSet, exists, wait_gone, wait_ready
from cloudify_shared.errors import PluginError, UserError, WaitTimeout, WorkloadFailed
from cloudify_shared.ownership import DEPLOYMENT, NODE_INSTANCE

# Applied (and waited on) before anything that follows them; deleted after everything else.
PREREQUISITE_KINDS = {"Namespace", "CustomResourceDefinition"}


@dataclass(frozen=True)
class Options:
    timeout: float = 300.0
    wait_for_load_balancer: bool = False
    adopt_existing: bool = False
    default_namespace: str = "default"


@dataclass(frozen=True)
class Applied:
    ref: ObjectRef
    preexisting: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {**self.ref.as_dict(), "preexisting": self.preexisting}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Applied:
        return cls(ObjectRef.from_dict(data), bool(data.get("preexisting")))


Recorder = Callable[[list[Applied]], None]


def crd_kinds(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(apiVersion, kind) pairs defined by the CRDs among `objects`."""
    kinds = set()
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition":
            continue
        spec = obj.get("spec") or {}
        versions = [v.get("name") for v in spec.get("versions") or []] + [spec.get("version")]
        for version in filter(None, versions):
            kinds.add((f"{spec.get('group')}/{version}", str((spec.get("names") or {}).get("kind"))))
    return kinds


def check_kinds(backend: ClusterBackend, objects: list[dict[str, Any]]) -> None:
    """UserError naming the first kind the cluster does not know (before anything is applied)."""
    defined = crd_kinds(objects)
    for obj in objects:
        key = (str(obj["apiVersion"]), str(obj["kind"]))
        if key not in defined:
            try:
                backend.namespaced(*key)
            except UserError as error:
                raise UserError(f"{ObjectRef.of(obj)}: {error}") from None


def place(backend: ClusterBackend, obj: dict[str, Any], default_namespace: str) -> dict[str, Any]:
    """A copy with metadata.namespace set for namespaced kinds (and dropped for cluster kinds)."""
    result = copy.deepcopy(obj)
    meta = result.setdefault("metadata", {})
    if backend.namespaced(result["apiVersion"], result["kind"]):
        meta.setdefault("namespace", default_namespace)
    else:
        meta.pop("namespace", None)
    return result


def is_ours(live: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    mine = (live.get("metadata") or {}).get("labels") or {}
    return all(mine.get(key) == labels.get(key) for key in (DEPLOYMENT, NODE_INSTANCE))


def apply_one(backend: ClusterBackend, obj: dict[str, Any], labels: Mapping[str, str],
              options: Options, known: Mapping[ObjectRef, Applied]) -> Applied:
    ref = ObjectRef.of(obj)
    live = backend.get(ref)
    preexisting = known[ref].preexisting if ref in known else False
    if live is not None and not is_ours(live, labels) and ref not in known:
        if not options.adopt_existing:
            raise UserError(f"{ref} already exists and was not made by this node instance; "
                            "set adopt_existing: true to take it over (it is then left in place "
                            "on uninstall)")
        preexisting = True
    return Applied(ObjectRef.of(backend.apply(obj)), preexisting)


def install(backend: ClusterBackend, objects: list[dict[str, Any]], labels: Mapping[str, str],
            options: Options, logger: logging.Logger, record: Recorder,
            known: list[Applied] | None = None) -> list[Applied]:
    """Apply every object in order and wait until all are ready; on failure remove what was made."""
    check_kinds(backend, objects)
    previous = {a.ref: a for a in known or []}
    applied: list[Applied] = []
    try:
        for obj in objects:
            item = apply_one(backend, place(backend, obj, options.default_namespace), labels,
                             options, previous)
            applied.append(item)
            record(applied + [a for a in previous.values() if a.ref not in {x.ref for x in applied}])
            logger.info("applied %s", item.ref)
            if item.ref.kind in PREREQUISITE_KINDS:
                wait_ready(backend, [item.ref], options.timeout, logger)
        wait_ready(backend, [a.ref for a in applied], options.timeout, logger,
                   options.wait_for_load_balancer)
    except (UserError, WorkloadFailed, WaitTimeout) as error:
        made = [a for a in applied if not a.preexisting]
        logger.error("install failed: removing the %d object(s) it made", len(made))
        try:
            remove(backend, made, options.timeout, logger)
        except (PluginError, OSError) as cleanup:
            # The cause stays the error; what is left stays recorded, so uninstall removes it.
            logger.error("rollback incomplete: %s", cleanup)
            raise type(error)(f"{error}\n  (rollback incomplete, uninstall removes the rest: "
                              f"{cleanup})") from error
        record([a for a in applied if a.preexisting])
        raise
    return applied


def remove(backend: ClusterBackend, applied: list[Applied], timeout: float,
           logger: logging.Logger) -> None:
    """Delete in reverse order (prerequisites last), foreground, and wait until all are gone."""
    ordered = [a.ref for a in reversed(applied) if not a.preexisting]
    left_alone = [str(a.ref) for a in applied if a.preexisting]
    if left_alone:
        logger.info("leaving in place objects that existed before install: %s", ", ".join(left_alone))
    for group in ([r for r in ordered if r.kind not in PREREQUISITE_KINDS],
                  [r for r in ordered if r.kind in PREREQUISITE_KINDS]):
        pod_sets = []
        for ref in group:
            live = backend.get(ref) if exists(backend, ref) else None
            pods = PodSet.of(live) if live else None
            if pods:
                pod_sets.append(pods)
            backend.delete(ref)
            logger.info("deleting %s", ref)
        wait_gone(backend, group, pod_sets, timeout, logger)


def drift(backend: ClusterBackend, objects: list[dict[str, Any]],
          default_namespace: str) -> list[str]:
    """Differences between the descriptors and the live objects, one line each."""
    found: list[str] = []
    for obj in objects:
        desired = place(backend, obj, default_namespace)
        ref = ObjectRef.of(desired)
        live = backend.get(ref)
        if live is None:
            found.append(f"{ref}: missing")
            continue
        found += [f"{ref}: {line}" for line in compare(desired, live, "")]
    return found


def compare(desired: Any, live: Any, path: str) -> list[str]:
    """Paths where `live` differs from `desired` (fields only the server set are ignored)."""
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return [f"{path or '.'}: desired a mapping, live {live!r}"]
        return [line for key, value in desired.items()
                for line in compare(value, live.get(key), f"{path}.{key}" if path else str(key))]
    if isinstance(desired, list):
        if not isinstance(live, list) or len(live) != len(desired):
            count = len(live) if isinstance(live, list) else live
            return [f"{path}: desired {len(desired)} item(s), live {count}"]
        return [line for i, (d, v) in enumerate(zip(desired, live, strict=True))
                for line in compare(d, v, f"{path}[{i}]")]
    if desired != live and str(desired) != str(live):
        return [f"{path}: desired {desired!r}, live {live!r}"]
    return []


def describe(backend: ClusterBackend, applied: list[Applied]) -> dict[str, Any]:
    """Runtime facts: every object, services' cluster IPs and ports, pods' IPs and hosts."""
    services, pods = {}, []
    for item in applied:
        live = backend.get(item.ref)
        if live is None:
            continue
        if item.ref.kind == "Service":
            spec = live.get("spec") or {}
            services[item.ref.name] = {
                "namespace": item.ref.namespace, "cluster_ip": spec.get("clusterIP"),
                "type": spec.get("type"),
                "ports": [{k: p.get(k) for k in ("name", "port", "targetPort", "nodePort", "protocol")
                           if p.get(k) is not None} for p in spec.get("ports") or []]}
        pod_set = PodSet.of(live)
        found = ([live] if item.ref.kind == "Pod" else
                 backend.list_objects("v1", "Pod", pod_set.namespace, pod_set.selector) if pod_set else [])
        for pod in found:
            status, meta = pod.get("status") or {}, pod.get("metadata") or {}
            pods.append({"name": meta.get("name"), "namespace": meta.get("namespace"),
                         "pod_ip": status.get("podIP"), "host_ip": status.get("hostIP"),
                         "node": (pod.get("spec") or {}).get("nodeName"), "owner": str(item.ref)})
    return {"objects": [a.as_dict() for a in applied], "services": services, "pods": pods}
