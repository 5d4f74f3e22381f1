"""Rules the code must keep, checked statically on every run.

- Nothing is ever eval'd or exec'd (the older plugins ran blueprint strings through them).
- Only the tasks layer imports Cloudify's ctx machinery: `cloudify_*/tasks.py` (and the shared
  decorator) may import `cloudify` / `cloudify.manager` / `cloudify.decorators`; service and adapter
  modules may not, so they stay testable without a Cloudify context.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT

PACKAGES = ["cloudify_shared", "cloudify_kubernetes", "cloudify_swarm", "cloudify_proxy"]
SOURCES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
# Modules allowed to import the ctx machinery: the tasks layer of each plugin.
TASK_LAYER = {"tasks.py", "tasks_"}
# Cloudify modules that carry no ctx (pure parsing, REST client, local storage) are allowed
# anywhere.
CTX_MODULES = ("cloudify.ctx", "cloudify.decorators", "cloudify.manager", "cloudify.state")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def is_task_layer(path: Path) -> bool:
    return path.name == "tasks.py" or path.name.startswith("tasks_") or path.parent.name == "tasks"


@pytest.mark.parametrize("path", SOURCES, ids=[rel(p) for p in SOURCES])
def test_no_eval_or_exec(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    calls = [node.func.id for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
             and node.func.id in FORBIDDEN_CALLS]
    assert not calls, f"{rel(path)} calls {calls}"


@pytest.mark.parametrize("path", SOURCES, ids=[rel(p) for p in SOURCES])
def test_only_the_tasks_layer_imports_ctx(path: Path) -> None:
    if is_task_layer(path):
        return
    tree = ast.parse(path.read_text(), filename=str(path))
    offending = [name for name in imported_modules(tree)
                 if name == "cloudify" or name.startswith(CTX_MODULES)]
    assert not offending, f"{rel(path)} imports {offending}: only tasks modules may"
