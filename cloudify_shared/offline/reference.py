"""The node-type reference (docs/reference/), generated from the same yamls Cloudify reads.

One page per node type, data type and relationship of `plugin_1_5.yaml`, and an index
(README.md) grouping them by plugin. A page shows derived_from, every property (type, default,
required, description, and the DSL versions whose yaml has it: plugin_1_4.yaml and plugin.yaml
are derived from 1.5 by dsl_versions), every operation with its implementation and inputs, and
for a node type the runtime properties it publishes, from each plugin's declared list
(`cloudify_*/runtime_properties.py`). The comment above a type in plugin_1_5.yaml is its summary.

    python -m cloudify_shared.offline.reference [--check]   (from the project root)

writes docs/reference (or, with --check, exits 1 naming each page that differs, is missing or
is extra). No I/O beyond main(); the pages are a pure function of the parsed yamls.
"""
from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from cloudify_kubernetes import runtime_properties as kubernetes_runtime
from cloudify_proxy import runtime_properties as proxy_runtime
from cloudify_swarm import runtime_properties as swarm_runtime

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "reference"
COMMAND = "python -m cloudify_shared.offline.reference"
SOURCE = "plugin_1_5.yaml"
# DSL version -> the plugin yaml Cloudify picks for it (newest first)
YAMLS = {"1.5": "plugin_1_5.yaml", "1.4": "plugin_1_4.yaml", "1.3": "plugin.yaml"}
SECTIONS = (("node_types", "Node types"), ("data_types", "Data types"),
            ("relationships", "Relationships"))
INTERFACE_KEYS = (("interfaces", "Operations"), ("source_interfaces", "Source interfaces"),
                  ("target_interfaces", "Target interfaces"))
# A type whose operations name no plugin belongs to the plugin its name says.
NAME_PLUGINS = {"kubernetes": "vnf_kubernetes", "swarm": "vnf_swarm", "proxy": "vnf_proxy"}
PUBLISHED = {**kubernetes_runtime.PUBLISHED, **swarm_runtime.PUBLISHED, **proxy_runtime.PUBLISHED}
INTERNAL = {**kubernetes_runtime.INTERNAL, **swarm_runtime.INTERNAL, **proxy_runtime.INTERNAL}


def page_name(type_name: str) -> str:
    return f"{type_name}.md"


def header(up: str) -> str:
    return (f"_Generated from [{SOURCE}]({up}{SOURCE}) and the plugins' runtime_properties.py by "
            f"`{COMMAND}`; do not edit._\n")


