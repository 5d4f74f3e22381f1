"""The Swarm plugin's layers stay honest. What may import what is declared as import-linter
contracts in pyproject.toml (`make lint`): only docker_engine imports docker (and requests),
only tasks imports cloudify, the spec and convergence modules do no I/O, spec/ and compose/
import nothing above them, only the tasks layer (tasks*.py, context/) imports context/ or
tasks. What a contract cannot say is here: an import inside a function says why."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT

PACKAGE = ROOT / "cloudify_swarm"
MODULES = sorted(PACKAGE.rglob("*.py"))


def name(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


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
