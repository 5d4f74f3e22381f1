"""PersistentVolumeClaims that a Microservice's StatefulSets cause, and when they go.

A StatefulSet's controller makes one claim per volumeClaimTemplate and replica, named
`<template>-<statefulset>-<ordinal>`, and never deletes it: it outlives the StatefulSet. Its
labels are the template's plus the StatefulSet's selector, so the ownership labels that
manifests.add_labels puts on every claim template (and the node-instance label of the
selector) are on the claim. The rule for removing one (`owned_claims`): it carries this
instance's ownership labels (managed-by, deployment, node instance) and its name is one of a
removed StatefulSet's claims in that StatefulSet's namespace. A claim that existed before (the
controller then uses it as it is, without our labels), another instance's, or one of an
adopted StatefulSet (never removed, nor are its claims) is never touched. With
keep_volume_claims the claims stay (logged by name).

A Helm release's objects are the chart's, without our labels, and so are its claims: for its
StatefulSets (`ClaimOwner.made_since`, the time the release began) a claim is theirs when its
name is one of theirs in their namespace and it was made at or after that time (the API
server's creationTimestamp, whole seconds); one made before (someone else's data, which the
controller adopted as it is) is never touched.

A StatefulSet's volumeClaimTemplates are immutable: one applied before its templates carried
the labels keeps its live templates (`keep_live_claim_templates`), as naming.keep_live_selector
does for selectors; its claims then carry no ownership labels and are left in place.

Waiting (`claim_verdict`): an unschedulable pod whose claim is not bound waits while the claim
may still bind (a provisioner working, a static volume about to be matched) and fails at once,
naming the claim and the class, when the claim's StorageClass does not exist.
Service layer: no ctx.
"""
from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudify_kubernetes.backend import ClusterBackend, ObjectRef
from cloudify_shared.errors import UserError
from cloudify_shared.ownership import DEPLOYMENT, MANAGED_BY, NODE_INSTANCE
from cloudify_shared.waiting import Verdict

CLAIM = ("v1", "PersistentVolumeClaim")
STORAGE_CLASS = ("storage.k8s.io/v1", "StorageClass")
OWNER_KEYS = (MANAGED_BY, DEPLOYMENT, NODE_INSTANCE)


