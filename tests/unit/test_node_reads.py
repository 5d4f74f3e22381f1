"""How many node reads each Swarm and Kubernetes operation makes (issue 15). In the cfy local
profile every read of a node (`ctx.node`'s first use, every relationship target's `.node`)
parses the whole deployment.json, so an operation that reads nodes it does not need costs
O(N) per operation, O(N^2) per install. These run the operations on Cloudify's own context
classes (cloudify.context.CloudifyContext, local, as the local workflow dispatcher builds
them) over the deployment storage of the real scale blueprint (parsed offline), counting
`get_node` calls; the Engine and the Kubernetes API are faked.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudify.context import CloudifyContext
from cloudify.exceptions import NonRecoverableError
from cloudify.workflows import local

from benchmarks.scale_blueprints import kubernetes_blueprint, render_blueprint, swarm_blueprint
from cloudify_kubernetes import tasks as k8s_tasks
from cloudify_swarm import objects, services
from cloudify_swarm import tasks as swarm_tasks
from tests.helpers.local_workflows import offline_resolver

SWARM_ENDPOINT = {"docker_host": "tcp://127.0.0.1:2375", "tls": {"verify": False}, "timeout": 60}


class CountingStorage:
    """The deployment storage an operation's LocalEndpoint reads, counting node reads."""

    def __init__(self, storage: Any) -> None:
        self._storage = storage
        self.node_reads: list[str] = []

    def get_node(self, node_id: str, evaluate_functions: bool = False) -> Any:
        self.node_reads.append(node_id)
        return self._storage.get_node(node_id, evaluate_functions)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)


def deploy(tmp_path: Path, text: str) -> CountingStorage:
    blueprint = tmp_path / "blueprint.yaml"
    blueprint.write_text(text)
    env = local.init_env(str(blueprint), name="reads", resolver=offline_resolver())
    return CountingStorage(env.storage)


def instance_of(storage: CountingStorage, node_id: str) -> Any:
    (instance,) = [i for i in storage.get_node_instances() if i.node_id == node_id]
    return instance


def set_runtime(storage: CountingStorage, node_id: str, **values: Any) -> None:
    instance = instance_of(storage, node_id)
    storage.update_node_instance(instance.id, instance.version,
                                 runtime_properties={**instance.runtime_properties, **values})


def node_ctx(storage: CountingStorage, node_id: str, operation: str) -> CloudifyContext:
    instance = instance_of(storage, node_id)
    return CloudifyContext({"local": True, "storage": storage, "deployment_id": "reads",
                            "blueprint_id": "reads", "node_id": instance.id, "node_name": node_id,
                            "operation": {"name": operation}, "task_name": operation})


def relationship_ctx(storage: CountingStorage, source: str, target: str,
                     operation: str) -> CloudifyContext:
    source_instance, target_instance = instance_of(storage, source), instance_of(storage, target)
    return CloudifyContext({
        "local": True, "storage": storage, "deployment_id": "reads", "blueprint_id": "reads",
        "node_id": source_instance.id, "node_name": source, "operation": {"name": operation},
        "task_name": operation,
        "related": {"node_id": target_instance.id, "node_name": target, "is_target": True}})


def reads(storage: CountingStorage, call: Any) -> list[str]:
    """The node reads `call` makes, the runtime properties it changed written back (as the
    dispatcher does when the operation ends)."""
    storage.node_reads.clear()
    ctx = call()
    read = list(storage.node_reads)
    for subject in ([ctx.source, ctx.target] if ctx.type == "relationship-instance" else [ctx]):
        instance = subject.instance
        if instance._node_instance is not None and instance._node_instance.dirty:
            instance.update()
    return read


class FakeEngine:
    def close(self) -> None:
        pass


@pytest.fixture
def swarm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CountingStorage:
    storage = deploy(tmp_path, swarm_blueprint(2))
    set_runtime(storage, "swarm", swarm_info={"endpoint": SWARM_ENDPOINT})
    engine = FakeEngine()

    @contextlib.contextmanager
    def engine_for(*_: Any) -> Iterator[FakeEngine]:
        yield engine

    monkeypatch.setattr(swarm_tasks, "engine_for", engine_for)
    monkeypatch.setattr(swarm_tasks, "connect", lambda *_: engine)
    monkeypatch.setattr(objects, "ensure_objects", lambda *_: {})
    monkeypatch.setattr(services, "deploy_service", lambda *_: "service-id")
    monkeypatch.setattr(services, "service_facts", lambda *_: {"id": "service-id"})
    monkeypatch.setattr(services, "remove_services", lambda *_, **__: None)
    monkeypatch.setattr(objects, "remove_objects", lambda *_, **__: None)
    return storage


def run(op: Any, ctx: CloudifyContext, **inputs: Any) -> CloudifyContext:
    op(ctx=ctx, **inputs)
    return ctx


