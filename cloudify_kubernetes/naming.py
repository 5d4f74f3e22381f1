"""Names and selectors of a Microservice instance's objects when a node has several instances.

The rule (decided once per instance, when it first applies, and kept for its whole life: re-run,
heal, update, day-2 operations):
- names: an instance that is its node's only instance, or that already applied objects before
  this rule existed, keeps the descriptors' names (`suffix` ""); otherwise every object's
  metadata.name gets the suffix "-<random part of the instance id>" (instance `web_x8u01s` ->
  `web-x8u01s`). References between the node's own objects follow (configMap / secret / PVC
  volumes, env valueFrom / envFrom, serviceAccountName, imagePullSecrets, a StatefulSet's
  serviceName, an Ingress's backend service).
- selectors, for every instance (the first and only one too, whatever its suffix): the label
  cloudify.co/node-instance (on every pod template the node renders) joins the selectors of
  workloads (Deployment, ReplicaSet, DaemonSet, StatefulSet, Job: spec.selector.matchLabels),
  of ReplicationControllers (spec.selector) and of Services whose selector matches a pod
  template of the node's own objects (a Service fronting pods the node does not make keeps its
  selector). So no instance's Service, workload or wait ever selects another instance's pods.
  A workload's selector is immutable: when its live object was applied before this rule (its
  selector lacks the label, otherwise equal), apply keeps the live selector
  (`keep_live_selector`); its pods are still told apart by their label (waits.PodSet).
Namespaces and CustomResourceDefinitions cannot be renamed per instance (a CRD's name is fixed
by its group and plural): with a suffix they are a UserError naming the file and the object.
The tasks layer stores the suffix in the runtime property `name_suffix`. Pure: no I/O, no ctx.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

from cloudify_kubernetes.manifests import pod_specs, pod_templates
from cloudify_shared.errors import UserError
from cloudify_shared.naming import instance_suffix
from cloudify_shared.ownership import NODE_INSTANCE

SINGLETON_KINDS = {"Namespace", "CustomResourceDefinition"}
WORKLOAD_KINDS = {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job"}


def choose_suffix(instance_id: str, number_of_instances: int, applied_before: bool) -> str:
    """The suffix an instance takes when it first applies (see the module docstring)."""
    return "" if applied_before else instance_suffix(instance_id, number_of_instances)


def per_instance(objects: list[dict[str, Any]], suffix: str, labels: Mapping[str, str],
                 origins: Mapping[tuple[str, str], str] | None = None) -> list[dict[str, Any]]:
    """The objects for one instance: selectors narrowed to it; renamed when suffix is not ''."""
    if suffix:
        check_renamable(objects, origins or {})
    renamed = {(o["kind"], o["metadata"]["name"]) for o in objects}
    selector = {NODE_INSTANCE: labels[NODE_INSTANCE]}
    templates = [dict((t.get("metadata") or {}).get("labels") or {})
                 for o in objects for t in pod_templates(o)]
    templates += [dict(o["metadata"].get("labels") or {}) for o in objects if o["kind"] == "Pod"]
    result = []
    for obj in objects:
        copied = copy.deepcopy(obj)
        if suffix:
            copied["metadata"]["name"] += suffix
            rename_references(copied, renamed, suffix)
        narrow_selector(copied, selector, templates)
        result.append(copied)
    return result


def check_renamable(objects: list[dict[str, Any]], origins: Mapping[tuple[str, str], str]) -> None:
    for obj in objects:
        if obj["kind"] in SINGLETON_KINDS:
            name = obj["metadata"]["name"]
            where = origins.get((obj["kind"], name), "properties")
            raise UserError(f"{where}: {obj['kind']} {name} cannot be made distinct per "
                            "instance (the node has several instances): move it to a node with "
                            "one instance")


def selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def narrow_selector(obj: dict[str, Any], selector: Mapping[str, str],
                    templates: list[dict[str, Any]] | None = None) -> None:
    """Add `selector` to the object's own selector (in place). A Service is narrowed only when
    its selector matches one of `templates` (the pod labels of the node's own objects; None:
    always)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("selector"), dict):
        return
    if obj["kind"] == "Service" and spec["selector"]:
        if templates is None or any(selects(spec["selector"], t) for t in templates):
            spec["selector"] = {**spec["selector"], **selector}
    elif obj["kind"] == "ReplicationController":
        spec["selector"] = {**spec["selector"], **selector}
    elif obj["kind"] in WORKLOAD_KINDS:
        spec["selector"]["matchLabels"] = {**(spec["selector"].get("matchLabels") or {}),
                                           **selector}


def keep_live_selector(obj: Mapping[str, Any], live: Mapping[str, Any] | None) -> dict[str, Any]:
    """`obj` with the live object's selector when the live one is a workload's selector applied
    before selectors were narrowed: the same but for the label cloudify.co/node-instance, which
    it lacks (a workload's selector is immutable). Otherwise `obj` unchanged (a copy)."""
    result = copy.deepcopy(dict(obj))
    if live is None or obj.get("kind") not in WORKLOAD_KINDS:
        return result
    wanted = (result.get("spec") or {}).get("selector")
    current = (live.get("spec") or {}).get("selector")
    if not isinstance(wanted, dict) or not isinstance(current, dict):
        return result
    if NODE_INSTANCE in (current.get("matchLabels") or {}):
        return result
    if without_instance(wanted) == without_instance(current):
        result["spec"]["selector"] = copy.deepcopy(current)
    return result