@dataclass(frozen=True)
class ClaimOwner:
    """A StatefulSet whose claims may go with it. `templates`: its claim template names, or
    None when it is already gone (any template name then matches). `made_since`: None, its
    claims carry the instance's ownership labels; else only claims made at or after that time
    are its (a Helm release's StatefulSet: the chart's claims carry no labels of ours)."""

    namespace: str | None
    name: str
    templates: tuple[str, ...] | None
    made_since: datetime | None = None

    @classmethod
    def of(cls, ref: ObjectRef, live: Mapping[str, Any] | None,
           made_since: datetime | None = None) -> ClaimOwner | None:
        if ref.kind != "StatefulSet":
            return None
        templates = None if live is None else tuple(claim_template_names(live))
        return cls(ref.namespace, ref.name, templates, made_since)

    def names(self, claim_name: str) -> bool:
        """Whether `claim_name` is one of this StatefulSet's claims (<template>-<name>-<n>)."""
        match = re.fullmatch(rf"(.+)-{re.escape(self.name)}-(\d+)", claim_name)
        if match is None:
            return False
        return self.templates is None or match.group(1) in self.templates

    def owns(self, claim: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
        """Whether `claim` is one of this StatefulSet's claims, made for this instance."""
        meta = claim.get("metadata") or {}
        if meta.get("namespace") != self.namespace or not self.names(str(meta.get("name"))):
            return False
        if self.made_since is None:
            return carries(claim, labels)
        made = parse_time(meta.get("creationTimestamp"))
        return made is not None and made >= self.made_since.replace(microsecond=0)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time of the API server or helm (None when there is none that reads, or it
    names no time zone)."""
    try:
        # helm writes nanoseconds: fromisoformat takes at most microseconds
        parsed = value if isinstance(value, datetime) else \
            datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", str(value)))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def claim_templates(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A StatefulSet's volumeClaimTemplates (empty for any other object)."""
    spec = obj.get("spec")
    if obj.get("kind") != "StatefulSet" or not isinstance(spec, dict):
        return []
    return [t for t in spec.get("volumeClaimTemplates") or [] if isinstance(t, dict)]


def claim_template_names(obj: Mapping[str, Any]) -> list[str]:
    return [str((t.get("metadata") or {}).get("name")) for t in claim_templates(obj)]


def owner_selector(labels: Mapping[str, str]) -> str:
    """The label selector of claims carrying the instance's ownership labels."""
    return ",".join(f"{key}={labels[key]}" for key in OWNER_KEYS if key in labels)


def carries(obj: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether the object carries every ownership label of the instance (managed-by included)."""
    mine = (obj.get("metadata") or {}).get("labels") or {}
    return all(key in labels and mine.get(key) == labels[key] for key in OWNER_KEYS)


def owned_claims(owners: list[ClaimOwner], claims: Sequence[Mapping[str, Any]],
                 labels: Mapping[str, str]) -> list[ObjectRef]:
    """The claims among `claims` that the StatefulSets `owners` caused for this instance."""
    found = []
    for claim in claims:
        meta = claim.get("metadata") or {}
        if any(o.owns(claim, labels) for o in owners):
            found.append(ObjectRef(*CLAIM, str(meta.get("name")), meta.get("namespace"),
                                   str(meta.get("uid") or "")))
    return found


def find_claims(backend: ClusterBackend, owners: list[ClaimOwner],
                labels: Mapping[str, str]) -> list[ObjectRef]:
    """This instance's claims of the `owners`, as the cluster lists them now (only by their
    labels unless an owner goes by the time its claims were made)."""
    labelled = all(key in labels for key in OWNER_KEYS)
    owners = [o for o in owners if labelled or o.made_since is not None]
    if not owners:
        return []
    selector = "" if any(o.made_since for o in owners) else owner_selector(labels)
    found: list[ObjectRef] = []
    for namespace in sorted({o.namespace or "" for o in owners}):
        listed = backend.list_objects(*CLAIM, namespace or None, selector)
        found += [r for r in owned_claims(owners, listed, labels) if r not in found]
    return found


def claims_to_remove(backend: ClusterBackend, owners: list[ClaimOwner],
                     labels: Mapping[str, str], keep: bool,
                     logger: logging.Logger) -> list[ObjectRef]:
    """The claims to delete after their StatefulSets are gone (none with `keep`: logged)."""
    claims = find_claims(backend, owners, labels)
    if claims and keep:
        logger.info("keep_volume_claims: leaving %d PersistentVolumeClaim(s) in place: %s",
                    len(claims), ", ".join(str(c) for c in claims))
        return []
    return claims


def keep_live_claim_templates(obj: Mapping[str, Any], live: Mapping[str, Any] | None
                              ) -> dict[str, Any]:
    """`obj` with the live StatefulSet's volumeClaimTemplates when those were applied before
    claim templates carried the ownership labels (they lack them; the templates are
    immutable) and are otherwise the same as `obj`'s. Otherwise `obj` unchanged (a copy)."""
    result = copy.deepcopy(dict(obj))
    wanted, current = claim_templates(result), claim_templates(live or {})
    if live is None or not current or len(wanted) != len(current):
        return result
    if any(NODE_INSTANCE in ((t.get("metadata") or {}).get("labels") or {}) for t in current):
        return result
    if all(same_template(w, c) for w, c in zip(wanted, current, strict=True)):
        result["spec"]["volumeClaimTemplates"] = copy.deepcopy(current)
    return result


def same_template(wanted: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """The same claim template but for our labels (fields the server defaults are ignored)."""
    def bare(template: Mapping[str, Any]) -> dict[str, Any]:
        meta = template.get("metadata") or {}
        labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in OWNER_KEYS}
        return {"name": meta.get("name"), "labels": labels,
                "annotations": dict(meta.get("annotations") or {})}
    return bare(wanted) == bare(live) and contained(wanted.get("spec"), live.get("spec"))


def contained(wanted: Any, live: Any) -> bool:
    """Whether every field `wanted` sets has the same value in `live`."""
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(contained(v, live.get(k))
                                                 for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(live, list) and len(wanted) == len(live) and \
            all(contained(w, v) for w, v in zip(wanted, live, strict=True))
    return bool(wanted == live or str(wanted) == str(live))


def pod_claim_names(pod: Mapping[str, Any]) -> list[str]:
    """The claims a pod's volumes name."""
    volumes = (pod.get("spec") or {}).get("volumes") or []
    return [str(v["persistentVolumeClaim"]["claimName"]) for v in volumes
            if isinstance(v, dict) and isinstance(v.get("persistentVolumeClaim"), dict)
            and v["persistentVolumeClaim"].get("claimName")]


def storage_class_missing(backend: ClusterBackend, name: str) -> bool:
    """Whether the cluster surely has no StorageClass `name` (unreadable: not sure, False)."""
    try:
        return backend.get(ObjectRef(*STORAGE_CLASS, name)) is None
    except UserError:  # forbidden to read StorageClasses, or no such API: cannot tell
        return False


def claim_verdict(backend: ClusterBackend, pod: Mapping[str, Any]) -> Verdict | None:
    """For a pod that uses claims: failed when a claim's StorageClass does not exist, waiting
    while a claim is not bound yet; None when every claim is bound (or it uses none)."""
    namespace = (pod.get("metadata") or {}).get("namespace")
    pending = []
    for name in pod_claim_names(pod):
        claim = backend.get(ObjectRef(*CLAIM, name, namespace))
        if claim is None:
            pending.append(f"PersistentVolumeClaim {namespace}/{name} not made yet")
            continue
        phase = (claim.get("status") or {}).get("phase")
        if phase == "Bound":
            continue
        storage_class, named_by = claim_storage_class(claim)
        if storage_class and storage_class_missing(backend, storage_class):
            return Verdict.failed(f"PersistentVolumeClaim {namespace}/{name}: StorageClass "
                                  f"{storage_class!r} (its {named_by}) does not exist (the claim "
                                  "cannot bind)")
        last = last_event(backend, ObjectRef(*CLAIM, name, namespace))
        pending.append(f"PersistentVolumeClaim {namespace}/{name} {phase or 'Pending'}, not bound "
                       f"yet{f' ({last})' if last else ''}")
    if pending:
        return Verdict.waiting("; ".join(pending))
    if CLAIM[1] in unschedulable_message(pod):  # said before the claims bound: it retries
        return Verdict.waiting("claims bound, the scheduler has not placed the pod again yet")
    return None


BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def claim_storage_class(claim: Mapping[str, Any]) -> tuple[str | None, str]:
    """The StorageClass a claim names and where: spec.storageClassName, or the older
    annotation that Kubernetes still honours when the field is not set."""
    named = (claim.get("spec") or {}).get("storageClassName")
    if named:
        return str(named), "spec.storageClassName"
    annotated = ((claim.get("metadata") or {}).get("annotations") or {}).get(BETA_CLASS_ANNOTATION)
    return (str(annotated), f"annotation {BETA_CLASS_ANNOTATION}") if annotated else (None, "")


def last_event(backend: ClusterBackend, ref: ObjectRef) -> str:
    """The latest event of an object as 'Reason: message' ('' when it has none)."""
    events = sorted(backend.events(ref),
                    key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    return f"{events[-1].get('reason')}: {events[-1].get('message')}" if events else ""


def unschedulable_message(pod: Mapping[str, Any]) -> str:
    """The scheduler's message of an unschedulable pod ('' otherwise). It gives no reason code
    for unbound claims, only this text: read here for that one case."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "Unschedulable":
            return str(condition.get("message") or "")
    return ""
