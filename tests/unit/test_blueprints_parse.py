"""plugin.yaml and every blueprint parse against both the official Cloudify types (as a real
manager would see them) and the minimal offline types shipped in cloudify_shared/offline."""
from __future__ import annotations

from pathlib import Path

import pytest
from dsl_parser import parser

from tests.helpers.local_workflows import offline_resolver
from tests.helpers.paths import EXAMPLES, OFFICIAL_TYPES_DIR, TEST_BLUEPRINTS

BLUEPRINTS = sorted([*EXAMPLES.glob("*/blueprint.yaml"), *EXAMPLES.glob("*/*-blueprint.yaml"),
                     *TEST_BLUEPRINTS.glob("*/*.yaml")])
OFFICIAL = OFFICIAL_TYPES_DIR / "types.yaml"

PLUGIN_ONLY = """
tosca_definitions_version: cloudify_dsl_1_5
imports:
  - http://cloudify.co/spec/cloudify/7.0.0/types.yaml
  - plugin:cloudify-vnf-suite
"""


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(p.parents[2])) for p in paths]


def parse(path: Path, types_file: Path | None) -> dict:
    return parser.parse_from_path(str(path), resolver=offline_resolver(types_file))


@pytest.fixture
def plugin_only(tmp_path: Path) -> Path:
    path = tmp_path / "plugin-only.yaml"
    path.write_text(PLUGIN_ONLY)
    return path


def test_there_are_blueprints_to_check() -> None:
    assert BLUEPRINTS


def test_plugin_yaml_parses_against_minimal_types(plugin_only: Path) -> None:
    plan = parse(plugin_only, None)
    assert "cloudify.kubernetes.relationships.connected_to_master" in plan["relationships"]
    assert "cloudify.relationships.connected_to_proxy" in plan["relationships"]


@pytest.mark.skipif(not OFFICIAL.exists(), reason="official Cloudify types not found at "
                                                  f"{OFFICIAL} (set CLOUDIFY_OFFICIAL_TYPES)")
def test_plugin_yaml_parses_against_official_types(plugin_only: Path) -> None:
    parse(plugin_only, OFFICIAL)


@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=ids(BLUEPRINTS))
def test_blueprint_parses_against_minimal_types(blueprint: Path) -> None:
    parse(blueprint, None)


@pytest.mark.skipif(not OFFICIAL.exists(), reason="official Cloudify types not found at "
                                                  f"{OFFICIAL} (set CLOUDIFY_OFFICIAL_TYPES)")
@pytest.mark.parametrize("blueprint", BLUEPRINTS, ids=ids(BLUEPRINTS))
def test_blueprint_parses_against_official_types(blueprint: Path) -> None:
    parse(blueprint, OFFICIAL)
