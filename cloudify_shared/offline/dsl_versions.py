"""One DSL source, one file per DSL version: the older versions are derived, never hand-written.

Cloudify picks a plugin's yaml by the importing blueprint's `tosca_definitions_version`
(`plugin_1_5.yaml`, `plugin_1_4.yaml`, and `plugin.yaml` for 1.3 and anything older than the
versioned files), and a blueprint may only import files of its own version or older. This
project writes `plugin_1_5.yaml` (and the offline `types.yaml`) by hand and derives the others
by taking out what an older parser refuses (dsl_parser validates these per version):
- 1.5 only: the `operation_name` property type (-> string), node types' `runtime_properties`;
- 1.4 and later: `item_type`, the object-based types (`deployment_id`, `node_instance`,
  `secret_key`, ... -> string), workflow `availability_rules`.

    python -m cloudify_shared.offline.dsl_versions [--check]   (from the project root)

writes the derived files (or, with --check, exits 1 naming each one that differs).
No I/O beyond main(); `derive()` is a pure function of the parsed source.
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

# dsl_parser.constants.OBJECT_BASED_TYPES_DSL_1_4 / _1_5 (kept here: the names are part of the DSL)
OBJECT_TYPES_1_4 = {"blueprint_id", "deployment_id", "capability_value", "scaling_group", "node_id",
                    "node_type", "node_instance", "secret_key"}
OBJECT_TYPES_1_5 = {"operation_name"}
VERSIONS = ("1_3", "1_4", "1_5")
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# (source, {version: derived file}) for every DSL file the project ships
FAMILIES = (
    (ROOT / "plugin_1_5.yaml", {"1_4": ROOT / "plugin_1_4.yaml", "1_3": ROOT / "plugin.yaml"}),
    (HERE / "types.yaml", {"1_4": HERE / "types_1_4.yaml", "1_3": HERE / "types_1_3.yaml"}),
)


def _older_than(version: str, other: str) -> bool:
    return VERSIONS.index(version) < VERSIONS.index(other)


def _downgrade_schema(schema: dict[str, Any], version: str) -> None:
    """A property / input / parameter schema, in place."""
    removed_types = set(OBJECT_TYPES_1_5)
    if _older_than(version, "1_4"):
        removed_types |= OBJECT_TYPES_1_4
        schema.pop("item_type", None)
    if schema.get("type") in removed_types:
        schema["type"] = "string"


def _walk_schemas(node: Any, version: str) -> None:
    """Every mapping under properties/inputs/parameters keys is a name -> schema table."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("properties", "inputs", "parameters") and isinstance(value, dict):
                for schema in value.values():
                    if isinstance(schema, dict):
                        _downgrade_schema(schema, version)
            _walk_schemas(value, version)
    elif isinstance(node, list):
        for item in node:
            _walk_schemas(item, version)


def derive(source: dict[str, Any], version: str) -> dict[str, Any]:
    """The DSL document `source` (the newest version) as DSL `version` accepts it."""
    doc = copy.deepcopy(source)
    doc["tosca_definitions_version"] = f"cloudify_dsl_{version}"
    for node_type in (doc.get("node_types") or {}).values():
        if _older_than(version, "1_5"):
            node_type.pop("runtime_properties", None)
    if _older_than(version, "1_4"):
        for workflow in (doc.get("workflows") or {}).values():
            if isinstance(workflow, dict):
                workflow.pop("availability_rules", None)
    _walk_schemas(doc, version)
    return doc


def render(source_path: Path, doc: dict[str, Any]) -> str:
    header = (f"# Generated from {source_path.name} by "
              f"`python -m cloudify_shared.offline.dsl_versions`;"
              f" do not edit.\n# Cloudify picks this file for blueprints of "
              f"{doc['tosca_definitions_version']}.\n")
    return header + yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=True)


def derived_texts() -> dict[Path, str]:
    texts = {}
    for source, targets in FAMILIES:
        parsed = yaml.safe_load(source.read_text())
        for version, target in targets.items():
            texts[target] = render(source, derive(parsed, version))
    return texts


def main(argv: list[str]) -> int:
    stale = []
    for target, text in derived_texts().items():
        if target.exists() and target.read_text() == text:
            continue
        if "--check" in argv:
            stale.append(target)
        else:
            target.write_text(text)
            print(f"wrote {target.relative_to(ROOT)}")
    for target in stale:
        print(f"{target.relative_to(ROOT)} differs from what its source gives: run "
              f"`python -m cloudify_shared.offline.dsl_versions`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
