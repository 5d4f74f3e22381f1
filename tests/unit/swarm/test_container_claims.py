"""Issue 28: under contained_in_microservice, which maps no operation of its own, a Container's
own create claims its Microservice, start publishes the service's facts onto it and delete
releases it, as under a generic contained_in. The relationship's former operations stay safe
for plans parsed with an earlier plugin.yaml, where they run beside the node operations. Run on
Cloudify's own context classes over a real local deployment storage (as test_node_reads does),
with the Engine faked."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cloudify.exceptions import NonRecoverableError

from benchmarks.scale_blueprints import swarm_blueprint
from cloudify_swarm import objects, services
from cloudify_swarm import tasks as swarm_tasks
from cloudify_swarm.context.links import IN_MICROSERVICE
from tests.unit.test_node_reads import (
    SWARM_ENDPOINT,
    CountingStorage,
    FakeEngine,
    deploy,
    instance_of,
    node_ctx,
    reads,
    relationship_ctx,
    run,
    set_runtime,
)

CREATE = "cloudify.interfaces.lifecycle.create"
FACTS = {"id": "service-id", "name": "svc0-service"}


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Engine faked; the list records each removal of the Microservice's services."""
    removed: list[str] = []
    engine = FakeEngine()
    monkeypatch.setattr(swarm_tasks, "connect", lambda *_: engine)
    monkeypatch.setattr(objects, "ensure_objects", lambda *_: {})
    monkeypatch.setattr(services, "deploy_service", lambda *_: "service-id")
    monkeypatch.setattr(services, "service_facts", lambda *_: dict(FACTS))
    monkeypatch.setattr(services, "remove_services",
                        lambda *_, **__: removed.append("remove_services"))
    return removed


def deployed(tmp_path: Path, text: str) -> CountingStorage:
    storage = deploy(tmp_path, text)
    set_runtime(storage, "swarm", swarm_info={"endpoint": SWARM_ENDPOINT})
    return storage


def call(storage: CountingStorage, op: Any, node: str, operation: str) -> None:
    """Run a node operation, its runtime properties written back as the dispatcher does."""
    reads(storage, lambda: run(op, node_ctx(storage, node, operation)))


def call_related(storage: CountingStorage, op: Any, operation: str) -> None:
    """Run what an earlier plan maps on svc0_container's contained_in_microservice."""
    reads(storage, lambda: run(op, relationship_ctx(storage, "svc0_container", "svc0",
                                                    operation)))


def runtime(storage: CountingStorage, node: str) -> dict[str, Any]:
    return dict(instance_of(storage, node).runtime_properties)


def test_create_claims_start_publishes_and_delete_releases(tmp_path: Path,
                                                           fake_engine: list[str]) -> None:
    storage = deployed(tmp_path, swarm_blueprint(1))
    container = instance_of(storage, "svc0_container")
    assert [r["type"] for r in container.relationships] == [IN_MICROSERVICE]
    call(storage, swarm_tasks.microservice_create, "svc0", CREATE)
    assert "container" not in runtime(storage, "svc0")
    call(storage, swarm_tasks.container_create, "svc0_container", CREATE)
    assert runtime(storage, "svc0")["container"] == container.id
    assert "service" not in runtime(storage, "svc0")
    call(storage, swarm_tasks.container_start, "svc0_container", "start")
    assert runtime(storage, "svc0")["service"] == FACTS  # where get_attribute users look
    assert runtime(storage, "svc0_container")["service"] == FACTS
    call(storage, swarm_tasks.container_stop, "svc0_container", "stop")
    assert runtime(storage, "svc0")["container"] == container.id  # released by delete
    call(storage, swarm_tasks.container_delete, "svc0_container", "delete")
    left = runtime(storage, "svc0")
    assert "container" not in left and "service" not in left
    assert "invalid" not in left


def two_containers(tmp_path: Path) -> CountingStorage:
    text = swarm_blueprint(1).replace("node_templates:\n", "node_templates:\n  svc0_other:\n"
                                      "    type: cloudify.swarm.Container\n"
                                      "    properties: {image: local/busybox:1}\n"
                                      "    relationships:\n"
                                      f"    - {{type: {IN_MICROSERVICE}, target: svc0}}\n", 1)
    return deployed(tmp_path, text)


