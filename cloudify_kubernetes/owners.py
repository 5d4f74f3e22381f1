"""Whose an object on the cluster is (issue 24), decided by its ownership labels
(cloudify_shared.ownership): this node instance's, another deployment's or tenant's, or
nobody's (made outside Cloudify).

- Another deployment's or tenant's object is never taken over, adopt_existing or not
  (`refuse_foreign`): a UserError naming the object and its owner, before it is touched.
- A Namespace this instance made is deleted only when nothing that is not this deployment's is
  in it (`strangers_in`), a CustomResourceDefinition only when no custom resource of it is
  another's (`custom_resources_of_others`): deleting either deletes those too (`may_delete`):
  the kinds listed are COMMON_KINDS and the kinds the instance applied; what every namespace
  holds from the start (the `default` ServiceAccount, its token Secrets, the `kube-root-ca.crt`
  ConfigMap) does not count. A custom resource of another kind is not seen.
- A delete carries the object's uid as a precondition (`delete_one`): when another object now
  has the name (deleted and made again by someone else), it is left in place, logged by name.
Service layer: no ctx.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from cloudify_kubernetes.backend import ClusterBackend, NotOurs, ObjectRef, UnknownKind
from cloudify_kubernetes.manifests import crd_kinds
from cloudify_shared.errors import UserError
from cloudify_shared.ownership import (
    DEPLOYMENT,
    MANAGED_BY,
    MANAGED_BY_VALUE,
    NODE_INSTANCE,
    foreign_owner,
)

COMMON_KINDS = (("v1", "Pod"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "Secret"),
                ("v1", "ServiceAccount"), ("v1", "PersistentVolumeClaim"),
                ("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet"),
                ("batch/v1", "Job"), ("batch/v1beta1", "CronJob"), ("batch/v1", "CronJob"),
                ("networking.k8s.io/v1", "Ingress"),
                ("rbac.authorization.k8s.io/v1", "Role"),
                ("rbac.authorization.k8s.io/v1", "RoleBinding"))
# what a namespace holds from its creation: (kind, name)
BUILT_IN = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
TOKEN_SECRET = "kubernetes.io/service-account-token"
NAMED = 10  # strangers named in a message


def labels_of(live: Mapping[str, Any]) -> dict[str, str]:
    return dict((live.get("metadata") or {}).get("labels") or {})


def is_ours(live: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether the object carries this node instance's ownership labels (the tenant compared
    when both carry one)."""
    mine = labels_of(live)
    return (all(mine.get(key) == labels.get(key) for key in (DEPLOYMENT, NODE_INSTANCE))
            and foreign_owner(mine, labels) is None)


def refuse_foreign(ref: ObjectRef, live: Mapping[str, Any], labels: Mapping[str, str]) -> None:
    """A UserError when the live object belongs to another deployment or tenant."""
    owner = foreign_owner(labels_of(live), labels)
    if owner is not None:
        raise UserError(f"{ref} belongs to {owner}: an object another deployment made is never "
                        "taken over, adopt_existing or not; give this one another name")


def is_this_deployments(live: Mapping[str, Any], labels: Mapping[str, str] | None) -> bool:
    """Made by this deployment (any of its node instances) in this tenant."""
    mine = labels_of(live)
    return (labels is not None and mine.get(MANAGED_BY) == MANAGED_BY_VALUE
            and foreign_owner(mine, labels) is None)


def is_built_in(kind: str, live: Mapping[str, Any]) -> bool:
    name = str((live.get("metadata") or {}).get("name"))
    return (kind, name) in BUILT_IN or (kind == "Secret" and live.get("type") == TOKEN_SECRET)


def strangers_in(backend: ClusterBackend, namespace: str, labels: Mapping[str, str] | None,
                 kinds: Iterable[tuple[str, str]] = ()) -> list[str]:
    """'Kind name' of every object in `namespace` that is not this deployment's (see the module
    docstring); the kinds the cluster does not know are skipped."""
    found: list[str] = []
    for api_version, kind in dict.fromkeys([*COMMON_KINDS, *kinds]):
        try:
            if not backend.namespaced(api_version, kind):
                continue  # a Namespace, a CRD: not inside any namespace
            items = backend.list_objects(api_version, kind, namespace, "")
        except UnknownKind:  # an API group this cluster does not serve
            continue
        except UserError as error:  # e.g. 403: what cannot be seen is not known to be ours
            found.append(f"{kind} (cannot list: {error})")
            continue
        found += [f"{kind} {(item.get('metadata') or {}).get('name')}" for item in items
                  if not is_built_in(kind, item) and not is_this_deployments(item, labels)]
    return list(dict.fromkeys(found))


def describe_strangers(found: list[str]) -> str:
    more = f" and {len(found) - NAMED} more" if len(found) > NAMED else ""
    return ", ".join(found[:NAMED]) + more


def delete_one(backend: ClusterBackend, ref: ObjectRef, live: Mapping[str, Any] | None,
               logger: logging.Logger, note: str = "") -> ObjectRef | None:
    """Ask for the deletion of the object `ref` names, only if it is still the object of its
    uid (recorded, or read just before: `live`, or a read here); the ref to wait for, or None
    when another object now has its name (left in place, logged)."""
    uid = ref.uid
    if not uid:
        current = live if live is not None else backend.get(ref)
        uid = str(((current or {}).get("metadata") or {}).get("uid") or "")
    target = dataclasses.replace(ref, uid=uid)
    try:
        backend.delete(target)
    except NotOurs as error:
        logger.warning("leaving %s in place: %s", ref, error)
        return None
    logger.info("deleting %s%s", ref, note)
    return target


def custom_resources_of_others(backend: ClusterBackend, kinds: Iterable[tuple[str, str]],
                               labels: Mapping[str, str] | None) -> list[str]:
    """'Kind namespace/name' of every custom resource of `kinds` (a CRD's) in any namespace
    that is not this deployment's: deleting the CRD would delete them."""
    found: list[str] = []
    for api_version, kind in kinds:
        try:
            items = backend.list_objects(api_version, kind, None, "")
        except UnknownKind:
            continue
        for item in items:
            if not is_this_deployments(item, labels):
                meta = item.get("metadata") or {}
                where = f"{meta['namespace']}/" if meta.get("namespace") else ""
                found.append(f"{kind} {where}{meta.get('name')}")
    return found


def may_delete(backend: ClusterBackend, ref: ObjectRef, live: Mapping[str, Any],
               labels: Mapping[str, str] | None, kinds: set[tuple[str, str]],
               logger: logging.Logger) -> bool:
    """Whether a Namespace or CustomResourceDefinition this instance made may go: nothing that
    is not this deployment's is in the Namespace, or is a custom resource of the CRD (deleting
    either deletes those too); else it is left in place, the others named in the log."""
    if ref.kind == "Namespace":
        others = strangers_in(backend, ref.name, labels, sorted(kinds))
    elif ref.kind == "CustomResourceDefinition":
        others = custom_resources_of_others(backend, sorted(crd_kinds([dict(live)])), labels)
    else:
        return True
    if others:
        logger.warning("leaving %s in place: %s objects that are not this deployment's: %s",
                       ref, "it holds" if ref.kind == "Namespace" else "deleting it would delete",
                       describe_strangers(others))
    return not others
