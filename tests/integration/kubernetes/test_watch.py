"""ApiBackend.watch on the real API server: it returns at the first change after the version it
is given (a change made meanwhile included), and after its timeout when nothing changes. The
readiness wait pauses through it between two polls (waits.wait_ready)."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from cloudify_kubernetes.api_backend import ApiBackend, open_api_client
from cloudify_kubernetes.backend import ObjectRef
from cloudify_kubernetes.connection import parse_api
from tests.helpers.paths import KUBECONFIG

pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]


def read(path: str) -> str:
    with open(path) as handle:
        return handle.read()


@pytest.fixture
def config_map() -> Iterator[tuple[ApiBackend, ObjectRef]]:
    backend = ApiBackend(open_api_client(parse_api({"kubeconfig": str(KUBECONFIG)}, "api"),
                                         read))
    ref = ObjectRef("v1", "ConfigMap", f"watch-{uuid.uuid4().hex[:6]}", "default")
    backend.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": ref.name, "namespace": "default"}, "data": {"n": "0"}})
    try:
        yield backend, ref
    finally:
        backend.delete(ref)  # foreground: gone once the garbage collector drops its finalizer
        deadline = time.monotonic() + 60
        while backend.get(ref) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert backend.get(ref) is None
        backend.close()


def version(backend: ApiBackend, ref: ObjectRef) -> str:
    live = backend.get(ref)
    assert live is not None
    return str(live["metadata"]["resourceVersion"])


def change(backend: ApiBackend, ref: ObjectRef, value: str) -> None:
    backend.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": ref.name, "namespace": "default"}, "data": {"n": value}})


def timed_watch(backend: ApiBackend, ref: ObjectRef, seen: str, timeout: float) -> float:
    start = time.monotonic()
    backend.watch(ref, seen, timeout)
    return time.monotonic() - start


def test_watch_returns_at_a_change_not_at_its_timeout(
        config_map: tuple[ApiBackend, ObjectRef]) -> None:
    backend, ref = config_map
    seen = version(backend, ref)
    later = threading.Timer(0.5, change, (backend, ref, "1"))
    later.start()
    try:
        took = timed_watch(backend, ref, seen, 20)
    finally:
        later.join()
    assert 0.4 <= took < 10, f"the watch returned after {took:.2f}s; the change came at 0.5s"


def test_watch_returns_at_once_for_a_change_made_before_it(
        config_map: tuple[ApiBackend, ObjectRef]) -> None:
    backend, ref = config_map
    seen = version(backend, ref)
    change(backend, ref, "2")
    took = timed_watch(backend, ref, seen, 20)
    assert took < 10, f"the watch returned after {took:.2f}s for a change already made"


def test_watch_without_a_change_returns_after_its_timeout(
        config_map: tuple[ApiBackend, ObjectRef]) -> None:
    backend, ref = config_map
    took = timed_watch(backend, ref, version(backend, ref), 0.7)
    assert 0.65 <= took < 5, f"the watch of 0.7s returned after {took:.2f}s"
    # the client is still usable after a stream cut short
    assert backend.get(ref) is not None
