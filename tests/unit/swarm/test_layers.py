"""The Swarm plugin's layers stay honest: only docker_engine imports docker (and requests),
only tasks imports cloudify; the spec and convergence modules do no I/O at all; spec/ and
compose/ import nothing above them, and only the tasks layer (tasks*.py, context/) imports
context/ or tasks."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT

PACKAGE = ROOT / "cloudify_swarm"
MODULES = sorted(PACKAGE.rglob("*.py"))


def name(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def pure(path: Path) -> bool:
    return name(path).startswith("spec/") or path.name == "convergence.py"


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_layering(path: Path) -> None:
    used = imports(path)
    if path.name != "docker_engine.py":
        assert not used & {"docker", "requests"}, f"{path.name} imports the Docker client"
    if path.name != "tasks.py":
        assert "cloudify" not in used, f"{path.name} imports cloudify"
    if pure(path):
        assert not used & {"os", "pathlib", "subprocess", "socket", "yaml", "docker"}, name(path)


def swarm_imports(path: Path) -> set[str]:
    """The cloudify_swarm modules `path` imports (inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.ImportFrom) and node.module
                and node.module.startswith("cloudify_swarm")):
            found |= ({node.module} if node.module != "cloudify_swarm"
                      else {f"cloudify_swarm.{alias.name}" for alias in node.names})
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cloudify_swarm")}
    return found


# what each folder may import of the plugin: the arrows point down only
ALLOWED_BELOW = {
    "spec/": ("cloudify_swarm.spec",),
    "compose/": ("cloudify_swarm.compose", "cloudify_swarm.spec", "cloudify_swarm.engine_api"),
}


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_arrows_point_down(path: Path) -> None:
    used = swarm_imports(path)
    for folder, allowed in ALLOWED_BELOW.items():
        if name(path).startswith(folder):
            assert all(m.startswith(allowed) for m in used), f"{name(path)} imports {sorted(used)}"
    if not (path.name.startswith("tasks") or name(path).startswith("context/")):
        upward = sorted(m for m in used
                        if m.startswith(("cloudify_swarm.context", "cloudify_swarm.tasks")))
        assert not upward, f"{name(path)} imports the tasks layer: {upward}"


def test_the_import_scan_sees_imports() -> None:
    assert "cloudify_swarm.spec.microservice" in swarm_imports(PACKAGE / "compose" / "service.py")
    assert "cloudify_swarm.stacks" in swarm_imports(PACKAGE / "tasks.py")  # inside a function


def local_imports(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each import inside a function."""
    lines = path.read_text().splitlines()
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += [(inner.lineno, lines[inner.lineno - 1]) for inner in ast.walk(node)
                      if isinstance(inner, (ast.Import, ast.ImportFrom))]
    return sorted(set(found))


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_a_function_local_import_says_why(path: Path) -> None:
    silent = [f"{line}: {text.strip()}" for line, text in local_imports(path) if "#" not in text]
    assert not silent, f"{name(path)}: an import inside a function without a comment: {silent}"


def test_local_imports_are_found() -> None:
    assert any("docker_engine" in text for _, text in local_imports(PACKAGE / "tasks.py"))