def cell(text: Any) -> str:
    """One markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def shown_default(schema: Mapping[str, Any]) -> str:
    if "default" not in schema:
        return ""
    return f"`{json.dumps(schema['default'], ensure_ascii=False)}`"


def is_required(schema: Mapping[str, Any]) -> bool:
    """Whether a blueprint must give it: required (the DSL's default) and no default."""
    return bool(schema.get("required", True)) and "default" not in schema


def shown_type(schema: Mapping[str, Any], data_types: Mapping[str, Any]) -> str:
    name = schema.get("type")
    if name is None:
        return "any"
    return f"[{name}]({page_name(name)})" if name in data_types else f"`{name}`"


def type_comments(text: str) -> dict[str, str]:
    """Type name -> the comment block right above its key in the yaml (two-space indent),
    without a `# ----` separator line."""
    comments: dict[str, str] = {}
    block: list[str] = []
    for line in text.splitlines():
        match = re.fullmatch(r"  ([\w.]+):\s*", line)
        if match and block:
            comments[match.group(1)] = " ".join(block)
        if line.startswith("  # ") and not line.startswith("  # ---"):
            block.append(line[4:].strip())
        else:
            block = []
    return comments


def summary(text: str) -> str:
    """The first sentence (a period and a space end it, but not in "e.g." or "i.e.")."""
    first = re.split(r"(?<!\be\.g)(?<!\bi\.e)\.\s+", text.strip(), maxsplit=1)[0]
    return first.rstrip(".") + "." if first else ""


def versions_of(section: str, type_name: str, prop: str, docs: Mapping[str, Any]) -> str:
    """The DSL versions whose yaml has the property (with its type there, where it differs)."""
    newest = docs["1.5"][section][type_name]["properties"][prop].get("type")
    shown = []
    for version in sorted(docs):
        schema = ((docs[version].get(section) or {}).get(type_name) or {}).get("properties", {})
        if prop in schema:
            older = schema[prop].get("type")
            shown.append(version if older == newest else f"{version} (as `{older}`)")
    return ", ".join(shown)


def properties_table(section: str, type_name: str, docs: Mapping[str, Any]) -> list[str]:
    source = docs["1.5"]
    properties = source[section][type_name].get("properties") or {}
    if not properties:
        return ["No properties."]
    lines = ["| Property | Type | Default | Required | DSL | Description |",
             "|---|---|---|---|---|---|"]
    for name, schema in properties.items():
        lines.append(f"| `{name}` | {shown_type(schema, source.get('data_types') or {})} | "
                     f"{shown_default(schema)} | {'yes' if is_required(schema) else 'no'} | "
                     f"{versions_of(section, type_name, name, docs)} | "
                     f"{cell(schema.get('description', ''))} |")
    return lines


def operation_parts(operation: Any) -> tuple[str, dict[str, Any]]:
    """(implementation, inputs) of an operation, written as a mapping or as its implementation."""
    if isinstance(operation, dict):
        return str(operation.get("implementation", "")), dict(operation.get("inputs") or {})
    return str(operation), {}


def interfaces_section(title: str, interfaces: Mapping[str, Any],
                       data_types: Mapping[str, Any]) -> list[str]:
    lines = [f"## {title}", ""]
    for interface, operations in interfaces.items():
        lines += [f"### {interface}", "", "| Operation | Implementation |", "|---|---|"]
        with_inputs = []
        for name, operation in (operations or {}).items():
            implementation, inputs = operation_parts(operation)
            lines.append(f"| `{name}` | `{implementation}` |")
            if inputs:
                with_inputs.append((name, inputs))
        for name, inputs in with_inputs:
            lines += ["", f"Inputs of `{name}`:", "", "| Input | Type | Default | Description |",
                      "|---|---|---|---|"]
            lines += [f"| `{key}` | {shown_type(schema, data_types)} | {shown_default(schema)} | "
                      f"{cell(schema.get('description', ''))} |" for key, schema in inputs.items()]
        lines.append("")
    return lines


def runtime_section(type_name: str) -> list[str]:
    published = PUBLISHED.get(type_name) or {}
    lines = ["## Runtime properties", "",
             "What the operations write and `get_attribute` can read (from the plugin's "
             "runtime_properties.py)."]
    if published:
        lines += ["", "| Runtime property | Description |", "|---|---|"]
        lines += [f"| `{name}` | {cell(text)} |" for name, text in published.items()]
    else:
        lines += ["", "None."]
    internal = INTERNAL.get(type_name) or {}
    if internal:
        lines += ["", "Internal bookkeeping, not an interface (it may change): "
                  + ", ".join(f"`{name}`" for name in internal) + "."]
    return lines + [""]


def derived_line(definition: Mapping[str, Any], source: Mapping[str, Any]) -> str:
    parent = definition.get("derived_from")
    if not parent:
        return ""
    known = any(parent in (source.get(section) or {}) for section, _ in SECTIONS)
    shown = f"[{parent}]({page_name(parent)})" if known else f"`{parent}` (Cloudify's)"
    return f"Derived from {shown}."


def users_of(data_type: str, source: Mapping[str, Any]) -> list[str]:
    """`type.property` of every node type or data type property of this data type."""
    return [f"[{owner}]({page_name(owner)}).`{prop}`"
            for section in ("node_types", "data_types")
            for owner, definition in (source.get(section) or {}).items()
            for prop, schema in (definition.get("properties") or {}).items()
            if schema.get("type") == data_type]


def type_page(section: str, type_name: str, docs: Mapping[str, Any], comments: Mapping[str, str],
              plugin: str) -> str:
    source = docs["1.5"]
    definition = source[section][type_name]
    kind = dict(SECTIONS)[section][:-1].lower()
    lines = [header("../../"), f"# {type_name}", "",
             f"A {kind} of plugin `{plugin}`. [All types](README.md)", ""]
    about = definition.get("description") or comments.get(type_name)
    if about:
        lines += [" ".join(str(about).split()), ""]
    derived = derived_line(definition, source)
    if derived:
        lines += [derived, ""]
    if section != "relationships" or definition.get("properties"):
        lines += ["## Properties", ""] + properties_table(section, type_name, docs) + [""]
    if section == "data_types":
        users = users_of(type_name, source)
        lines += ["## Used by", "", *(f"- {user}" for user in users), ""] if users else []
    for key, title in INTERFACE_KEYS:
        if definition.get(key):
            lines += interfaces_section(title, definition[key], source.get("data_types") or {})
    if section == "node_types":
        lines += runtime_section(type_name)
    return "\n".join(lines).rstrip("\n") + "\n"


def plugin_of(definition: Mapping[str, Any], type_name: str) -> str:
    for key, _title in INTERFACE_KEYS:
        for operations in (definition.get(key) or {}).values():
            for operation in (operations or {}).values():
                implementation, _inputs = operation_parts(operation)
                if "." in implementation:
                    return implementation.split(".", 1)[0]
    for word, plugin in NAME_PLUGINS.items():
        if word in type_name.split(".") or type_name.lower().endswith(word):
            return plugin
    return "other"


def index_page(source: Mapping[str, Any], plugins: Mapping[str, str],
               comments: Mapping[str, str]) -> str:
    lines = [header("../../"), "# Reference: the types of cloudify-vnf-suite", "",
             "Every node type, data type and relationship a blueprint gets from "
             "`plugin:cloudify-vnf-suite`, by plugin. Each page lists the properties (Required: "
             "the blueprint must give it; DSL: the DSL versions whose plugin yaml has it), the "
             "operations and their inputs, and for a node type the runtime properties "
             "`get_attribute` can read.", ""]
    names = {name: section for section, _ in SECTIONS for name in source.get(section) or {}}
    for plugin in sorted(set(plugins.values())):
        lines += [f"## {plugin}", ""]
        for section, title in SECTIONS:
            members = [n for n in source.get(section) or {} if plugins[n] == plugin]
            if not members:
                continue
            lines += [f"### {title}", ""]
            for name in members:
                definition = source[names[name]][name]
                about = summary(" ".join(str(definition.get("description")
                                             or comments.get(name) or "").split()))
                lines.append(f"- [{name}]({page_name(name)})" + (f": {about}" if about else ""))
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def pages(docs: Mapping[str, Any], source_text: str) -> dict[str, str]:
    """File name (under docs/reference) -> text, for `docs` = DSL version -> parsed plugin yaml
    and `source_text` the text of plugin_1_5.yaml (for the comments above the types)."""
    source = docs["1.5"]
    comments = type_comments(source_text)
    plugins = {name: plugin_of(definition, name)
               for section, _ in SECTIONS
               for name, definition in (source.get(section) or {}).items()}
    texts = {"README.md": index_page(source, plugins, comments)}
    for section, _title in SECTIONS:
        for name in source.get(section) or {}:
            texts[page_name(name)] = type_page(section, name, docs, comments, plugins[name])
    return texts


def reference_texts() -> dict[str, str]:
    """The pages the yamls under ROOT give (reads them)."""
    docs = {version: yaml.safe_load((ROOT / name).read_text()) for version, name in YAMLS.items()}
    return pages(docs, (ROOT / SOURCE).read_text())


def committed_texts() -> dict[str, str]:
    """The pages in docs/reference (reads them)."""
    return {p.name: p.read_text() for p in sorted(OUT.glob("*.md"))} if OUT.exists() else {}


def differences(wanted: Mapping[str, str], present: Mapping[str, str]) -> list[str]:
    """One line per page that differs, is missing or is extra."""
    found = [f"docs/reference/{name} {'differs' if name in present else 'is missing'}"
             for name, text in sorted(wanted.items()) if present.get(name) != text]
    return found + [f"docs/reference/{name} is extra (no type of {SOURCE} makes it)"
                    for name in sorted(set(present) - set(wanted))]


def main(argv: list[str]) -> int:
    wanted, present = reference_texts(), committed_texts()
    if "--check" in argv:
        problems = differences(wanted, present)
        for problem in problems:
            print(f"{problem}: run `{COMMAND}`", file=sys.stderr)
        return 1 if problems else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(wanted.items()):
        if present.get(name) != text:
            (OUT / name).write_text(text)
            print(f"wrote docs/reference/{name}")
    for name in sorted(set(present) - set(wanted)):
        (OUT / name).unlink()
        print(f"removed docs/reference/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
