"""Apply, wait, heal, delete a Microservice's objects on any ClusterBackend.

Apply is idempotent (the backend creates, or patches what is there). What one operation may
undo is decided per object before it touches it:
- an object that did not exist, or that an operation which never finished made (recorded as
  `pending`, or carrying this instance's labels without being recorded: made just before a
  crash), was made by this operation: a failure removes it (a failed first install removes
  everything it made);
- an object that existed before the operation (recorded and settled, or adopted) is never
  deleted on failure: its previous spec is put back (a full replace) and waited on.
An object another deployment or tenant made (its ownership labels say so) is never taken over
(owners.refuse_foreign; with adopt_existing every object is checked before any is applied).
Objects that existed before install are only taken over with adopt_existing; they then carry
the annotation `cloudify.co/adopted: "true"`, so that they stay adopted (left in place on
uninstall) across uninstall + install and heal even though they carry our labels. After a
successful apply, objects this instance made that the descriptors no longer name are deleted.
Delete runs in reverse order with foreground propagation and waits until objects and pods are
gone. A delete carries the object's uid (recorded, or read just before) as a precondition: an
object made again under its name by someone else is left in place, logged by name; so is a
Namespace this instance made that now holds objects of others, or a CRD whose custom resources
include others' (owners.may_delete). Then the PersistentVolumeClaims the removed StatefulSets
caused for this instance are deleted and waited on, unless keep_volume_claims (volume_claims). A
workload applied before selectors were narrowed to the instance keeps its live (immutable)
selector (naming.keep_live_selector). Service layer: no ctx.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cloudify_kubernetes.backend import ClusterBackend, ObjectRef, UnknownKind
from cloudify_kubernetes.manifests import crd_kinds
from cloudify_kubernetes.naming import keep_live_selector
from cloudify_kubernetes.owners import delete_one, is_ours, may_delete, refuse_foreign
from cloudify_kubernetes.volume_claims import (
    ClaimOwner,
    claims_to_remove,
    keep_live_claim_templates,
)
from cloudify_kubernetes.waits import PodSet, exists, problem, wait_gone, wait_ready
from cloudify_shared.errors import NotFound, PluginError, UserError, WaitTimeout, WorkloadFailed

# Applied (and waited on) before anything that follows them; deleted after everything else.
PREREQUISITE_KINDS = {"Namespace", "CustomResourceDefinition"}
ADOPTED = "cloudify.co/adopted"
SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation",
                 "selfLink")
FAILURES = (UserError, WorkloadFailed, WaitTimeout)


@dataclass(frozen=True)
class Options:
    timeout: float = 300.0
    wait_for_load_balancer: bool = False
    adopt_existing: bool = False
    default_namespace: str = "default"
    keep_volume_claims: bool = False
    # field_validation.check_fields: "ignore" here; a Microservice's property says strict unless set
    field_validation: str = "ignore"


@dataclass(frozen=True)
class Applied:
    """One object of the instance. `preexisting`: adopted, left in place on delete. `pending`:
    made by an operation that has not finished yet (removed if that operation fails)."""

    ref: ObjectRef
    preexisting: bool = False
    pending: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {**self.ref.as_dict(), "preexisting": self.preexisting, "pending": self.pending}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Applied:
        return cls(ObjectRef.from_dict(data), bool(data.get("preexisting")),
                   bool(data.get("pending")))


Recorder = Callable[[list[Applied]], None]


@dataclass
class Attempt:
    """What one operation applied, and the specs to put back if it fails."""

    previous: list[Applied]
    applied: list[Applied] = dataclasses.field(default_factory=list)
    snapshots: dict[ObjectRef, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def record(self) -> list[Applied]:
        """Everything the instance may own right now: previous order, new objects appended."""
        mine = {a.ref: a for a in self.applied}
        known = {a.ref for a in self.previous}
        return [mine.get(a.ref, a) for a in self.previous] + [a for a in self.applied
                                                              if a.ref not in known]


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


def is_adopted(live: Mapping[str, Any]) -> bool:
    return ((live.get("metadata") or {}).get("annotations") or {}).get(ADOPTED) == "true"


def mark_adopted(obj: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(obj))
    meta = result.setdefault("metadata", {})
    meta["annotations"] = {**(meta.get("annotations") or {}), ADOPTED: "true"}
    return result


def restorable(live: Mapping[str, Any]) -> dict[str, Any]:
    """A live object as a body that replaces it back: no status, no server-set metadata."""
    body = {k: copy.deepcopy(v) for k, v in live.items() if k != "status"}
    body["metadata"] = {k: v for k, v in (live.get("metadata") or {}).items()
                        if k not in SERVER_FIELDS}
    return body


def restore(backend: ClusterBackend, ref: ObjectRef, snapshot: dict[str, Any]) -> None:
    """Replace the object with its snapshot (at its current resourceVersion: some kinds, e.g.
    Service, refuse an unconditional replace); create it if it is gone."""
    current = backend.get(ref)
    if current is None:
        backend.apply(snapshot)
        return
    body = {**snapshot, "metadata": {**snapshot["metadata"],
                                     "resourceVersion": current["metadata"].get("resourceVersion")}}
    try:
        backend.replace(body)
    except NotFound:
        backend.apply(snapshot)


def apply_one(backend: ClusterBackend, obj: dict[str, Any], labels: Mapping[str, str],
              options: Options, known: Mapping[ObjectRef, Applied]
              ) -> tuple[Applied, dict[str, Any] | None]:
    """Apply one object; what was applied and, if a failure must put it back, its spec before."""
    ref = ObjectRef.of(obj)
    live = backend.get(ref)
    entry = known.get(ref)
    if live is not None:
        refuse_foreign(ref, live, labels)
    if live is None:
        preexisting, pending = bool(entry and entry.preexisting), True
    elif entry is not None or is_ours(live, labels):
        preexisting = bool(entry and entry.preexisting) or is_adopted(live)
        # ours but not recorded: made by a run that stopped before recording it
        pending = entry.pending if entry else not preexisting
    elif options.adopt_existing:
        preexisting, pending = True, False
    else:
        raise UserError(f"{ref} already exists and was not made by this node instance; "
                        "set adopt_existing: true to take it over (it is then left in place "
                        "on uninstall)")
    snapshot = restorable(live) if live is not None and (preexisting or not pending) else None
    # a workload applied before selectors were narrowed / claim templates were labelled
    body = keep_live_claim_templates(keep_live_selector(obj, live), live)
    result = backend.apply(mark_adopted(body) if preexisting else body)
    return Applied(ObjectRef.of(result), preexisting, pending), snapshot


def apply_all(backend: ClusterBackend, objects: list[dict[str, Any]], labels: Mapping[str, str],
              options: Options, logger: logging.Logger, record: Recorder,
              attempt: Attempt, wait_for: list[ObjectRef] | None = None) -> None:
    """Apply `objects` in order (each placed just before, so a CRD exists before its custom
    resources are placed), then wait until they (and `wait_for`) are ready; on failure roll back
    what `attempt` says and raise the cause."""
    previous = {a.ref: a for a in attempt.previous}
    try:
        for obj in objects:
            placed = place(backend, obj, options.default_namespace)
            item, snapshot = apply_one(backend, placed, labels, options, previous)
            if snapshot is not None:
                attempt.snapshots[item.ref] = snapshot
            attempt.applied.append(item)
            record(attempt.record())
            logger.info("applied %s", item.ref)
            if item.ref.kind in PREREQUISITE_KINDS:
                wait_ready(backend, [item.ref], options.timeout, logger)
        refs = [a.ref for a in attempt.applied]
        refs += [r for r in wait_for or [] if r not in refs]
        if refs:
            wait_ready(backend, refs, options.timeout, logger, options.wait_for_load_balancer)
    except FAILURES as error:
        roll_back(backend, attempt, options, logger, record, error, labels)
        raise


def roll_back(backend: ClusterBackend, attempt: Attempt, options: Options,
              logger: logging.Logger, record: Recorder, error: PluginError,
              labels: Mapping[str, str]) -> None:
    """Remove what the attempt made, put back the previous spec of what existed before."""
    made = [a for a in attempt.applied if a.ref not in attempt.snapshots and not a.preexisting]
    restored = [a for a in attempt.applied if a.ref in attempt.snapshots]
    logger.error("operation failed: removing the %d object(s) it made, restoring the previous "
                 "spec of %d", len(made), len(restored))
    try:
        remove(backend, made, options.timeout, logger, labels, options.keep_volume_claims)
        for item in restored:
            restore(backend, item.ref, attempt.snapshots[item.ref])
            logger.info("restored the previous spec of %s", item.ref)
        if restored:
            wait_ready(backend, [a.ref for a in restored], options.timeout, logger,
                       judge_pods=False)
    except (PluginError, OSError) as cleanup:
        # The cause stays the error; what is left stays recorded, so uninstall removes it.
        logger.error("rollback incomplete: %s", cleanup)
        raise type(error)(f"{error}\n  (rollback incomplete, uninstall removes the rest: "
                          f"{cleanup})") from error
    removed = {a.ref for a in made}
    known = {a.ref for a in attempt.previous}
    record([a for a in attempt.previous if not (a.ref in removed and a.pending)]
           + [dataclasses.replace(a, pending=False) for a in restored if a.ref not in known])


def install(backend: ClusterBackend, objects: list[dict[str, Any]], labels: Mapping[str, str],
            options: Options, logger: logging.Logger, record: Recorder,
            known: list[Applied] | None = None) -> list[Applied]:
    """Apply every object in order and wait until all are ready (install, re-run, update,
    scale); then delete what this instance made that the descriptors no longer name."""
    check_kinds(backend, objects)
    if options.adopt_existing:
        check_owners(backend, objects, labels, options.default_namespace)
    attempt = Attempt(list(known or []))
    apply_all(backend, objects, labels, options, logger, record, attempt)
    settled = [dataclasses.replace(a, pending=False) for a in attempt.applied]
    current = {a.ref for a in settled}
    dropped = [a for a in attempt.previous if a.ref not in current]
    if dropped:
        record(settled + [a for a in dropped if not a.preexisting])
        logger.info("no longer in the descriptors: %s", ", ".join(str(a.ref) for a in dropped))
        remove(backend, dropped, options.timeout, logger, labels, options.keep_volume_claims)
    record(settled)
    return settled


def check_owners(backend: ClusterBackend, objects: list[dict[str, Any]],
                 labels: Mapping[str, str], default_namespace: str) -> None:
    """Before anything is applied: a UserError for the first object that exists and belongs to
    another deployment or tenant (a CRD's custom resources, whose kind may not exist yet, are
    checked when applied)."""
    defined = crd_kinds(objects)
    for obj in objects:
        if (str(obj["apiVersion"]), str(obj["kind"])) in defined:
            continue
        ref = ObjectRef.of(place(backend, obj, default_namespace))
        live = backend.get(ref)
        if live is not None:
            refuse_foreign(ref, live, labels)


def heal(backend: ClusterBackend, objects: list[dict[str, Any]], labels: Mapping[str, str],
         options: Options, logger: logging.Logger, record: Recorder,
         known: list[Applied]) -> list[Applied]:
    """Re-apply only the objects that are missing or not healthy; leave the others untouched;
    wait until all are ready."""
    check_kinds(backend, objects)
    broken, healthy = [], []
    for obj in objects:
        try:
            ref = ObjectRef.of(place(backend, obj, options.default_namespace))
        except UnknownKind:  # its CRD is gone too: re-applied after it
            broken.append(obj)
            continue
        reason = problem(backend, ref, options.wait_for_load_balancer)
        if reason:
            logger.info("heal: %s: %s", ref, reason)
            broken.append(obj)
        else:
            healthy.append(ref)
    logger.info("heal: %d object(s) to re-apply, %d healthy left untouched", len(broken),
                len(healthy))
    attempt = Attempt(list(known))
    apply_all(backend, broken, labels, options, logger, record, attempt, wait_for=healthy)
    result = [dataclasses.replace(a, pending=False) for a in attempt.record()]
    record(result)
    return result


def check_status(backend: ClusterBackend, applied: list[Applied],
                 load_balancer: bool = False) -> list[str]:
    """What is wrong with the instance's objects ("<ref>: missing", "<ref>: <why not ready>")."""
    found = []
    for item in applied:
        reason = problem(backend, item.ref, load_balancer)
        if reason:
            found.append(f"{item.ref}: {reason}")
    return found


