"""Blueprint snippets in README.md and docs/ (recursively) cannot rot: every ```yaml block is
either
- an excerpt of a real file, named on its first line as `# <path from the repository root>`:
  the rest of the block must appear in that file as it is (to leave lines out, split the
  excerpt into blocks), and the file must parse with the DSL parser; or
- a whole blueprint (it has tosca_definitions_version), parsed as it is.
Parsing uses the offline resolver (the minimal types, plugin:cloudify-vnf-suite -> plugin.yaml).
A yaml block that is neither fails, naming the page and the line.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from dsl_parser import parser

from tests.helpers.local_workflows import offline_resolver
from tests.helpers.paths import ROOT

PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
YAML_BLOCK = re.compile(r"^```ya?ml[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
SOURCE_LINE = re.compile(r"#\s+(\S+\.ya?ml)\s*\n")


def yaml_blocks(text: str) -> list[tuple[int, str]]:
    """(line number of the fence, body) of every yaml block."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in YAML_BLOCK.finditer(text)]


def snippet_problem(body: str, tmp_path: Path) -> str | None:
    """Why the block is not a real blueprint or an excerpt of one (None: it is)."""
    named = SOURCE_LINE.match(body)
    if named:
        source = ROOT / named.group(1)
        if not source.is_file():
            return f"names {named.group(1)}, which does not exist"
        if body[named.end():].strip("\n") not in source.read_text():
            return f"is not an excerpt of {named.group(1)} (it differs from the file)"
        path = source
    elif "tosca_definitions_version" in body:
        path = tmp_path / "snippet.yaml"
        path.write_text(body)
    else:
        return ("is neither a whole blueprint nor an excerpt naming its file on its first line "
                "(# path/from/root.yaml)")
    try:
        parser.parse_from_path(str(path), resolver=offline_resolver(None))
    except Exception as error:  # any parser error is the finding
        return f"does not parse: {type(error).__name__}: {error}"
    return None


def test_the_block_reader_and_the_rules(tmp_path: Path) -> None:
    text = "x\n```yaml\na: 1\n```\n```sh\nls\n```\n```yml\nb: 2\n```\n"
    assert yaml_blocks(text) == [(2, "a: 1\n"), (8, "b: 2\n")]
    assert "neither" in str(snippet_problem("node_templates: {}\n", tmp_path))
    assert "does not exist" in str(snippet_problem("# no/such.yaml\na: 1\n", tmp_path))
    example = "# examples/blueprints/k8s-cluster/blueprint.yaml\n"
    assert "not an excerpt" in str(snippet_problem(example + "not: there\n", tmp_path))
    assert snippet_problem(example + "tosca_definitions_version: cloudify_dsl_1_5\n",
                           tmp_path) is None
    assert "does not parse" in str(snippet_problem("# plugin_1_5.yaml\nplugins:\n", tmp_path))
    broken = "tosca_definitions_version: cloudify_dsl_1_5\nnode_templates:\n  a: {type: no.Such}\n"
    assert "does not parse" in str(snippet_problem(broken, tmp_path))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_yaml_snippet_is_a_real_blueprint(page: Path, tmp_path: Path) -> None:
    problems = [f"{page.relative_to(ROOT)}:{line}: the yaml block {problem}"
                for line, body in yaml_blocks(page.read_text())
                if (problem := snippet_problem(body, tmp_path)) is not None]
    assert not problems, "\n".join(problems)
