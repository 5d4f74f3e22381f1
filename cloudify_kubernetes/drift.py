"""Differences between a Microservice's desired objects and the live ones, one line each.

Only fields the descriptors set are compared (what the server defaults or adds is ignored).
Secret values are never shown: a difference under a Secret's data / stringData / binaryData or
in a container env value is reported as "<path>: differs" (stringData is compared with the
decoded live data, as the API server stores it). Pure comparison over a ClusterBackend's reads;
no ctx.
"""
from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from cloudify_kubernetes.backend import ClusterBackend, ObjectRef
from cloudify_kubernetes.engine import Applied, place
from cloudify_kubernetes.naming import keep_live_selector
from cloudify_kubernetes.volume_claims import keep_live_claim_templates

SECRET_FIELDS = {"data", "stringData", "binaryData"}
ENV_ITEM = re.compile(r"(^|\.)env\[\d+\]$")


def drift(backend: ClusterBackend, objects: list[dict[str, Any]], default_namespace: str,
          known: list[Applied] | None = None) -> list[str]:
    """Missing objects, differing fields, and recorded objects the descriptors no longer name."""
    found: list[str] = []
    wanted = set()
    for obj in objects:
        desired = place(backend, obj, default_namespace)
        ref = ObjectRef.of(desired)
        wanted.add(ref)
        live = backend.get(ref)
        if live is None:
            found.append(f"{ref}: missing")
            continue
        # as apply does (not a difference)
        desired = keep_live_claim_templates(keep_live_selector(desired, live), live)
        if desired.get("kind") == "Secret":
            desired = secret_as_stored(desired)
        found += [f"{ref}: {line}"
                  for line in compare(desired, live, "", secret=desired.get("kind") == "Secret")]
    found += [f"{a.ref}: no longer in the descriptors" for a in known or []
              if a.ref not in wanted and not a.preexisting]
    return found


def secret_as_stored(desired: Mapping[str, Any]) -> dict[str, Any]:
    """A Secret's stringData folded into data (base64), as the API server keeps it."""
    result = dict(desired)
    strings = result.pop("stringData", None) or {}
    if strings:
        encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in strings.items()}
        result["data"] = {**(result.get("data") or {}), **encoded}
    return result


def compare(desired: Any, live: Any, path: str, secret: bool = False,
            masked: bool = False) -> list[str]:
    """Paths where `live` differs from `desired` (fields only the server set are ignored)."""
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return [f"{path or '.'}: differs" if masked
                    else f"{path or '.'}: desired a mapping, live {live!r}"]
        lines = []
        for key, value in desired.items():
            child = f"{path}.{key}" if path else str(key)
            hide = masked or (secret and not path and key in SECRET_FIELDS) or \
                (key == "value" and bool(ENV_ITEM.search(path)))
            lines += compare(value, live.get(key), child, secret, hide)
        return lines
    if isinstance(desired, list):
        if not isinstance(live, list) or len(live) != len(desired):
            count = len(live) if isinstance(live, list) else ("none" if masked else live)
            return [f"{path}: desired {len(desired)} item(s), live {count}"]
        return [line for i, (d, v) in enumerate(zip(desired, live, strict=True))
                for line in compare(d, v, f"{path}[{i}]", secret, masked)]
    if desired != live and str(desired) != str(live):
        return [f"{path}: differs" if masked else f"{path}: desired {desired!r}, live {live!r}"]
    return []
