"""Bounds on what a blueprint controls (issue 24): checked before any work, so that one tenant's
blueprint cannot exhaust the worker that runs every tenant's operations.

- durations (timeouts, waits): not negative, at most CLOUDIFY_VNF_MAX_TIMEOUT seconds (3600);
- a file or blueprint resource read: at most CLOUDIFY_VNF_MAX_FILE_BYTES (8 MiB);
- a YAML document: at most that many bytes too, and at most CLOUDIFY_VNF_MAX_YAML_NODES (200,000)
  nodes once its aliases are expanded (an alias bomb of a few lines names billions);
- the objects of one manifest or stack: at most CLOUDIFY_VNF_MAX_OBJECTS (1000).
Each is a setting of the worker's environment (an administrator's, never a blueprint's), read
when it is checked; a bound that is hit is a UserError naming the field, the bound and the
setting. Plain Python: no ctx, no I/O but reading the environment.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from cloudify_shared.errors import UserError
from cloudify_shared.go_yaml import SigsYamlLoader

MAX_TIMEOUT = ("CLOUDIFY_VNF_MAX_TIMEOUT", 3600)
MAX_FILE_BYTES = ("CLOUDIFY_VNF_MAX_FILE_BYTES", 8 * 1024 * 1024)
MAX_YAML_NODES = ("CLOUDIFY_VNF_MAX_YAML_NODES", 200_000)
MAX_OBJECTS = ("CLOUDIFY_VNF_MAX_OBJECTS", 1000)


def bound(setting: tuple[str, int], environ: Mapping[str, str] = os.environ) -> int:
    """The bound's value: the administrator's setting if it is a positive integer, else its
    default."""
    name, default = setting
    try:
        value = int(environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def _limit_text(setting: tuple[str, int], value: int) -> str:
    return f"at most {value} (the administrator's setting {setting[0]})"


def duration(value: Any, path: str) -> Any:
    """A validation Field check for a timeout or wait in seconds."""
    if value < 0:
        raise UserError(f"{path}: must not be negative, got {value!r}")
    limit = bound(MAX_TIMEOUT)
    if value > limit:
        raise UserError(f"{path}: {value!r} seconds is too long: {_limit_text(MAX_TIMEOUT, limit)}")
    return value


def check_size(size: int, what: str) -> None:
    """A UserError when `size` bytes of `what` exceed the file bound."""
    limit = bound(MAX_FILE_BYTES)
    if size > limit:
        raise UserError(f"{what}: {size} bytes is too large: "
                        f"{_limit_text(MAX_FILE_BYTES, limit)} bytes")


def check_count(count: int, what: str) -> None:
    """A UserError when one manifest or stack has more objects than the bound."""
    limit = bound(MAX_OBJECTS)
    if count > limit:
        raise UserError(f"{what}: {count} objects are too many: {_limit_text(MAX_OBJECTS, limit)}")


def _expanded_size(root: yaml.Node, limit: int, where: str) -> int:
    """How many nodes `root` stands for with every alias expanded, counted over the composed
    graph (an alias is the same node object again), each node once: linear in the graph."""
    sizes: dict[int, int] = {}
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    while pending:
        node, done = pending.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if done or not children:
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 0) for c in children)
            if sizes[id(node)] > limit:
                raise UserError(f"{where}: too many YAML nodes once its aliases are expanded: "
                                f"{_limit_text(MAX_YAML_NODES, limit)}")
            continue
        pending.append((node, True))
        pending.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_yaml_documents(text: str | bytes, where: str,
                        loader: type[yaml.SafeLoader] = SigsYamlLoader,
                        check: Callable[[yaml.Node, str], None] | None = None) -> list[Any]:
    """Every document of `text`, after the byte and expanded-node bounds; a YAML error is a
    UserError naming `where`. `loader`: a SafeLoader subclass that reads scalars as the tool
    the file is written for does (cloudify_shared.go_yaml): by default as sigs.k8s.io/yaml
    (kubectl, client-go, helm: manifests, kubeconfigs, values); compose files as the docker CLI;
    `check(node, where)` sees each composed document, after the bounds, before construction."""
    check_size(len(text), where)
    limit = bound(MAX_YAML_NODES)
    documents: list[Any] = []
    try:
        reader = loader(text)
        try:
            total = 0
            while reader.check_node():
                node = reader.get_node()
                if node is None:
                    continue
                total += _expanded_size(node, limit - total, where)
                if check is not None:
                    check(node, where)
                documents.append(reader.construct_document(node))
        finally:
            reader.dispose()
    except yaml.YAMLError as error:
        raise UserError(f"{where}: malformed YAML: {error}") from None
    return documents


def load_yaml(text: str | bytes, where: str, loader: type[yaml.SafeLoader] = SigsYamlLoader,
              check: Callable[[yaml.Node, str], None] | None = None) -> Any:
    """The one document of `text` (None when empty), under the same bounds."""
    documents = load_yaml_documents(text, where, loader, check)
    if len(documents) > 1:
        raise UserError(f"{where}: expected one YAML document, found {len(documents)}")
    return documents[0] if documents else None