def without_instance(selector: Mapping[str, Any]) -> dict[str, Any]:
    """A label selector without the label cloudify.co/node-instance (empty parts dropped)."""
    result = {k: v for k, v in selector.items() if v not in (None, [], {})}
    labels = {k: v for k, v in (selector.get("matchLabels") or {}).items() if k != NODE_INSTANCE}
    result.pop("matchLabels", None)
    if labels:
        result["matchLabels"] = labels
    return result


VOLUME_REFS = (("configMap", "name", "ConfigMap"), ("secret", "secretName", "Secret"),
               ("persistentVolumeClaim", "claimName", "PersistentVolumeClaim"))
ENV_REFS = (("configMapKeyRef", "name", "ConfigMap"), ("secretKeyRef", "name", "Secret"))
ENV_FROM_REFS = (("configMapRef", "name", "ConfigMap"), ("secretRef", "name", "Secret"))


def _nested(items: list[Any], fields: tuple[tuple[str, str, str], ...]
            ) -> Iterator[tuple[dict[str, Any], str, str]]:
    for item in items:
        for field, key, kind in fields:
            if isinstance(item, dict) and isinstance(item.get(field), dict):
                yield item[field], key, kind


def _refs(spec: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, str]]:
    """(holder, key, kind) of every name a pod spec uses to refer to another object."""
    yield from _nested(spec.get("volumes") or [], VOLUME_REFS)
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        sources = [env.get("valueFrom") for env in container.get("env") or []]
        yield from _nested(sources, ENV_REFS)
        yield from _nested(container.get("envFrom") or [], ENV_FROM_REFS)
    for secret in spec.get("imagePullSecrets") or []:
        yield secret, "name", "Secret"
    if spec.get("serviceAccountName"):
        yield spec, "serviceAccountName", "ServiceAccount"


def rename_references(obj: dict[str, Any], renamed: set[tuple[str, str]], suffix: str) -> None:
    """Point references to the node's own renamed objects at their new names (in place)."""
    holders = [h for spec in pod_specs(obj) for h in _refs(spec)]
    spec: dict[str, Any] = obj["spec"] if isinstance(obj.get("spec"), dict) else {}
    if obj["kind"] == "StatefulSet" and spec.get("serviceName"):
        holders.append((spec, "serviceName", "Service"))
    if obj["kind"] == "Ingress":
        for rule in spec.get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                service = (path.get("backend") or {}).get("service")
                if isinstance(service, dict):
                    holders.append((service, "name", "Service"))
    for holder, key, kind in holders:
        if (kind, holder.get(key)) in renamed:
            holder[key] = f"{holder[key]}{suffix}"


# ---- Valid names (issue 24): what the API server accepts, checked before a name reaches kubectl

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
SUBDOMAIN_PART = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # Kubernetes sets no 63 here
LABEL_NAMED_KINDS = {"Namespace", "Service"}  # names that are DNS-1123 labels
# RBAC objects are named by path segments (`system:aggregate-to-view`)
PATH_SEGMENT_NAMED_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}


def is_dns_label(text: str) -> bool:
    """A DNS-1123 label: at most 63 of [a-z0-9-], alphanumeric at both ends."""
    return bool(DNS_LABEL.fullmatch(text))


def is_dns_subdomain(text: str) -> bool:
    """A DNS-1123 subdomain as Kubernetes checks it: at most 253 characters, dot-separated
    parts of a-z, 0-9 and '-', alphanumeric at both ends."""
    return 0 < len(text) <= 253 and all(SUBDOMAIN_PART.fullmatch(p) for p in text.split("."))


def is_path_segment(text: str) -> bool:
    return bool(text) and text not in (".", "..") and not any(c in text for c in "/%")


def check_name(kind: str, name: str, field: str) -> str:
    """`name` when it is a valid name for an object of `kind` (a DNS-1123 label for Namespaces
    and Services, a path segment for RBAC objects, a DNS-1123 subdomain for the rest); else a
    UserError naming `field`."""
    if kind in LABEL_NAMED_KINDS:
        valid, rule = is_dns_label(name), "a DNS-1123 label (at most 63 of a-z, 0-9 and '-')"
    elif kind in PATH_SEGMENT_NAMED_KINDS:
        valid, rule = is_path_segment(name), "a path segment (no '/' or '%', not '.' or '..')"
    else:
        valid, rule = is_dns_subdomain(name), ("a DNS-1123 subdomain (at most 253 of a-z, 0-9, "
                                               "'-' and '.')")
    if not valid:
        raise UserError(f"{field}: {name!r} is not a valid name for a {kind}: it must be {rule}")
    return name


def check_dns_label(text: str, field: str) -> str:
    """`text` when it is a DNS-1123 label (a container's name); else a UserError naming `field`."""
    if not is_dns_label(text):
        raise UserError(f"{field}: {text!r} is not a DNS-1123 label (at most 63 of a-z, 0-9 "
                        "and '-')")
    return text


def check_api_version(api_version: str, field: str) -> str:
    """`api_version` when it is `version` or `group/version` (a DNS-1123 subdomain and label)."""
    group, slash, version = api_version.rpartition("/")
    if not is_dns_label(version) or (slash and not is_dns_subdomain(group)):
        raise UserError(f"{field}: {api_version!r} is not an apiVersion (version or group/version)")
    return api_version
