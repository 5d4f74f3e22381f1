"""The Swarm plugin's layers stay honest: only docker_engine imports docker (and requests),
only tasks imports cloudify; the spec and convergence modules do no I/O at all."""
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
