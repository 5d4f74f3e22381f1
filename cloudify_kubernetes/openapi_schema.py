"""The server's OpenAPI v2 schema as field_validation walks it: which keys of an object the
schema of its kind lacks (the API server drops them silently). Pure: no I/O, no ctx.

- a mapping whose schema lists `properties` is closed: a key outside them is unknown, unless the
  schema also has `additionalProperties` or `x-kubernetes-preserve-unknown-fields`;
- a mapping schema without `properties` (labels, free-form JSON, int-or-string) is open;
- a custom resource whose CRD is among the objects is checked against that CRD's
  openAPIV3Schema (what the cluster will have once it is applied), else against the server's
  (/openapi/v2 publishes CRDs' structural schemas too);
- a kind the schema does not know is not judged (engine.check_kinds names it).
`strip_document` keeps only the keys the walk reads (a twentieth of the document).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The only schema keys the walk reads; the rest (descriptions: most of the document) is dropped.
KEPT_KEYS = ("$ref", "properties", "additionalProperties", "items",
             "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource")
ROOT_FIELDS = ("apiVersion", "kind", "metadata")  # every object has them, whatever its schema


def strip_node(node: Any) -> Any:
    """A schema node with only the keys the walk reads, recursively."""
    if not isinstance(node, Mapping):
        return node
    result: dict[str, Any] = {}
    for key in KEPT_KEYS:
        if key not in node:
            continue
        value = node[key]
        if key == "properties" and isinstance(value, Mapping):
            result[key] = {name: strip_node(sub) for name, sub in value.items()}
        elif key in ("additionalProperties", "items"):
            result[key] = strip_node(value)
        else:
            result[key] = value
    return result


def strip_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an OpenAPI v2 document the walk needs: {kinds: {"group/version/Kind":
    definition}, definitions: {name: stripped schema}}."""
    definitions = document.get("definitions") or {}
    kinds: dict[str, str] = {}
    for name, definition in definitions.items():
        for gvk in definition.get("x-kubernetes-group-version-kind") or []:
            kinds[gvk_key(gvk.get("group") or "", gvk.get("version") or "",
                          gvk.get("kind") or "")] = name
    return {"kinds": kinds, "definitions": {n: strip_node(d) for n, d in definitions.items()}}


def gvk_key(group: str, version: str, kind: str) -> str:
    return f"{group}/{version}/{kind}"


def object_key(obj: Mapping[str, Any]) -> str:
    group, _, version = str(obj.get("apiVersion")).rpartition("/")
    return gvk_key(group, version, str(obj.get("kind")))


@dataclass(frozen=True)
class Schema:
    """A stripped OpenAPI v2 document (strip_document), from one server."""

    kinds: Mapping[str, str]
    definitions: Mapping[str, Any]

    @classmethod
    def of(cls, stripped: Mapping[str, Any]) -> Schema:
        return cls(stripped.get("kinds") or {}, stripped.get("definitions") or {})

    def resolve(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, Mapping) and "$ref" in node and seen < 50:
            node = self.definitions.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
            seen += 1
        return node


def crd_schemas(objects: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """"group/version/Kind" -> openAPIV3Schema of the CRDs among `objects` (apiextensions v1:
    per version; v1beta1: per version or the CRD's one `validation`)."""
    found: dict[str, Any] = {}
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition":
            continue
        spec = obj.get("spec") or {}
        kind, group = str((spec.get("names") or {}).get("kind")), str(spec.get("group"))
        shared = (spec.get("validation") or {}).get("openAPIV3Schema")
        versions = spec.get("versions") or (
            [{"name": spec["version"]}] if spec.get("version") else [])
        for version in versions:
            schema = (version.get("schema") or {}).get("openAPIV3Schema") or shared
            if schema is not None:
                found[gvk_key(group, str(version.get("name")), kind)] = strip_node(schema)
    return found


def unknown_fields(schema: Schema, node: Any, value: Any, path: str = "") -> Iterator[str]:
    """The dotted paths (list items as [i]) of the keys in `value` its schema `node` lacks."""
    node = schema.resolve(node)
    if not isinstance(node, Mapping) or node.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, list) and isinstance(node.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from unknown_fields(schema, node["items"], item, f"{path}[{index}]")
    if not isinstance(value, Mapping):
        return
    properties = node.get("properties")
    extra = node.get("additionalProperties")
    embedded = bool(node.get("x-kubernetes-embedded-resource"))
    for key, item in value.items():
        where = f"{path}.{key}" if path else str(key)
        if isinstance(properties, Mapping) and key in properties:
            yield from unknown_fields(schema, properties[key], item, where)
        elif isinstance(extra, Mapping):
            yield from unknown_fields(schema, extra, item, where)
        elif (isinstance(properties, Mapping) and not extra
                and not (embedded and key in ROOT_FIELDS)):
            yield where


BUILT_IN = "io.k8s."  # definitions of the server's own kinds: fixed by its version


@dataclass(frozen=True)
class Judged:
    """One object's unknown fields; `known`: its kind has a schema (the CRDs' among the
    objects, or the server's); `fixed`: that schema cannot change while the server's version
    stays (a built-in kind, or a CRD among the objects), so a cached copy cannot be stale."""

    fields: tuple[str, ...]
    known: bool
    fixed: bool


def judge(schema: Schema, manifest: Mapping[str, Any], obj: Mapping[str, Any]) -> Judged:
    """The unknown fields of one object (`manifest`: crd_schemas of the objects)."""
    key = object_key(obj)
    if key in manifest:
        body = {k: v for k, v in obj.items() if k not in ROOT_FIELDS}  # not in a CRD's schema
        return Judged(tuple(unknown_fields(schema, manifest[key], body)), True, True)
    name = schema.kinds.get(key)
    if name is None:
        return Judged((), False, False)
    fields = unknown_fields(schema, {"$ref": f"#/definitions/{name}"}, obj)
    return Judged(tuple(fields), True, name.startswith(BUILT_IN))


@dataclass(frozen=True)
class Finding:
    """The unknown fields of one object, and where the object came from."""

    origin: str
    ref: str
    fields: tuple[str, ...]

    def lines(self) -> list[str]:
        return [f"{self.origin}: {self.ref}: unknown field {field}" for field in self.fields]


@dataclass(frozen=True)
class Findings:
    found: list[Finding]
    missing: list[str]  # kinds without a schema ("group/version/Kind")
    stale_possible: bool  # a kind missing, or a field unknown to a schema that may have changed


def find(schema: Schema, objects: Sequence[Mapping[str, Any]], refs: Sequence[str],
         origins: Sequence[str]) -> Findings:
    """The unknown fields of every object. `refs` and `origins` are aligned with `objects`
    (the object as `kind namespace/name`, the file it came from)."""
    manifest = crd_schemas(objects)
    found, missing, stale = [], [], False
    for obj, ref, origin in zip(objects, refs, origins, strict=True):
        judged = judge(schema, manifest, obj)
        if not judged.known:
            missing.append(object_key(obj))
        if judged.fields:
            found.append(Finding(origin, ref, judged.fields))
        stale = stale or not judged.known or bool(judged.fields and not judged.fixed)
    return Findings(found, missing, stale)
