"""docs/reference is what `python -m cloudify_shared.offline.reference` makes from plugin_1_5.yaml
(and its derived 1.4/1.3 yamls and the plugins' runtime_properties.py), the way the derived
yamls are guarded; and every relative link in README.md and docs/ (recursively) resolves to a
file or folder of the repository, an #anchor to a heading of the page it names.

The links are read from markdown outside code (fenced blocks and `inline code` are skipped):
[text](target) and ![alt](target), and reference definitions `[name]: target`. Anchors are
compared with GitHub's heading ids (lower case, punctuation but - and _ dropped, spaces as -,
a repeated heading gets -1, -2, ...); an anchor into a file that is not markdown is not checked.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudify_shared.offline import reference
from tests.helpers.paths import ROOT

MARKDOWN = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# ---- the committed pages --------------------------------------------------------------------

def test_committed_reference_is_what_the_command_makes() -> None:
    problems = reference.differences(reference.reference_texts(), reference.committed_texts())
    assert not problems, f"run `{reference.COMMAND}`: {problems}"


def test_a_page_for_every_type_and_an_index_linking_each() -> None:
    source = yaml.safe_load((ROOT / "plugin_1_5.yaml").read_text())
    names = [n for section, _ in reference.SECTIONS for n in source.get(section) or {}]
    texts = reference.reference_texts()
    assert set(texts) == {"README.md", *(reference.page_name(n) for n in names)}
    assert all(f"]({reference.page_name(n)})" in texts["README.md"] for n in names)
    page = texts["cloudify.kubernetes.Microservice.md"]
    assert page.startswith("_Generated from") and reference.COMMAND in page.splitlines()[0]


def test_the_differences_name_each_page() -> None:
    assert reference.differences({"a.md": "x", "b.md": "y"}, {"a.md": "x", "b.md": "old",
                                                               "c.md": "z"}) == [
        "docs/reference/b.md differs",
        "docs/reference/c.md is extra (no type of plugin_1_5.yaml makes it)"]
    assert reference.differences({"a.md": "x"}, {}) == ["docs/reference/a.md is missing"]


# ---- the page builder, on a small document --------------------------------------------------

SMALL = """\
tosca_definitions_version: cloudify_dsl_1_5
data_types:
  # The settings.
  my.types.Settings:
    properties:
      depth: {type: integer, description: "How deep | far."}
node_types:
  # A thing. It does more.
  my.Thing:
    derived_from: cloudify.nodes.Root
    properties:
      settings: {type: my.types.Settings, default: {}}
      upstream: {type: deployment_id, description: The upstream.}
      name: {type: string, description: "Required,\\n  folded."}
      optional: {type: string, required: false}
    interfaces:
      my.interface:
        run:
          implementation: plug.pkg.tasks.run
          inputs:
            count: {type: integer, default: 3, description: How many.}
        short: plug.pkg.tasks.short
relationships:
  my.rel:
    derived_from: my.other
"""


def small_docs() -> dict[str, Any]:
    newest = yaml.safe_load(SMALL)
    older = yaml.safe_load(SMALL.replace("type: deployment_id", "type: string"))
    del older["node_types"]["my.Thing"]["properties"]["optional"]
    return {"1.5": newest, "1.4": older, "1.3": older}


def test_a_node_type_page_shows_properties_versions_links_and_operations() -> None:
    page = reference.pages(small_docs(), SMALL)["my.Thing.md"]
    assert "A node type of plugin `plug`." in page and "A thing. It does more." in page
    assert "Derived from `cloudify.nodes.Root` (Cloudify's)." in page
    assert ("| `settings` | [my.types.Settings](my.types.Settings.md) | `{}` | no | "
            "1.3, 1.4, 1.5 |  |") in page
    assert ("| `upstream` | `deployment_id` |  | yes | 1.3 (as `string`), 1.4 (as `string`), 1.5 | "
            "The upstream. |") in page
    assert "| `name` | `string` |  | yes | 1.3, 1.4, 1.5 | Required, folded. |" in page
    assert "| `optional` | `string` |  | no | 1.5 |  |" in page
    assert ("| `run` | `plug.pkg.tasks.run` |" in page
            and "| `short` | `plug.pkg.tasks.short` |" in page)
    assert "| `count` | `integer` | `3` | How many. |" in page
    assert "## Runtime properties" in page


def test_a_data_type_page_escapes_cells_and_names_its_users() -> None:
    texts = reference.pages(small_docs(), SMALL)
    page = texts["my.types.Settings.md"]
    assert "How deep \\| far." in page and "- [my.Thing](my.Thing.md).`settings`" in page
    assert "Derived from [my.other]" not in texts["my.rel.md"]  # not a type of the document
    assert "- [my.Thing](my.Thing.md): A thing." in texts["README.md"]


def test_the_runtime_properties_table_comes_from_the_declared_lists() -> None:
    page = reference.reference_texts()["cloudify.kubernetes.Master.md"]
    assert "| `kubernetes_info` |" in page
    swarm = reference.reference_texts()["cloudify.swarm.Microservice.md"]
    assert "Internal bookkeeping" in swarm and "`service_config`" in swarm


# ---- links ----------------------------------------------------------------------------------

def without_code(text: str) -> str:
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


def links(text: str) -> list[str]:
    prose = without_code(text)
    return INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)


def heading_ids(text: str) -> set[str]:
    ids: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", without_code_blocks(text), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in ids:
            n += 1
            candidate = f"{slug}-{n}"
        ids.add(candidate)
    return ids


def without_code_blocks(text: str) -> str:
    return re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.MULTILINE | re.DOTALL)


def broken_links(path: Path) -> list[str]:
    text = path.read_text()
    broken = []
    for target in links(text):
        if EXTERNAL.match(target) or target.startswith("//"):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            broken.append(f"{target} (no {file_part})")
        elif anchor and resolved.suffix == ".md" and anchor.lower() not in heading_ids(
                resolved.read_text()):
            broken.append(f"{target} (no heading #{anchor} in {file_part or 'this page'})")
    return broken


def test_the_link_reader_finds_links_and_skips_code() -> None:
    text = ("See [a](x.md), ![b](img/p.png) and [c](y.md#part \"title\").\n"
            "`[not](inline.md)`\n```\n[not](fenced.md)\n```\n[ref]: docs/z.md\n")
    assert links(text) == ["x.md", "img/p.png", "y.md#part", "docs/z.md"]
    assert heading_ids("# The A.B type\n## Part\n## Part\n") == {"the-ab-type", "part", "part-1"}


def test_a_broken_link_and_anchor_are_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Here\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#here) [gone](missing.md) [bad](other.md#there) [self](#nope)\n")
    assert broken_links(page) == ["missing.md (no missing.md)",
                                  "other.md#there (no heading #there in other.md)",
                                  "#nope (no heading #nope in this page)"]


@pytest.mark.parametrize("path", MARKDOWN, ids=[rel(p) for p in MARKDOWN])
def test_every_relative_link_resolves(path: Path) -> None:
    assert not broken_links(path), f"{rel(path)}: broken links {broken_links(path)}"