def test_a_swarm_install_reads_each_node_it_needs_once(swarm: CountingStorage) -> None:
    create = "cloudify.interfaces.lifecycle.create"
    # the Microservice: its own properties; its host (a lone contained_in) carries the
    # endpoint, so the host's node is not read
    assert reads(swarm, lambda: run(swarm_tasks.microservice_create,
                                    node_ctx(swarm, "svc0", create))) == ["svc0"]
    # start applies what create recorded: no node read without secret or config contents
    assert reads(swarm, lambda: run(swarm_tasks.microservice_start,
                                    node_ctx(swarm, "svc0", "start"))) == []
    # the Container's properties are parsed by its start, which reads them anyway; create
    # claims the Microservice and start publishes onto it without reading its node (issue 28)
    assert reads(swarm, lambda: run(swarm_tasks.container_create,
                                    node_ctx(swarm, "svc0_container", create))) == []
    assert reads(swarm, lambda: run(swarm_tasks.container_start,
                                    node_ctx(swarm, "svc0_container",
                                             "start"))) == ["svc0_container"]
    assert instance_of(swarm, "svc0").runtime_properties["service"] == {"id": "service-id"}


def test_a_swarm_uninstall_reads_no_node(swarm: CountingStorage) -> None:
    create = "cloudify.interfaces.lifecycle.create"
    for op, node in ((swarm_tasks.microservice_create, "svc1"),
                     (swarm_tasks.container_create, "svc1_container")):
        reads(swarm, lambda op=op, node=node: run(op, node_ctx(swarm, node, create)))
    assert "container" in instance_of(swarm, "svc1").runtime_properties  # create claimed
    steps = [(swarm_tasks.container_stop, node_ctx, ("svc1_container", "stop")),
             (swarm_tasks.container_delete, node_ctx, ("svc1_container", "delete")),
             (swarm_tasks.microservice_stop, node_ctx, ("svc1", "stop")),
             (swarm_tasks.microservice_delete, node_ctx, ("svc1", "delete"))]
    for op, make, args in steps:
        assert reads(swarm, lambda op=op, make=make,
                     args=args: run(op, make(swarm, *args))) == [], op
    assert "container" not in instance_of(swarm, "svc1").runtime_properties  # delete released


def hosted_elsewhere(tmp_path: Path, *relationships: dict[str, str]) -> CountingStorage:
    """A Microservice `svc0` with `relationships`, beside a Manager `swarm` carrying its endpoint
    and a plain node `box` carrying one too."""
    nodes = {"swarm": {"type": "cloudify.swarm.Manager"}, "box": {"type": "cloudify.nodes.Root"},
             "svc0": {"type": "cloudify.swarm.Microservice", "relationships": list(relationships)}}
    storage = deploy(tmp_path, render_blueprint(nodes))
    set_runtime(storage, "swarm", swarm_info={"endpoint": SWARM_ENDPOINT})
    return storage


def create_error(storage: CountingStorage) -> tuple[str, list[str]]:
    with pytest.raises(NonRecoverableError) as raised:
        reads(storage, lambda: run(swarm_tasks.microservice_create, node_ctx(
            storage, "svc0", "cloudify.interfaces.lifecycle.create")))
    return str(raised.value), list(storage.node_reads)


def test_a_host_without_the_endpoint_is_read_and_refused_when_it_is_no_manager(
    tmp_path: Path,
) -> None:
    storage = hosted_elsewhere(tmp_path,
                               {"type": "cloudify.relationships.contained_in", "target": "box"})
    message, read = create_error(storage)
    assert ("needs exactly one relationship to a cloudify.swarm.Manager, or to a node "
            "carrying" in message)
    assert "found 0" in message and read == ["svc0", "box"]


def test_a_host_beside_a_connected_to_manager_is_checked_by_type(tmp_path: Path) -> None:
    storage = hosted_elsewhere(
        tmp_path, {"type": "cloudify.relationships.contained_in", "target": "swarm"},
        {"type": "cloudify.swarm.relationships.connected_to_manager", "target": "box"})
    message, read = create_error(storage)
    assert "found 2" in message and "swarm" in read  # not taken for the Manager unread


def test_start_reads_the_properties_again_for_secret_contents(swarm: CountingStorage) -> None:
    reads(swarm, lambda: run(swarm_tasks.microservice_create,
                             node_ctx(swarm, "svc0", "cloudify.interfaces.lifecycle.create")))
    instance = instance_of(swarm, "svc0")
    recorded = dict(instance.runtime_properties["service_config"])
    recorded["secrets"] = [{"name": "s", "data": None, "file": None, "target": None,
                            "create": True}]
    set_runtime(swarm, "svc0", service_config=recorded)
    assert reads(swarm, lambda: run(swarm_tasks.microservice_start,
                                    node_ctx(swarm, "svc0", "start"))) == ["svc0"]


