"""What the suite takes from cloudify-common beyond its documented API, pinned: a node operation
writes a relationship target's runtime properties (cloudify_shared.tasks.writable_target) as a
relationship operation writes ctx.target, through the operation's storage endpoint."""
from __future__ import annotations

import inspect
from types import SimpleNamespace

from cloudify import context
from cloudify.endpoint import Endpoint, LocalEndpoint, ManagerEndpoint

from cloudify_shared.tasks import writable_target


def test_the_relationship_subject_is_built_from_a_context_an_endpoint_and_modifiable() -> None:
    assert list(inspect.signature(context.RelationshipSubjectContext).parameters) == \
        ["context", "endpoint", "modifiable"]


def test_every_endpoint_reads_and_writes_node_instances() -> None:
    for endpoint in (Endpoint, LocalEndpoint, ManagerEndpoint):
        assert callable(endpoint.get_node_instance) and callable(endpoint.update_node_instance)


def test_the_operation_context_keeps_its_endpoint() -> None:
    ctx = context.CloudifyContext({"local": True, "storage": None})
    assert isinstance(ctx._endpoint, LocalEndpoint)


def test_a_writable_target_names_the_same_instance_on_the_same_endpoint() -> None:
    ctx = context.CloudifyContext({"local": True, "storage": None})
    target = SimpleNamespace(node=SimpleNamespace(id="web"), instance=SimpleNamespace(id="web_1"))
    writable = writable_target(ctx, target)
    assert writable.instance.id == "web_1" and writable.node.id == "web"
    assert writable.instance._endpoint is ctx._endpoint and writable.instance._modifiable
