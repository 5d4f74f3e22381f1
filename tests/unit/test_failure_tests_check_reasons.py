"""Issue 25's rule on the tests themselves: a test that expects an operation of the suite to fail
also checks the reason in the message (a text the failure must contain), never only that it
failed. What counts as expecting a failure: a cfy run whose return code must not be 0, the
failure helpers (install_error, failed_install) and pytest.raises of a workflow failure."""
from __future__ import annotations

import ast
from pathlib import Path

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
FAILURE_MARKERS = ("install_error(", "failed_install(", "pytest.raises(WorkflowFailed",
                   "pytest.raises(ExecutionFailed")


def expects_failure(function: ast.FunctionDef, source: str) -> bool:
    body = ast.get_source_segment(source, function) or ""
    if any(marker in body for marker in FAILURE_MARKERS):
        return True
    for node in ast.walk(function):  # `<a cfy run>.returncode != 0` (a kubectl probe is not one)
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and \
                node.left.attr == "returncode" and isinstance(node.ops[0], ast.NotEq):
            if "kubectl(" not in (ast.get_source_segment(source, node.left.value) or ""):
                return True
    return False


def checks_a_reason(function: ast.FunctionDef, source: str) -> bool:
    """An `in` comparison of a text against the failure's output, message or error."""
    for node in ast.walk(function):
        if isinstance(node,
                      ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            right = ast.get_source_segment(source, node.comparators[0]) or ""
            if isinstance(node.left, (ast.Constant, ast.JoinedStr, ast.Attribute, ast.Name)) and \
                    any(word in right for word in ("output", "message", "error", "str(", "text",
                                                         "readouterr")):
                return True
    return False


def test_every_failure_a_test_expects_is_checked_for_its_reason() -> None:
    unchecked = []
    for path in sorted(INTEGRATION.rglob("test_*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                if expects_failure(node, source) and not checks_a_reason(node, source):
                    unchecked.append(f"{path.relative_to(INTEGRATION)}:{node.lineno} {node.name}")
    assert not unchecked, "tests that accept a failure without checking its reason:\n" + \
        "\n".join(unchecked)
