"""What the service layer needs from a Docker Engine, as a Protocol with one adapter
(docker_engine.Engine, over docker-py), and the few facts every Engine object answer shares.
The Kubernetes plugin's analogue is cloudify_kubernetes/backend.py.

The adapter speaks the Engine API's own JSON (plain dicts) and raises the errors of
cloudify_shared.errors: NotFound, TransientError, UserError, or EngineRefused (below) for a
request the Engine refused for a value in it. No ctx, no I/O, no docker import here.
"""
from __future__ import annotations

from typing import Any, Protocol

from cloudify_shared.errors import UserError


class EngineRefused(UserError):
    """The Engine refused a request for a value in it (docker_engine.refused_for_its_content
    decides): a UserError its caller may name with where the value came from (stacks.py: the
    compose file, the service, the key). `said`: the Engine's own words, without our action."""

    def __init__(self, message: str, said: str = "") -> None:
        super().__init__(message)
        self.said = said


class EngineApi(Protocol):
    """One Engine connection. Every method raises NotFound / TransientError / UserError."""

    def service_by_name(self, name: str) -> dict[str, Any] | None: ...
    def find_services(self, labels: dict[str, str],
                      name: str | None = None) -> list[dict[str, Any]]: ...
    def inspect_service(self, service_id: str) -> dict[str, Any]: ...
    def create_service(self, spec: dict[str, Any]) -> str: ...
    def update_service(self, service_id: str, version: int, spec: dict[str, Any]) -> None: ...
    def remove_service(self, service_id: str) -> None: ...
    def service_tasks(self, service_id: str) -> list[dict[str, Any]]: ...
    def containers(self, labels: dict[str, str]) -> list[dict[str, Any]]: ...
    def container_logs(self, container_id: str, tail: int) -> str: ...
    def node_names(self) -> dict[str, str]: ...
    def find_objects(self, kind: str, labels: dict[str, str] | None = None,
                     name: str | None = None) -> list[dict[str, Any]]: ...
    def create_object(self, kind: str, name: str, labels: dict[str, str],
                      **options: Any) -> str: ...
    def remove_object(self, kind: str, object_id: str) -> None: ...


# ----------------------------------------------------------------------------- object answers

def object_labels(attrs: dict[str, Any]) -> dict[str, str]:
    """Networks and volumes carry Labels at the top, secrets and configs under Spec."""
    return dict(attrs.get("Labels") or (attrs.get("Spec") or {}).get("Labels") or {})


def object_name(attrs: dict[str, Any]) -> str:
    """Networks and volumes carry Name at the top, secrets and configs under Spec."""
    return str(attrs.get("Name") or (attrs.get("Spec") or {}).get("Name", ""))


def object_id(attrs: dict[str, Any]) -> str:
    """Networks, secrets and configs have an id; volumes are known by name."""
    return str(attrs.get("ID") or attrs.get("Id") or attrs.get("Name"))
