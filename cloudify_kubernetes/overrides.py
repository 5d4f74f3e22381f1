"""Overrides applied to descriptor documents: declarative path/value, RFC 7386 merge patches and
the 2016 plugin's string form "['spec']['replicas']=3".

The string form is parsed with the `ast` module and accepted ONLY when it is a single assignment
to a chain of subscripts with literal keys and a literal value; anything else (a call, a name, an
attribute, two statements) is rejected with the text and the reason. Nothing is ever evaluated.
Pure: no I/O, no ctx.
"""
from __future__ import annotations

import ast
import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.validation import Field, parse_mapping

Key = str | int
_BASE = "_doc"

OVERRIDE_FIELDS = {
    "path": Field((str, list)),
    "value": Field((object, bool)),
    "merge": Field((dict,)),
    "kind": Field((str,)),
    "name": Field((str,)),
}


@dataclass(frozen=True)
class Override:
    """Set `path` to `value` and/or merge-patch `merge`, in documents matching kind/name."""

    path: tuple[Key, ...] = ()
    value: Any = None
    merge: Mapping[str, Any] | None = None
    kind: str | None = None
    name: str | None = None
    text: str = field(default="", compare=False)

    def matches(self, doc: Mapping[str, Any]) -> bool:
        meta = doc.get("metadata") or {}
        return ((self.kind is None or doc.get("kind") == self.kind)
                and (self.name is None or meta.get("name") == self.name))


def _literal_key(node: ast.expr, text: str) -> Key:
    try:
        key = ast.literal_eval(node)
    except ValueError:
        raise UserError(f"override {text!r}: subscripts must be literal strings or integers, "
                        f"got {ast.unparse(node)!r}") from None
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise UserError(f"override {text!r}: subscript {key!r} is not a string or an integer")
    return key


def _subscript_chain(target: ast.expr, text: str) -> tuple[Key, ...]:
    keys: list[Key] = []
    while isinstance(target, ast.Subscript):
        keys.append(_literal_key(target.slice, text))
        target = target.value
    if not (isinstance(target, ast.Name) and target.id == _BASE) or not keys:
        raise UserError(f"override {text!r}: the left side must be subscripts only, "
                        "like ['spec']['replicas']")
    return tuple(reversed(keys))


def parse_override_string(text: str) -> Override:
    """The 2016 form "['a']['b']=<literal>" as an Override; UserError for anything else."""
    if not text.strip().startswith("["):
        raise UserError(f"override {text!r}: must start with a subscript like ['spec']")
    try:
        tree = ast.parse(_BASE + text.strip(), mode="exec")
    except SyntaxError as error:
        raise UserError(f"override {text!r}: not a valid assignment ({error.msg})") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        raise UserError(f"override {text!r}: must be exactly one assignment")
    statement = tree.body[0]
    if len(statement.targets) != 1:
        raise UserError(f"override {text!r}: must assign to exactly one path")
    path = _subscript_chain(statement.targets[0], text)
    try:
        value = ast.literal_eval(statement.value)
    except ValueError:
        raise UserError(f"override {text!r}: the value must be a literal (string, number, "
                        f"list, mapping, True/False/None), got {ast.unparse(statement.value)!r}"
                        ) from None
    return Override(path=path, value=value, text=text)


def _parse_path(value: str | list[Any], where: str) -> tuple[Key, ...]:
    if isinstance(value, str):
        parts: list[Key] = [int(p) if p.lstrip("-").isdigit() else p for p in value.split(".")]
    else:
        parts = list(value)
    if not parts or any(isinstance(p, bool) or not isinstance(p, (str, int)) or p == ""
                        for p in parts):
        raise UserError(f"{where}.path: expected 'a.b.0.c' or a list of keys, got {value!r}")
    return tuple(parts)


def parse_override(item: Any, where: str) -> Override:
    """One override from user input: the 2016 string or a mapping (path + value and/or merge)."""
    if isinstance(item, str):
        try:
            return parse_override_string(item)
        except UserError as error:
            raise UserError(f"{where}: {error}") from None
    values = parse_mapping(item, OVERRIDE_FIELDS, where)
    if values["path"] is None and values["merge"] is None:
        raise UserError(f"{where}: needs 'path' (with 'value') or 'merge'")
    if values["path"] is not None and "value" not in item:
        raise UserError(f"{where}.value: required with 'path'")
    path = _parse_path(values["path"], where) if values["path"] is not None else ()
    return Override(path=path, value=copy.deepcopy(item.get("value")), merge=values["merge"],
                    kind=values["kind"], name=values["name"], text=where)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: mappings merge, null deletes, everything else replaces."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _container(doc: Any, path: tuple[Key, ...]) -> Any:
    """The mapping/list holding the last key of `path`, or None when the path does not exist."""
    node = doc
    for key in path[:-1]:
        if isinstance(node, Mapping) and isinstance(key, str) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and -len(node) <= key < len(node):
            node = node[key]
        else:
            return None
    return node if isinstance(node, (dict, list)) else None


def _has_leaf(parent: Any, key: Key) -> bool:
    if isinstance(parent, dict):
        return key in parent
    return isinstance(key, int) and -len(parent) <= key < len(parent)


def set_path(doc: dict[str, Any], path: tuple[Key, ...], value: Any, allow_new: bool) -> bool:
    """Set `path` in `doc`; False when the parent (or, unless allow_new, the leaf) is missing."""
    parent, key = _container(doc, path), path[-1]
    if parent is None or (isinstance(parent, list) and not _has_leaf(parent, key)):
        return False
    if isinstance(parent, dict) and not isinstance(key, str):
        return False
    if not allow_new and not _has_leaf(parent, key):
        return False
    parent[key] = copy.deepcopy(value)
    return True


def apply_overrides(docs: list[dict[str, Any]], overrides: list[Override],
                    where: str) -> list[dict[str, Any]]:
    """New documents with every override applied; UserError when one touches no document.

    A path override applies to matching documents that already have the path; a new leaf key is
    only added when exactly one document matches (use kind/name to pick it in multi-doc files).
    """
    result = [copy.deepcopy(d) for d in docs]
    for number, override in enumerate(overrides):
        targets = [d for d in result if override.matches(d)]
        label = override.text or f"{where}.overrides[{number}]"
        if not targets:
            raise UserError(f"{label}: no document matches kind={override.kind!r} "
                            f"name={override.name!r}")
        if override.path:
            hits = [set_path(d, override.path, override.value, allow_new=len(targets) == 1)
                    for d in targets]
            if not any(hits):
                shown = "".join(f"[{k!r}]" for k in override.path)
                raise UserError(f"{where}: override {label!r}: path {shown} does not exist "
                                "in the document(s) it applies to")
        if override.merge is not None:
            for index, doc in enumerate(result):
                if override.matches(doc):
                    result[index] = merge_patch(doc, override.merge)
    return result
