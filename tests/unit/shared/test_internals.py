"""What the suite takes from cloudify-common and docker-py beyond their documented APIs
(cloudify_shared.internals), pinned on Cloudify's own context classes over a real local
deployment storage (cloudify.workflows.local, as the cfy local profile builds them), on a
manager's context as the mgmtworker builds it, and on docker-py's own clients. A failure here
means the installed library no longer does what a function of internals was written against.
(tests/unit/swarm/test_engine_client.py shows the Engine client end to end sending nothing of
the worker's.)"""
from __future__ import annotations

import base64
import importlib.metadata
import inspect
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docker
import docker.auth
import pytest
from cloudify import context
from cloudify.endpoint import Endpoint, LocalEndpoint, ManagerEndpoint
from cloudify.workflows import local
from cloudify_rest_client.nodes import Node

from benchmarks.scale_blueprints import render_blueprint
from cloudify_shared import internals
from cloudify_shared.tasks import instance_count, on_manager, writable_target
from tests.helpers.local_workflows import offline_resolver

CREATE = "cloudify.interfaces.lifecycle.create"
REGISTRY = "registry.example.net"


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A deployment in a FileStorage folder, as the cfy CLI's local profile keeps it."""
    folder = tmp_path_factory.mktemp("profile")
    text = render_blueprint({
        "swarm": {"type": "cloudify.swarm.Manager"},
        "app": {"type": "cloudify.swarm.Microservice",
                "relationships": [{"type": "cloudify.relationships.contained_in",
                                   "target": "swarm"}]},
        "app_container": {
            "type": "cloudify.swarm.Container", "properties": {"image": "local/busybox:1"},
            "interfaces": {"cloudify.interfaces.lifecycle": {"create": {"inputs": {
                "env": {"PEER": {"get_input": "peer"},
                        "NAME": {"get_attribute": ["app", "name"]}}}}}},
            "relationships": [{"type": "cloudify.swarm.relationships.contained_in_microservice",
                               "target": "app"}]}})
    text = text.replace("node_templates:", "inputs:\n  peer: {default: 10.0.0.7}\nnode_templates:",
                        1)
    blueprint = folder / "blueprint.yaml"
    blueprint.write_text(text)
    env = local.init_env(str(blueprint), name="pinned", resolver=offline_resolver(),
                         storage=local.FileStorage(str(folder / "storage")))
    return env.storage


def node_ctx(storage: Any, node_id: str) -> context.CloudifyContext:
    (instance,) = [i for i in storage.get_node_instances() if i.node_id == node_id]
    return context.CloudifyContext({
        "local": True, "storage": storage, "deployment_id": "pinned", "blueprint_id": "pinned",
        "node_id": instance.id, "node_name": node_id, "operation": {"name": CREATE}})


def test_written_against_this_cloudify_common() -> None:
    assert importlib.metadata.version("cloudify-common") == internals.CLOUDIFY_COMMON_VERSION


def test_the_local_profile_marks_its_operations_local_and_a_manager_does_not(storage: Any) -> None:
    assert internals.is_local(node_ctx(storage, "app")) and not on_manager(node_ctx(storage, "app"))
    manager = context.CloudifyContext({"local": False})
    assert not internals.is_local(manager) and on_manager(manager)
    assert not internals.is_local(context.CloudifyContext({}))  # no key: a manager


def test_only_true_counts_as_local() -> None:
    assert (not internals.is_local(SimpleNamespace(_local="yes"))
            and not internals.is_local(object()))


def test_the_operation_context_keeps_its_storage_endpoint(storage: Any) -> None:
    assert isinstance(internals.operation_endpoint(node_ctx(storage, "app")), LocalEndpoint)
    assert isinstance(internals.operation_endpoint(context.CloudifyContext({"local": False})),
                      ManagerEndpoint)


def test_the_local_storage_folder_is_the_file_storages(storage: Any) -> None:
    folder = internals.local_storage_dir(node_ctx(storage, "app"))
    assert folder is not None and (Path(folder) / "deployments" / "pinned").is_dir()
    assert internals.local_storage_dir(context.CloudifyContext({"local": False})) is None
    in_memory = context.CloudifyContext({"local": True, "storage": local.InMemoryStorage()})
    assert internals.local_storage_dir(in_memory) is None


def test_the_node_record_appears_once_the_node_is_read(storage: Any) -> None:
    ctx = node_ctx(storage, "app_container")
    assert internals.node_record(ctx) is None  # not read yet
    assert ctx.node.properties["image"] == "local/busybox:1"
    record = internals.node_record(ctx)
    assert record["operations"][CREATE]["inputs"]["env"] == {  # as written but get_input
        "PEER": "10.0.0.7", "NAME": {"get_attribute": ["app", "name"]}}
    assert record.number_of_instances == 1 and record.planned_number_of_instances is None
    assert instance_count(ctx) == 1


