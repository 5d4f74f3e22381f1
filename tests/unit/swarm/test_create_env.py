"""Class 7 of issue 24: a Container's create-input `env` (the 2016 blueprints' place for it) is
never kept with its values in runtime properties: create records the names only, start reads
the values again from the node's create operation (intrinsic functions evaluated then, as
Cloudify evaluated them for create) and merges its own `env` input over them. Run on Cloudify's
own context classes over a real local deployment storage (as test_node_reads does), with the
Engine faked."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.workflows import local

from benchmarks.scale_blueprints import render_blueprint
from cloudify_swarm import objects, services
from cloudify_swarm import tasks as swarm_tasks
from tests.helpers.local_workflows import offline_resolver
from tests.unit.test_node_reads import (
    CountingStorage,
    FakeEngine,
    instance_of,
    node_ctx,
    reads,
    run,
    set_runtime,
)

CREATE = "cloudify.interfaces.lifecycle.create"
ENDPOINT = {"docker_host": "unix:///var/run/docker.sock", "tls": {}, "timeout": 60}


def deployment(tmp_path: Path, create_env: Any) -> CountingStorage:
    container: dict[str, Any] = {
        "type": "cloudify.swarm.Container",
        "properties": {"image": "local/busybox:1", "env": {"FROM_PROPERTY": "p"}},
        "relationships": [{"type": "cloudify.swarm.relationships.contained_in_microservice",
                           "target": "app"}]}
    if create_env is not None:
        container["interfaces"] = {
            "cloudify.interfaces.lifecycle": {"create": {"inputs": {"env": create_env}}}}
    text = render_blueprint({
        "swarm": {"type": "cloudify.swarm.Manager"},
        "app": {"type": "cloudify.swarm.Microservice",
                "relationships": [{"type": "cloudify.relationships.contained_in",
                                   "target": "swarm"}]},
        "app_container": container})
    text = text.replace("node_templates:", "inputs:\n  peer: {default: 10.0.0.7}\nnode_templates:",
                        1)
    blueprint = tmp_path / "blueprint.yaml"
    blueprint.write_text(text)
    storage = CountingStorage(local.init_env(str(blueprint), name="reads",
                                             resolver=offline_resolver()).storage)
    set_runtime(storage, "swarm", swarm_info={"endpoint": ENDPOINT})
    return storage


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    engine = FakeEngine()
    monkeypatch.setattr(swarm_tasks, "connect", lambda *_: engine)
    monkeypatch.setattr(swarm_tasks, "check_valid", lambda host: None)
    monkeypatch.setattr(objects, "ensure_objects", lambda *_: {})
    monkeypatch.setattr(services, "deploy_service", lambda engine, spec,
                        *_: specs.append(spec) or "sid")
    monkeypatch.setattr(services, "service_facts", lambda *_: {"id": "sid"})
    return specs


def call(storage: CountingStorage, op: Any, node: str, operation: str, **inputs: Any) -> None:
    """Run the operation, its runtime properties written back as the dispatcher does."""
    reads(storage, lambda: run(op, node_ctx(storage, node, operation), **inputs))


def install(storage: CountingStorage, **start_inputs: Any) -> None:
    call(storage, swarm_tasks.microservice_create, "app", CREATE)
    call(storage, swarm_tasks.container_create, "app_container", CREATE,
         env=stored_create_env(storage))
    runtime = dict(instance_of(storage, "app_container").runtime_properties)
    assert "create_env_input" not in runtime
    assert "s3cret" not in json.dumps(runtime) and "10.0.0.7" not in json.dumps(runtime)
    call(storage, swarm_tasks.container_start, "app_container", "start", **start_inputs)


def stored_create_env(storage: CountingStorage) -> Any:
    """create's env as Cloudify hands it to create: the node's input, evaluated."""
    node = storage.get_node("app_container")
    raw = node["operations"][CREATE]["inputs"]["env"]
    return storage.env.evaluate_functions(payload={"env": raw}, context={})["env"]


def env_of(spec: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in spec["TaskTemplate"]["ContainerSpec"]["Env"])


def test_create_env_is_kept_by_name_and_read_again_at_start(
    tmp_path: Path, deployed: list[dict[str, Any]],
) -> None:
    storage = deployment(tmp_path, {"TOKEN": "s3cret", "PEER": {"get_input": "peer"},
                                    "SERVICE": {"concat": ["svc-",
                                                           {"get_attribute": ["app",
                                                                              "service_name"]}]},
                                    "OVERRIDDEN": "by-create"})
    install(storage, env={"OVERRIDDEN": "by-start"})
    assert instance_of(storage, "app_container").runtime_properties["create_env_keys"] == [
        "OVERRIDDEN", "PEER", "SERVICE", "TOKEN"]
    (spec,) = deployed
    assert env_of(spec) == {"FROM_PROPERTY": "p", "TOKEN": "s3cret", "PEER": "10.0.0.7",
                            "SERVICE": "svc-app-reads", "OVERRIDDEN": "by-start"}


def test_without_create_env_nothing_is_read_again(tmp_path: Path,
                                                  deployed: list[dict[str, Any]]) -> None:
    storage = deployment(tmp_path, None)
    install(storage)
    assert instance_of(storage, "app_container").runtime_properties["create_env_keys"] == []
    assert env_of(deployed[0]) == {"FROM_PROPERTY": "p"}


def test_values_an_earlier_version_kept_are_used_once(tmp_path: Path,
                                                      deployed: list[dict[str, Any]]) -> None:
    storage = deployment(tmp_path, None)
    call(storage, swarm_tasks.microservice_create, "app", CREATE)
    set_runtime(storage, "app_container", create_env_input={"OLD": "v"})
    call(storage, swarm_tasks.container_start, "app_container", "start")
    assert env_of(deployed[0]) == {"FROM_PROPERTY": "p", "OLD": "v"}
    assert "create_env_input" not in instance_of(storage, "app_container").runtime_properties


def test_create_env_given_to_one_run_only_is_named_at_start(
    tmp_path: Path, deployed: list[dict[str, Any]],
) -> None:
    """An env that create got from its run (execute_operation's inputs), not from the node, is
    not read again: start says so instead of starting without it."""
    storage = deployment(tmp_path, None)
    call(storage, swarm_tasks.microservice_create, "app", CREATE)
    call(storage, swarm_tasks.container_create, "app_container", CREATE, env={"ONCE": "x"})
    with pytest.raises(NonRecoverableError,
                       match=r"inputs.env \(of create\): ONCE were given to create"):
        call(storage, swarm_tasks.container_start, "app_container", "start")
    assert deployed == []
