"""Fields the cluster would drop, found before anything is applied (issue 27).

An API server older than 1.25 has no server-side field validation: it decodes an object and
silently drops every field its schema lacks (a Job's `completionMode` on 1.20 makes a plain Job;
a custom resource's unknown fields are pruned). `kubectl apply` refuses them from the server's
own OpenAPI v2 schema; `check_fields` does the same walk (openapi_schema) over every object of
an operation before the first is applied, with the schema schema_cache keeps on disk.

The modes (the Microservice property `field_validation`): strict refuses with one UserError
that names, for each object, the file it came from, the object (kind namespace/name) and every
unknown field's path; warn logs the same lines and applies (kubectl over SSH then applies with
--validate=false); ignore does not look. Service layer: no ctx.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from cloudify_kubernetes.backend import ClusterBackend, ObjectRef, UnknownKind
from cloudify_kubernetes.engine import Options, place
from cloudify_kubernetes.manifests import crd_kinds
from cloudify_kubernetes.openapi_schema import Finding, find
from cloudify_kubernetes.schema_cache import SchemaCache
from cloudify_shared.errors import UserError

STRICT, WARN, IGNORE = "strict", "warn", "ignore"
MODES = (STRICT, WARN, IGNORE)
MAX_LISTED = 20  # unknown fields named in one error


def check_mode(mode: Any, where: str = "properties.field_validation") -> str:
    if mode not in MODES:
        raise UserError(f"{where}: expected one of {', '.join(MODES)}, got {mode!r}")
    return str(mode)


def check_fields(backend: ClusterBackend, objects: list[dict[str, Any]], origins: list[str],
                 options: Options, cache: SchemaCache, logger: logging.Logger) -> None:
    """Before anything is applied: the fields of `objects` the server's schema lacks (it would
    drop them) refuse the operation (strict) or are logged (warn), each named with its origin
    (`origins`, aligned with `objects`), its object and its path; ignore does not look. The
    cached schema is asked again once when a kind is missing from it or a field is unknown
    to a schema that may have changed since (a CRD's: openapi_schema.Judged)."""
    mode = options.field_validation
    if mode == IGNORE or not objects:
        return
    version = backend.server_version()
    namespaced = namespaced_crd_kinds(objects)
    refs = [str(ref_of(backend, obj, options.default_namespace, namespaced)) for obj in objects]
    cached = cache.load(backend, version)
    result = find(cached.schema, objects, refs, origins)
    if result.stale_possible and not cached.fetched:
        cached = cache.refresh(backend, version, cached)
        result = find(cached.schema, objects, refs, origins)
    if result.missing:
        logger.debug("field validation: no schema for %s", ", ".join(sorted(set(result.missing))))
    if not result.found:
        return
    server = f"Kubernetes {version}"
    if mode == STRICT:
        raise refusal(result.found, server)
    for finding in result.found:
        for line in finding.lines():
            logger.warning("field unknown to the cluster (%s), which drops it "
                           "(field_validation: warn): %s", server, line)


def ref_of(backend: ClusterBackend, obj: dict[str, Any], default_namespace: str,
           namespaced: set[tuple[str, str]]) -> ObjectRef:
    """The object as it will be applied (its namespace placed); a custom resource whose CRD
    is among the objects (`namespaced`: the kinds of those whose scope is Namespaced) as its
    CRD will place it."""
    try:
        return ObjectRef.of(place(backend, obj, default_namespace))
    except UnknownKind:
        ref = ObjectRef.of(obj)
        if (ref.api_version, ref.kind) in namespaced and not ref.namespace:
            return dataclasses.replace(ref, namespace=default_namespace)
        return ref


def namespaced_crd_kinds(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(apiVersion, kind) of the custom resources of Namespaced CRDs among `objects`."""
    return {key for obj in objects if obj.get("kind") == "CustomResourceDefinition"
            and (obj.get("spec") or {}).get("scope") == "Namespaced"
            for key in crd_kinds([obj])}


def refusal(findings: Sequence[Finding], server: str) -> UserError:
    """One UserError naming every unknown field (the first MAX_LISTED) and the switch."""
    lines = [line for f in findings for line in f.lines()]
    shown = lines[:MAX_LISTED] + ([f"... and {len(lines) - MAX_LISTED} more"]
                                  if len(lines) > MAX_LISTED else [])
    return UserError(f"{len(lines)} field(s) unknown to the cluster ({server}), which would "
                     "drop them silently; nothing was applied:\n  " + "\n  ".join(shown)
                     + "\n  (fix or remove them; field_validation: warn applies anyway)")