def test_a_managers_node_record_has_the_planned_count() -> None:
    """On a manager the record is the REST client's Node (ManagerEndpoint.get_node)."""
    node = Node({"id": "app", "number_of_instances": 2, "planned_number_of_instances": 3})
    assert (node.number_of_instances, node.planned_number_of_instances) == (2, 3)
    ctx = SimpleNamespace(node=SimpleNamespace(number_of_instances=2, _node=node))
    assert instance_count(ctx) == 3


def test_functions_are_evaluated_in_the_operations_context(storage: Any) -> None:
    ctx = node_ctx(storage, "app_container")
    payload = {"env": {"IMAGE": {"concat": ["image ",
                                            {"get_property": ["app_container", "image"]}]}}}
    assert internals.evaluate_functions(ctx, payload) == {"env": {"IMAGE": "image local/busybox:1"}}


def test_the_relationship_subject_is_built_from_a_context_an_endpoint_and_modifiable() -> None:
    assert list(inspect.signature(context.RelationshipSubjectContext).parameters) == \
        ["context", "endpoint", "modifiable"]


def test_every_endpoint_reads_and_writes_node_instances() -> None:
    for endpoint in (Endpoint, LocalEndpoint, ManagerEndpoint):
        assert callable(endpoint.get_node_instance) and callable(endpoint.update_node_instance)


def test_a_writable_target_names_the_same_instance_on_the_same_endpoint(storage: Any) -> None:
    ctx = node_ctx(storage, "app_container")
    (app,) = [i for i in storage.get_node_instances() if i.node_id == "app"]
    target = SimpleNamespace(node=SimpleNamespace(id="app"), instance=SimpleNamespace(id=app.id))
    writable = writable_target(ctx, target)
    assert writable.instance.id == app.id and writable.node.id == "app"
    assert writable.instance._endpoint is internals.operation_endpoint(ctx)
    writable.instance.runtime_properties["pinned"] = True
    writable.instance.update()
    (app,) = [i for i in storage.get_node_instances() if i.node_id == "app"]
    assert app.runtime_properties["pinned"] is True


# ------------------------------------------------------------------------------------- docker-py
class NothingToSend(docker.auth.AuthConfig):  # as cloudify_swarm.docker_engine.NoAmbientAuth
    @property
    def is_empty(self) -> bool:
        return False

    def resolve_authconfig(self, registry: Any = None) -> None:
        return None


@pytest.fixture
def docker_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A worker's Docker config file: a registry password, HttpHeaders and proxies."""
    auth = base64.b64encode(b"worker:hunter2").decode()
    (tmp_path / "config.json").write_text(json.dumps({
        "auths": {REGISTRY: {"auth": auth}}, "HttpHeaders": {"X-Ambient": "worker"},
        "proxies": {"default": {"httpProxy": "http://proxy.worker:3128"}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))


def api_client() -> Any:
    return docker.APIClient(base_url="tcp://127.0.0.1:1", version="1.41")  # sends nothing


def test_written_against_this_docker_py() -> None:
    assert docker.__version__ == internals.DOCKER_PY_VERSION, (
        "docker-py changed: check the private attributes of cloudify_shared.internals "
        "against the new release, then update DOCKER_PY_VERSION")


def test_a_docker_client_holds_nothing_but_its_api() -> None:
    made = docker.DockerClient(base_url="tcp://127.0.0.1:1", version="1.41")
    around = internals.client_around(docker.DockerClient, made.api)
    assert vars(made) == vars(around) == {"api": made.api}
    assert around.services.client is around and around.api is made.api


def test_the_api_client_keeps_the_config_file_where_it_is_dropped(docker_config: None) -> None:
    api = api_client()
    assert api._general_configs["HttpHeaders"] == {"X-Ambient": "worker"}
    assert api._proxy_configs.get_environment()
    assert docker.auth.get_config_header(api, REGISTRY)  # the worker's password would travel
    internals.drop_ambient_config(api, NothingToSend({}), docker.utils.proxy.ProxyConfig())
    assert api._general_configs == {} and api._proxy_configs.get_environment() == {}
    assert docker.auth.get_config_header(api, REGISTRY) is None


def test_an_empty_auth_config_is_read_again_from_the_file(docker_config: None) -> None:
    api = api_client()
    internals.drop_ambient_config(api, docker.auth.AuthConfig({}), docker.utils.proxy.ProxyConfig())
    assert docker.auth.get_config_header(api, REGISTRY)  # why drop_ambient_config's must not be


def test_the_api_version_is_what_requests_use() -> None:
    api = api_client()
    internals.set_api_version(api, "1.43")
    assert api.api_version == "1.43" and api._url("/services").endswith("/v1.43/services")


def test_the_server_version_is_asked_as_version_auto_asks_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = api_client()
    asked: list[Any] = []
    monkeypatch.setattr(api, "version", lambda api_version=True: asked.append(api_version)
                        or {"ApiVersion": "1.44"})
    assert internals.server_api_version(api) == "1.44" and asked == [False]