def remove(backend: ClusterBackend, applied: list[Applied], timeout: float,
           logger: logging.Logger, labels: Mapping[str, str] | None = None,
           keep_volume_claims: bool = False, wait: bool = True) -> None:
    """Delete in reverse order (prerequisites last), foreground, and wait until all are gone.
    With the instance's ownership `labels`, the claims its removed StatefulSets caused go too
    once their pods are gone (volume_claims; none with `keep_volume_claims`).

    `wait=False` only asks for the workloads' deletion and returns (prerequisites and claims
    must wait for them); a later call with `wait` finishes. Safe to repeat: the deletion of an
    object already deleting is asked again, of a gone one is a no-op."""
    ordered = [a.ref for a in reversed(applied) if not a.preexisting]
    left_alone = [str(a.ref) for a in applied if a.preexisting]
    if left_alone:
        logger.info("leaving in place objects that existed before install: %s",
                    ", ".join(left_alone))
    workloads = [r for r in ordered if r.kind not in PREREQUISITE_KINDS]
    prerequisites = [r for r in ordered if r.kind in PREREQUISITE_KINDS]
    if not wait:
        for ref in workloads:
            delete_one(backend, ref, None, logger)
        return
    kinds = {(r.api_version, r.kind) for r in ordered}
    for group in (workloads, prerequisites):
        owners = remove_group(backend, group, timeout, logger, labels, kinds)
        if labels is not None and owners:
            remove_claims(backend, owners, labels, keep_volume_claims, timeout, logger)


