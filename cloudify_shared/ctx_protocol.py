"""The parts of Cloudify's operation context (`ctx`, cloudify.context.CloudifyContext) the suite
uses, as typing Protocols: what the tasks layer reads and writes, checked by mypy --strict,
without importing Cloudify (which ships no type information). A test double needs only the
members it is asked for. Private members are not here: cloudify_shared.internals reaches them.
No I/O here and no ctx machinery.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Identified(Protocol):
    """What has an id: a node, an instance, ctx.deployment."""

    @property
    def id(self) -> str: ...


class Typed(Protocol):
    """What has a type hierarchy (most derived type last): a node, a relationship."""

    @property
    def type_hierarchy(self) -> Sequence[str]: ...


class NodeContext(Identified, Typed, Protocol):
    """ctx.node, ctx.target.node: the node as the blueprint declares it (read-only)."""

    @property
    def properties(self) -> Mapping[str, Any]: ...

    @property
    def number_of_instances(self) -> int: ...


class InstanceContext(Identified, Protocol):
    """ctx.instance, ctx.target.instance: one node instance and its runtime properties."""

    @property
    def runtime_properties(self) -> dict[str, Any]: ...  # a dict subclass that tracks changes

    @property
    def relationships(self) -> Sequence[RelationshipContext]: ...

    def update(self) -> None: ...


class SubjectContext(Protocol):
    """ctx.source, ctx.target, a relationship's target: a node and one of its instances (and
    a node operation's ctx itself, which Ctx says by deriving from this)."""

    @property
    def node(self) -> NodeContext: ...

    @property
    def instance(self) -> InstanceContext: ...


class RelationshipContext(Typed, Protocol):
    """An item of ctx.instance.relationships."""

    @property
    def type(self) -> str: ...

    @property
    def target(self) -> SubjectContext: ...


class DeploymentContext(Identified, Protocol):
    """ctx.deployment."""


class OperationContext(Protocol):
    @property
    def name(self) -> str: ...


class Ctx(SubjectContext, Protocol):
    """The operation context: a node operation's (node, instance) or a relationship
    operation's (source, target); `type` says which ('node-instance', 'relationship-instance')."""

    @property
    def type(self) -> str: ...

    @property
    def logger(self) -> logging.Logger: ...

    @property
    def source(self) -> SubjectContext: ...

    @property
    def target(self) -> SubjectContext: ...

    @property
    def deployment(self) -> DeploymentContext: ...

    @property
    def operation(self) -> OperationContext: ...

    @property
    def tenant_name(self) -> str | None: ...

    def get_resource(self, resource_path: str) -> Any: ...
