"""What helm's storage Secrets say about one release: its revisions, oldest first (each
Secret's labels: owner=helm, name, status, version; status codes, never helm's messages), the
revision a failed upgrade goes back to, who owns it (this suite's ownership labels, which
helm_release puts on the release), and when it began (revision 1's Secret, else the
first_deployed of its latest record). Service layer: no ctx, no helm binary: the cluster only.
"""
from __future__ import annotations

import base64
import binascii
import gzip
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudify_kubernetes.backend import ClusterBackend
from cloudify_kubernetes.volume_claims import parse_time
from cloudify_shared.ownership import MANAGED_BY, MANAGED_BY_VALUE, NODE_INSTANCE, foreign_owner


@dataclass(frozen=True)
class Revision:
    number: int
    status: str
    labels: dict[str, str]


def release_history(backend: ClusterBackend, namespace: str, name: str) -> list[Revision]:
    """The release's revisions, oldest first, from its storage Secrets' labels."""
    found = []
    for secret in backend.list_objects("v1", "Secret", namespace, f"owner=helm,name={name}"):
        labels = dict((secret.get("metadata") or {}).get("labels") or {})
        if str(labels.get("version", "")).isdigit():
            found.append(Revision(int(labels["version"]), str(labels.get("status")), labels))
    return sorted(found, key=lambda r: r.number)


def last_deployed(history: Sequence[Revision]) -> int | None:
    """The revision a failed upgrade goes back to: the deployed one (else the last that was)."""
    deployed = [r.number for r in history if r.status == "deployed"]
    deployed = deployed or [r.number for r in history if r.status == "superseded"]
    return deployed[-1] if deployed else None


def owner_problem(history: Sequence[Revision], labels: Mapping[str, str]) -> str | None:
    """Who else owns the release, or None when it is this node instance's (or new)."""
    if not history:
        return None
    if any(r.labels.get(NODE_INSTANCE) == labels[NODE_INSTANCE]
           and foreign_owner(r.labels, labels) is None for r in history):
        return None
    latest = history[-1].labels
    other = foreign_owner(latest, labels)
    if other:
        return other
    if latest.get(MANAGED_BY) == MANAGED_BY_VALUE:
        return f"node instance {latest.get(NODE_INSTANCE, '?')}"
    return "someone else (it carries no ownership labels of this suite)"


def release_began(backend: ClusterBackend, namespace: str, name: str) -> datetime | None:
    """When the release was first installed: its revision 1's storage Secret was made (the
    API server's clock), else (helm pruned it) the first_deployed of its latest record; None
    when neither reads."""
    secrets = {int(version): secret for secret in backend.list_objects(
                   "v1", "Secret", namespace, f"owner=helm,name={name}")
               if (version := str(_meta(secret, "labels").get("version", ""))).isdigit()}
    if 1 in secrets:
        return parse_time(_meta(secrets[1], "creationTimestamp") or None)
    return first_deployed(secrets[max(secrets)]) if secrets else None


def first_deployed(secret: Mapping[str, Any]) -> datetime | None:
    """The info.first_deployed of the release record a helm storage Secret holds (data.release:
    base64 of the Secret, then helm's base64 of a gzipped JSON)."""
    try:
        data = base64.b64decode(base64.b64decode(str((secret.get("data") or {})["release"])))
        record = json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
        return parse_time(record["info"]["first_deployed"])
    except (KeyError, TypeError, ValueError, binascii.Error, OSError, EOFError):
        return None


def _meta(obj: Mapping[str, Any], key: str) -> Any:
    return (obj.get("metadata") or {}).get(key) or {}