def remove_group(backend: ClusterBackend, group: list[ObjectRef], timeout: float,
                 logger: logging.Logger, labels: Mapping[str, str] | None,
                 kinds: set[tuple[str, str]]) -> list[ClaimOwner]:
    """Delete the objects of `group` that are still ours and wait until they and their pods are
    gone; the StatefulSets among them, whose claims may go next."""
    pod_sets, owners, asked = [], [], []
    for ref in group:
        live = backend.get(ref) if exists(backend, ref) else None
        if live is not None and not may_delete(backend, ref, live, labels, kinds, logger):
            continue
        target = delete_one(backend, ref, live, logger)
        if target is None:
            continue
        asked.append(target)
        pods = PodSet.of(live) if live else None
        if pods:
            pod_sets.append(pods)
        owner = ClaimOwner.of(ref, live)
        if owner:
            owners.append(owner)
    wait_gone(backend, asked, pod_sets, timeout, logger)
    return owners


def remove_claims(backend: ClusterBackend, owners: list[ClaimOwner], labels: Mapping[str, str],
                  keep: bool, timeout: float, logger: logging.Logger) -> None:
    """Delete the claims the (gone) StatefulSets `owners` caused for this instance; wait."""
    claims = claims_to_remove(backend, owners, labels, keep, logger)
    asked = [target for ref in claims
             if (target := delete_one(backend, ref, None, logger,
                                      " (made from a volumeClaimTemplate)"))]
    wait_gone(backend, asked, [], timeout, logger)


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
                "ports": [{k: p.get(k)
                           for k in ("name", "port", "targetPort", "nodePort", "protocol")
                           if p.get(k) is not None} for p in spec.get("ports") or []]}
        pod_set = PodSet.of(live)
        found = ([live] if item.ref.kind == "Pod" else
                 backend.list_objects("v1", "Pod", pod_set.namespace, pod_set.selector)
                 if pod_set else [])
        for pod in found:
            status, meta = pod.get("status") or {}, pod.get("metadata") or {}
            pods.append({"name": meta.get("name"), "namespace": meta.get("namespace"),
                         "pod_ip": status.get("podIP"), "host_ip": status.get("hostIP"),
                         "node": (pod.get("spec") or {}).get("nodeName"), "owner": str(item.ref)})
    return {"objects": [a.as_dict() for a in applied], "services": services, "pods": pods}
