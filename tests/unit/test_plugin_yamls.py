"""One plugin yaml per DSL version (plugin.yaml = 1.3, plugin_1_4.yaml, plugin_1_5.yaml), derived
from plugin_1_5.yaml so they cannot drift; each parses under its own version with the official
types of that version and with the offline minimal ones; every operation named in them takes
exactly a closed set of inputs (anything else is refused, never dropped)."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from dsl_parser import parser

from cloudify_shared.offline import dsl_versions
from cloudify_shared.offline.resolver import MINIMAL_TYPES, OfflineImportResolver, plugin_yaml_for
from tests.helpers.paths import OFFICIAL_TYPES_DIR, ROOT

VERSIONS = {"1_3": ROOT / "plugin.yaml", "1_4": ROOT / "plugin_1_4.yaml",
            "1_5": ROOT / "plugin_1_5.yaml"}
TYPES_NAME = {"1_3": "types_1_3.yaml", "1_4": "types_1_4.yaml", "1_5": "types.yaml"}
NO_OFFICIAL = not (OFFICIAL_TYPES_DIR / "types.yaml").exists()


def blueprint(tmp_path: Path, version: str, types_import: str) -> Path:
    path = tmp_path / f"bp-{version}.yaml"
    path.write_text(f"""
tosca_definitions_version: cloudify_dsl_{version}
imports:
  - {types_import}
  - plugin:cloudify-vnf-suite
node_templates:
  master:
    type: cloudify.kubernetes.Master
  app:
    type: cloudify.kubernetes.Microservice
    relationships:
      - {{type: cloudify.kubernetes.relationships.connected_to_master, target: master}}
  swarm:
    type: cloudify.swarm.Manager
  service:
    type: cloudify.swarm.Microservice
    relationships:
      - {{type: cloudify.relationships.contained_in, target: swarm}}
  container:
    type: cloudify.swarm.Container
    properties: {{image: nginx, entry_point: [nginx, -g, daemon off;]}}
    relationships:
      - {{type: cloudify.swarm.relationships.contained_in_microservice, target: service}}
  proxy:
    type: cloudify.nodes.DeploymentProxy
    properties: {{deployment_id: upstream}}
""")
    return path


def parse(path: Path, types_file: Path) -> dict[str, Any]:
    resolver = OfflineImportResolver(types_file=str(types_file),
                                     plugins={"cloudify-vnf-suite": str(ROOT / "plugin.yaml")})
    return parser.parse_from_path(str(path), resolver=resolver)


def test_derived_yamls_are_what_their_sources_give() -> None:
    stale = [str(target.relative_to(ROOT)) for target, text in dsl_versions.derived_texts().items()
             if not target.exists() or target.read_text() != text]
    assert not stale, f"run `python -m cloudify_shared.offline.dsl_versions`: {stale} differ"


def test_the_yamls_differ_only_in_what_older_versions_lack() -> None:
    newest = yaml.safe_load(VERSIONS["1_5"].read_text())
    for version in ("1_3", "1_4"):
        derived = yaml.safe_load(VERSIONS[version].read_text())
        assert derived == dsl_versions.derive(newest, version)
        assert set(derived["node_types"]) == set(newest["node_types"])
        assert derived["tosca_definitions_version"] == f"cloudify_dsl_{version}"


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_each_dsl_version_picks_its_own_yaml(version: str) -> None:
    assert plugin_yaml_for(ROOT / "plugin.yaml", version) == VERSIONS[version]
    # older: the unversioned one
    assert plugin_yaml_for(ROOT / "plugin.yaml", "1_2") == ROOT / "plugin.yaml"
    # newer: the newest older one
    assert plugin_yaml_for(ROOT / "plugin.yaml", "1_6") == VERSIONS["1_5"]


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize("types_import", ["cloudify/types/types.yaml",
                                          "http://cloudify.co/spec/cloudify/7.0.0/{name}"])
def test_plugin_parses_with_the_minimal_types_of_each_version(tmp_path: Path, version: str,
                                                              types_import: str) -> None:
    plan = parse(blueprint(tmp_path, version, types_import.format(name=TYPES_NAME[version])),
                 MINIMAL_TYPES)
    container = next(n for n in plan["nodes"] if n["id"] == "container")
    assert container["properties"]["entry_point"] == ["nginx", "-g", "daemon off;"]


@pytest.mark.skipif(NO_OFFICIAL,
                    reason=f"official Cloudify types not found in {OFFICIAL_TYPES_DIR}")
@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize("types_import", ["cloudify/types/types.yaml",
                                          "http://cloudify.co/spec/cloudify/7.0.0/{name}"])
def test_plugin_parses_with_the_official_types_of_each_version(tmp_path: Path, version: str,
                                                               types_import: str) -> None:
    parse(blueprint(tmp_path, version, types_import.format(name=TYPES_NAME[version])),
          OFFICIAL_TYPES_DIR / "types.yaml")


@pytest.mark.parametrize("version", ["1_3", "1_4"])
def test_the_newest_types_url_in_an_older_blueprint_says_what_to_import(
    tmp_path: Path, version: str,
) -> None:
    path = blueprint(tmp_path, version, "http://cloudify.co/spec/cloudify/7.0.0/types.yaml")
    with pytest.raises(Exception, match=f"types_{version}.yaml .* or the short form "
                                        "cloudify/types/types.yaml"):
        parse(path, MINIMAL_TYPES)


def operations() -> list[tuple[str, str, frozenset[str]]]:
    """(where, implementation, declared input names) for every operation in plugin_1_5.yaml."""
    doc = yaml.safe_load(VERSIONS["1_5"].read_text())
    found = []
    for kind in ("node_types", "relationships"):
        for type_name, definition in doc[kind].items():
            for section in ("interfaces", "source_interfaces", "target_interfaces"):
                for interface, ops in (definition.get(section) or {}).items():
                    for name, op in ops.items():
                        found.append((f"{type_name} {interface}.{name}", op["implementation"],
                                      frozenset(op.get("inputs") or {})))
    return found


@pytest.mark.parametrize("where,implementation,declared", operations(),
                         ids=[o[0] for o in operations()])
def test_every_operation_takes_a_closed_set_of_inputs_including_the_declared_ones(
        where: str, implementation: str, declared: frozenset[str]) -> None:
    module, function = implementation.split(".", 1)[1].rsplit(".", 1)  # without the plugin name
    func = getattr(importlib.import_module(module), function)
    accepted = func.accepted_inputs
    assert accepted is not None, (f"{implementation} takes **inputs without declaring them "
                                  "(@task(inputs=...))")
    assert declared <= accepted, (f"{where}: declared {sorted(declared - accepted)} but the task "
                                  "refuses them")
