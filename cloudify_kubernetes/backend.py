"""The few verbs the engine needs from a cluster, as a Protocol with two adapters:
api_backend (the Kubernetes API through the dynamic client) and kubectl_ssh_backend (kubectl on a
master reached over SSH). Both speak plain dicts (the API's JSON) and raise the errors of
cloudify_shared.errors. No ctx, no I/O here.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cloudify_shared.errors import UserError

FIELD_MANAGER = "cloudify-vnf-suite"
# /openapi/v2 of 1.20 is 3.7 MB; clusters with hundreds of CRDs reach tens of MB
MAX_SCHEMA_BYTES = 64 * 1024 * 1024


class UnknownKind(UserError):
    """The cluster does not know this apiVersion/kind (e.g. its CRD is gone). The one UserError
    a wait for deletion may read as "gone": a 401/403 is a UserError too, and never means gone."""


class NotOurs(UserError):
    """A delete whose uid precondition failed: an object of that name is there, but not the
    one recorded (it was deleted and made again, by someone else). It is left in place."""


@dataclass(frozen=True)
class ObjectRef:
    api_version: str
    kind: str
    name: str
    namespace: str | None = None
    uid: str = field(default="", compare=False)

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectRef:
        meta = obj.get("metadata") or {}
        return cls(str(obj.get("apiVersion")), str(obj.get("kind")), str(meta.get("name")),
                   meta.get("namespace"), str(meta.get("uid") or ""))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ObjectRef:
        return cls(data["apiVersion"], data["kind"], data["name"], data.get("namespace"),
                   data.get("uid") or "")

    def as_dict(self) -> dict[str, Any]:
        return {"apiVersion": self.api_version, "kind": self.kind, "namespace": self.namespace,
                "name": self.name, "uid": self.uid}

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


# How a deletion propagates (delete_options): FOREGROUND, the object goes after its dependents
# (what a removal asks for its workloads); BACKGROUND, at once, its dependents after it (a pod,
# which has none); NOW, a pod's object at once without waiting for its kubelet (grace period 0).
FOREGROUND, BACKGROUND, NOW = "foreground", "background", "now"


def pod_ref(pod: Mapping[str, Any]) -> ObjectRef:
    """The ref of a pod as a list returns it (items carry no apiVersion and kind)."""
    return ObjectRef.of({**pod, "apiVersion": "v1", "kind": "Pod"})


def delete_options(ref: ObjectRef, mode: str = FOREGROUND) -> dict[str, Any]:
    """The DeleteOptions of a deletion in `mode`, with the uid precondition when `ref` has one."""
    options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1",
                               "propagationPolicy": "Foreground" if mode == FOREGROUND
                               else "Background"}
    if mode == NOW:
        options["gracePeriodSeconds"] = 0
    if ref.uid:  # only the object we made or adopted, not one made again under its name
        options["preconditions"] = {"uid": ref.uid}
    return options


class ClusterBackend(Protocol):
    """One cluster connection. Every method raises UserError / NotFound / TransientError."""

    def namespaced(self, api_version: str, kind: str) -> bool:
        """Whether the kind is namespaced; UnknownKind when the cluster does not know it."""

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        """The live object, or None when it does not exist."""

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create or update (server-side apply, field manager FIELD_MANAGER); the live object."""

    def replace(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the whole object (PUT, unconditional); restores a previous spec exactly."""

    def delete(self, ref: ObjectRef, mode: str = FOREGROUND) -> None:
        """Delete (foreground unless `mode` says otherwise: delete_options); an object already
        gone is fine. With `ref.uid`, only the object of that uid (a precondition): another one
        of that name raises NotOurs. NOW only for a pod its kubelet has stopped
        (pod_removal.stopped_pod)."""

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
             label_selector: str) -> list[dict[str, Any]]:
        """Objects of a kind matching a label selector (all namespaces when namespace is None)."""

    def watch(self, ref: ObjectRef, version: str, timeout: float) -> None:
        """Return once the object has changed since its resourceVersion `version`, or after
        `timeout` seconds, whichever is first (a backend that cannot watch sleeps). Raises
        nothing: a watch that fails waits out its time and the caller reads the object again."""

    def events(self, ref: ObjectRef) -> list[dict[str, Any]]:
        """Events about one object (empty when there are none)."""

    def logs(self, namespace: str, pod: str, container: str | None, tail: int) -> str:
        """The last `tail` log lines of a container ('' when there are none)."""

    def server_endpoint(self) -> str:
        """Where the API server is reached (names its schema's cache file)."""

    def server_version(self) -> str:
        """The API server's gitVersion (v1.20.2)."""

    def openapi_v2(self, etag: str | None) -> tuple[bytes | None, str | None]:
        """The server's /openapi/v2 document and its ETag; (None, etag) while `etag` is
        current (where the backend can ask conditionally). A UserError beyond
        MAX_SCHEMA_BYTES."""

    def close(self) -> None:
        """Release connections."""


def live_object(backend: ClusterBackend, ref: ObjectRef) -> dict[str, Any] | None:
    """The object `ref` names as it is now, or None when it is gone: with a uid, that very object
    (another one made under its name since does not count); an unknown kind (its CRD gone) is
    gone too."""
    try:
        live = backend.get(ref)
    except UnknownKind:
        return None
    if live is None:
        return None
    uid = str((live.get("metadata") or {}).get("uid") or "")
    return live if not ref.uid or uid in ("", ref.uid) else None
