"""From a Microservice's properties to the list of Kubernetes objects to apply.

Loads descriptor files (each may hold several YAML documents, loaded under the bounds of
cloudify_shared.limits: bytes, alias expansion, objects per Microservice) and inline config, applies
overrides, injects env into pod templates and adds the ownership labels (to the objects and
to the templates their controllers make objects from: see owned_templates). Pure: the caller
passes a `read_file(path) -> str` function; no ctx, no cluster access.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cloudify_kubernetes.overrides import Override, apply_overrides, parse_override
from cloudify_shared import limits
from cloudify_shared.errors import UserError
from cloudify_shared.validation import Field, parse_mapping, string_mapping

FILE_FIELDS = {
    "file": Field((str,), required=True),
    "overrides": Field((list,), default=[]),
}


@dataclass(frozen=True)
class Source:
    """One place documents come from: a file of the blueprint or the inline config."""

    where: str
    text: str | None
    docs: tuple[Mapping[str, Any], ...] = ()
    overrides: tuple[Override, ...] = ()


def parse_documents(text: str, where: str) -> list[dict[str, Any]]:
    """The documents of a descriptor file, under the YAML bounds (bytes, alias expansion) and
    the object count bound (limits)."""
    docs = [d for d in limits.load_yaml_documents(text, where) if d is not None]
    limits.check_count(len(docs), where)
    for number, doc in enumerate(docs):
        check_document(doc, f"{where} (document {number + 1})")
    if not docs:
        raise UserError(f"{where}: no documents")
    return docs


def check_document(doc: Any, where: str) -> None:
    if not isinstance(doc, dict):
        raise UserError(f"{where}: expected a mapping, got {type(doc).__name__}")
    for key in ("apiVersion", "kind"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise UserError(f"{where}: '{key}' is required")
    name = (doc.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise UserError(f"{where}: 'metadata.name' is required")


def load_sources(config_files: Any, config: Any, read_file: Callable[[str], str],
                 where: str = "properties") -> list[Source]:
    if not isinstance(config_files, list):
        raise UserError(f"{where}.config_files: expected a list of {{file, overrides}}")
    sources = []
    for number, item in enumerate(config_files):
        path = f"{where}.config_files[{number}]"
        values = parse_mapping({"file": item} if isinstance(item, str) else item, FILE_FIELDS, path)
        overrides = tuple(parse_override(o, f"{path}.overrides[{i}]")
                          for i, o in enumerate(values["overrides"]))
        file_where = f"{path} (file {values['file']})"
        sources.append(Source(file_where, read_file(values["file"]), overrides=overrides))
    if config:
        docs = config if isinstance(config, list) else [config]
        limits.check_count(len(docs), f"{where}.config")
        for number, doc in enumerate(docs):
            check_document(doc, f"{where}.config[{number}]")
        sources.append(Source(f"{where}.config", None, docs=tuple(docs)))
    if not sources:
        raise UserError(f"{where}: set config_files or config")
    return sources


def build_objects(sources: list[Source], env: Any, env_containers: Any,
                  labels: Mapping[str, str], where: str = "properties",
                  origins: dict[tuple[str, str], str] | None = None) -> list[dict[str, Any]]:
    """Every object, in order, with overrides, env and ownership labels applied. `origins`,
    when given, is filled with (kind, name) -> the source (file or inline config) it came from."""
    env_values = string_mapping(env or {}, f"{where}.env")
    containers = list(env_containers or [])
    objects: list[dict[str, Any]] = []
    for source in sources:
        docs = (parse_documents(source.text, source.where) if source.text is not None
                else [copy.deepcopy(dict(d)) for d in source.docs])
        docs = apply_overrides(docs, list(source.overrides), source.where)
        for doc in docs:
            check_document(doc, source.where)
            injected = inject_env(doc, env_values, containers)
            objects.append(add_labels(injected, labels))
            if origins is not None:
                origins[(str(doc["kind"]), str(doc["metadata"]["name"]))] = source.where
        limits.check_count(len(objects), where)  # all sources together
    if containers and env_values:
        named = {c.get("name") for o in objects for spec in pod_specs(o)
                 for c in spec.get("containers") or []}
        missing = sorted(set(containers) - named)
        if missing:
            raise UserError(f"{where}.env_containers: no container named {', '.join(missing)}")
    return objects


def pod_specs(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The pod specs inside an object (a Pod itself, templates of controllers, CronJobs)."""
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return
    if doc.get("kind") == "Pod":
        yield spec
        return
    for path in (("template", "spec"), ("jobTemplate", "spec", "template", "spec")):
        node: Any = spec
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            yield node


