"""The Swarm plugin's layers stay honest: only docker_engine imports docker (and requests),
only tasks imports cloudify; the spec and convergence modules do no I/O at all."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT

PACKAGE = ROOT / "cloudify_swarm"
PURE = {"spec.py", "service_spec.py", "convergence.py"}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_layering(path: Path) -> None:
    used = imports(path)
    if path.name != "docker_engine.py":
        assert not used & {"docker", "requests"}, f"{path.name} imports the Docker client"
    if path.name != "tasks.py":
        assert "cloudify" not in used, f"{path.name} imports cloudify"
    if path.name in PURE:
        assert not used & {"os", "pathlib", "subprocess", "socket", "yaml", "docker"}, path.name