def test_a_kubernetes_microservice_reads_its_master_only_for_inline_credentials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = deploy(tmp_path, kubernetes_blueprint(1, "reads"))
    info = {"mode": "api", "api": {"host": "https://127.0.0.1:6443", "token_file": "/t"}}
    set_runtime(storage, "master", kubernetes_info=info)
    assert reads(storage, lambda: run(k8s_tasks.connect_to_master, relationship_ctx(
        storage, "svc0", "master", "preconfigure"))) == []
    ctx = node_ctx(storage, "svc0", "start")
    settings = k8s_tasks._settings(ctx, {})
    storage.node_reads.clear()
    k8s_tasks._connection(ctx, settings)
    assert storage.node_reads == []

    set_runtime(storage, "master",
                kubernetes_info={**info, "api": {**info["api"], "inline_credentials": True}})
    assert reads(storage, lambda: run(k8s_tasks.connect_to_master, relationship_ctx(
        storage, "svc0", "master", "preconfigure"))) == ["master"]
    storage.node_reads.clear()
    k8s_tasks._connection(node_ctx(storage, "svc0", "start"), settings)
    assert storage.node_reads == ["master"]  # the relationship is found by its type name


def applied_microservice(tmp_path: Path) -> CountingStorage:
    """A Kubernetes Microservice that applied one Deployment."""
    storage = deploy(tmp_path, kubernetes_blueprint(1, "reads"))
    info = {"mode": "api", "api": {"host": "https://127.0.0.1:6443", "token_file": "/t"}}
    applied = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "reads-0",
                "namespace": "default", "uid": "u1", "preexisting": False, "pending": False}]
    set_runtime(storage, "svc0", kubernetes_info=info, objects=applied)
    return storage


def test_a_kubernetes_uninstall_reads_its_node_once_and_delete_finishes_what_stop_began(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = applied_microservice(tmp_path)
    removals: list[tuple[float, bool]] = []

    @contextlib.contextmanager
    def connected(*_: Any) -> Iterator[object]:
        yield object()

    def remove(backend: Any, known: Any, timeout: float, logger: Any, labels: Any,
               keep: bool, wait: bool = True) -> None:
        removals.append((timeout, wait))

    monkeypatch.setattr(k8s_tasks, "connected", connected)
    monkeypatch.setattr(k8s_tasks.engine, "remove", remove)
    assert reads(storage,
                 lambda: run(k8s_tasks.microservice_stop, node_ctx(storage, "svc0", "stop"),
                                      timeout=42)) == ["svc0"]
    assert instance_of(storage, "svc0").runtime_properties["removal"] == {
        "timeout": 42, "keep_volume_claims": False}
    assert reads(storage, lambda: run(k8s_tasks.microservice_delete,
                                      node_ctx(storage, "svc0", "delete"))) == []
    assert removals == [(42.0, False), (42.0, True)]  # the stop's timeout input holds for delete
    left = instance_of(storage, "svc0").runtime_properties
    assert "objects" not in left and "removal" not in left


def test_a_kubernetes_start_after_a_lone_stop_finishes_the_removal_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The restart workflow runs stop then start, without delete."""
    storage = applied_microservice(tmp_path)
    steps: list[str] = []

    @contextlib.contextmanager
    def connected(*_: Any) -> Iterator[object]:
        yield object()

    monkeypatch.setattr(k8s_tasks, "connected", connected)
    monkeypatch.setattr(k8s_tasks.engine, "remove", lambda *_,
                        wait=True: steps.append(f"remove wait={wait}"))
    monkeypatch.setattr(k8s_tasks, "_deploy", lambda ctx, settings: steps.append(
        f"deploy, objects recorded: {len(ctx.instance.runtime_properties.get('objects') or [])}"))
    reads(storage, lambda: run(k8s_tasks.microservice_stop, node_ctx(storage, "svc0", "stop")))
    reads(storage, lambda: run(k8s_tasks.microservice_start, node_ctx(storage, "svc0", "start")))
    assert steps == ["remove wait=False", "remove wait=True", "deploy, objects recorded: 0"]
    assert "removal" not in instance_of(storage, "svc0").runtime_properties
    steps.clear()  # a plain start (no stop before it) removes nothing
    reads(storage, lambda: run(k8s_tasks.microservice_start, node_ctx(storage, "svc0", "start")))
    assert steps == ["deploy, objects recorded: 0"]


def test_a_swarm_container_start_after_a_lone_stop_waits_for_the_old_containers(
        swarm: CountingStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[str] = []
    monkeypatch.setattr(services, "wait_services_gone",
                        lambda engine, owner, logger, names=None, name=None,
                        timeout=0: waits.append(str(name)))
    create = "cloudify.interfaces.lifecycle.create"
    for op, node in ((swarm_tasks.microservice_create, "svc1"),
                     (swarm_tasks.container_create, "svc1_container")):
        reads(swarm, lambda op=op, node=node: run(op, node_ctx(swarm, node, create)))
    start = lambda: run(swarm_tasks.container_start, node_ctx(swarm, "svc1_container", "start"))  # noqa: E731
    reads(swarm, start)
    assert waits == []  # a first start has nothing to wait for
    reads(swarm, lambda: run(swarm_tasks.container_stop, node_ctx(swarm, "svc1_container", "stop")))
    assert instance_of(swarm, "svc1_container").runtime_properties["removing"] is True
    reads(swarm, start)
    assert len(waits) == 1 and "removing" not in instance_of(swarm,
                                                             "svc1_container").runtime_properties