def pod_templates(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = doc.get("spec")
    if not isinstance(spec, dict) or doc.get("kind") == "Pod":
        return
    for holder in (spec, (spec.get("jobTemplate") or {}).get("spec")):
        if isinstance(holder, dict) and isinstance(holder.get("template"), dict):
            yield holder["template"]


def inject_env(doc: dict[str, Any], env: Mapping[str, str],
               containers: list[str]) -> dict[str, Any]:
    """A copy of `doc` with `env` set in every container (or only the named ones)."""
    result = copy.deepcopy(doc)
    if not env:
        return result
    for spec in pod_specs(result):
        for container in spec.get("containers") or []:
            if containers and container.get("name") not in containers:
                continue
            current = [e for e in container.get("env") or [] if e.get("name") not in env]
            container["env"] = current + [{"name": k, "value": v} for k, v in env.items()]
    return result


def owned_templates(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every template in `doc` from which a controller makes objects that carry the template's
    labels: pod templates, a CronJob's jobTemplate, a StatefulSet's volumeClaimTemplates (its
    claims outlive it) and generic ephemeral volumes' claim templates."""
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return
    if doc.get("kind") != "Pod":
        yield from pod_templates(doc)
        if isinstance(spec.get("jobTemplate"), dict):
            yield spec["jobTemplate"]
    if doc.get("kind") == "StatefulSet":
        yield from (t for t in spec.get("volumeClaimTemplates") or [] if isinstance(t, dict))
    for pod_spec in pod_specs(doc):
        for volume in pod_spec.get("volumes") or []:
            ephemeral = volume.get("ephemeral") if isinstance(volume, dict) else None
            if (isinstance(ephemeral, dict)
                    and isinstance(ephemeral.get("volumeClaimTemplate"), dict)):
                yield ephemeral["volumeClaimTemplate"]


# The API server gives these an object without labels its pod template's labels (as
# `kubectl apply` of the same file shows): kept, before ours make the labels non-empty.
TEMPLATE_LABELED_KINDS = {"Job", "ReplicationController"}


def add_labels(doc: dict[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """A copy of `doc` whose metadata and templates (owned_templates) carry `labels`."""
    result = copy.deepcopy(doc)
    meta = result.setdefault("metadata", {})
    own = meta.get("labels") or {}
    if not own and result.get("kind") in TEMPLATE_LABELED_KINDS:
        for template in pod_templates(result):
            own = dict((template.get("metadata") or {}).get("labels") or {})
    meta["labels"] = {**own, **labels}
    for template in owned_templates(result):
        tmeta = template.get("metadata")
        if not isinstance(tmeta, dict):
            tmeta = template["metadata"] = {}
        tmeta["labels"] = {**(tmeta.get("labels") or {}), **labels}
    return result


def crd_kinds(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(apiVersion, kind) pairs defined by the CRDs among `objects`."""
    kinds = set()
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition":
            continue
        spec = obj.get("spec") or {}
        versions = [v.get("name") for v in spec.get("versions") or []] + [spec.get("version")]
        for version in filter(None, versions):
            kinds.add((f"{spec.get('group')}/{version}",
                       str((spec.get("names") or {}).get("kind"))))
    return kinds
