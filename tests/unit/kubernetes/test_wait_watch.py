"""waits.wait_ready pauses between polls through the backend's watch on the first object still
waiting, from the resourceVersion it just read (the real watch: tests/integration/kubernetes/
test_watch.py)."""
from __future__ import annotations

import logging
from typing import Any, cast

from cloudify_kubernetes.backend import ClusterBackend, ObjectRef
from cloudify_kubernetes.waits import wait_ready

DEPLOYMENT = ObjectRef("apps/v1", "Deployment", "web", "default")
SERVICE = ObjectRef("v1", "Service", "web", "default")


class Rollout:
    """A Deployment ready at its third read (each read a new resourceVersion) and a Service."""

    def __init__(self) -> None:
        self.reads = 0
        self.watched: list[tuple[ObjectRef, str, float]] = []

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        if ref == SERVICE:
            return {"kind": "Service", "metadata": {"name": "web", "resourceVersion": "7"},
                    "spec": {"type": "ClusterIP"}}
        self.reads += 1
        ready = 1 if self.reads >= 3 else 0
        return {"kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default", "generation": 1,
                             "resourceVersion": str(100 + self.reads)},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}},
                "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                           "availableReplicas": ready, "readyReplicas": ready}}

    def list_objects(self, *_: Any) -> list[dict[str, Any]]:
        return []

    def watch(self, ref: ObjectRef, version: str, timeout: float) -> None:
        self.watched.append((ref, version, timeout))


def test_the_wait_watches_the_waiting_object_from_the_version_it_read() -> None:
    backend = Rollout()
    wait_ready(cast(ClusterBackend, backend), [SERVICE, DEPLOYMENT], 30,
               logging.getLogger("test"))
    assert backend.reads == 3
    assert [(ref, version) for ref, version, _ in backend.watched] == [
        (DEPLOYMENT, "101"), (DEPLOYMENT, "102")]
    assert all(0 < timeout <= 0.5 for _, _, timeout in backend.watched)