def test_a_second_containers_create_fails_and_invalidates_the_microservice(
        tmp_path: Path, fake_engine: list[str]) -> None:
    storage = two_containers(tmp_path)
    call(storage, swarm_tasks.microservice_create, "svc0", CREATE)
    call(storage, swarm_tasks.container_create, "svc0_container", CREATE)
    with pytest.raises(NonRecoverableError, match="microservice 'svc0' already has container"):
        call(storage, swarm_tasks.container_create, "svc0_other", CREATE)
    assert runtime(storage, "svc0")["container"] == instance_of(storage, "svc0_container").id
    assert "already has container" in runtime(storage, "svc0")["invalid"]
    assert fake_engine == ["remove_services"]  # what the first Container's start made goes
    with pytest.raises(NonRecoverableError, match="microservice 'svc0' is invalid"):
        call(storage, swarm_tasks.container_start, "svc0_container", "start")


def test_a_container_in_a_compose_microservice_fails_its_create(tmp_path: Path,
                                                                fake_engine: list[str]) -> None:
    """Refused before any claim, as preconfigure refused it: the stack is the Microservice's
    own (its start deployed it, its uninstall removes it), so it is not invalidated."""
    storage = deployed(tmp_path, swarm_blueprint(1))
    call(storage, swarm_tasks.microservice_create, "svc0", CREATE)
    recorded = runtime(storage, "svc0")["service_config"]
    set_runtime(storage, "svc0", service_config={**recorded, "compose_file": "stack.yml"})
    with pytest.raises(NonRecoverableError, match="deploys a compose file and takes no Container"):
        call(storage, swarm_tasks.container_create, "svc0_container", CREATE)
    left = runtime(storage, "svc0")
    assert "container" not in left and "invalid" not in left and fake_engine == []


def test_a_create_run_again_claims_again(tmp_path: Path, fake_engine: list[str]) -> None:
    """A resumed install, or a heal reinstalling the Container, runs create again."""
    storage = deployed(tmp_path, swarm_blueprint(1))
    call(storage, swarm_tasks.microservice_create, "svc0", CREATE)
    for _ in range(2):
        call(storage, swarm_tasks.container_create, "svc0_container", CREATE)
    assert runtime(storage, "svc0")["container"] == instance_of(storage, "svc0_container").id
    assert "invalid" not in runtime(storage, "svc0") and fake_engine == []


def test_an_earlier_plan_runs_both_and_ends_the_same(tmp_path: Path,
                                                     fake_engine: list[str]) -> None:
    """An earlier plugin.yaml maps preconfigure, establish and unlink on contained_in_microservice:
    install runs create, preconfigure, start, establish; uninstall stop, unlink, delete."""
    storage = deployed(tmp_path, swarm_blueprint(1))
    container_id = instance_of(storage, "svc0_container").id
    call(storage, swarm_tasks.microservice_create, "svc0", CREATE)
    call(storage, swarm_tasks.container_create, "svc0_container", CREATE)
    call_related(storage, swarm_tasks.container_claim, "preconfigure")  # the same holder: passes
    assert runtime(storage, "svc0")["container"] == container_id
    call(storage, swarm_tasks.container_start, "svc0_container", "start")
    call_related(storage, swarm_tasks.container_publish, "establish")  # the same facts again
    assert runtime(storage, "svc0")["service"] == FACTS
    call(storage, swarm_tasks.container_stop, "svc0_container", "stop")
    call_related(storage, swarm_tasks.container_release, "unlink")
    assert "container" not in runtime(storage, "svc0")
    call(storage, swarm_tasks.container_delete, "svc0_container", "delete")  # finds no claim
    call_related(storage, swarm_tasks.container_release, "unlink")  # and again: a no-op
    left = runtime(storage, "svc0")
    assert "container" not in left and "service" not in left and "invalid" not in left


def test_a_release_leaves_another_containers_claim(tmp_path: Path,
                                                   fake_engine: list[str]) -> None:
    """A release only drops a claim that is the releasing Container's own."""
    storage = two_containers(tmp_path)
    call(storage, swarm_tasks.microservice_create, "svc0", CREATE)
    call(storage, swarm_tasks.container_create, "svc0_other", CREATE)
    call(storage, swarm_tasks.container_delete, "svc0_container", "delete")
    call_related(storage, swarm_tasks.container_release, "unlink")
    assert runtime(storage, "svc0")["container"] == instance_of(storage, "svc0_other").id
