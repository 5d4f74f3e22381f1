"""cloudify-utilities-plugin defines a node type of the same name, cloudify.nodes.DeploymentProxy.
What dsl_parser 7.0.5 does with a blueprint importing both plugins, proven with a stand-in of the
utilities plugin's yaml (tests/blueprints/proxy-utilities-clash): no conflict is reported, the
definition imported LAST wins (dsl_parser lets any `cloudify.` type be redefined, and never
namespaces those names, so a namespaced import does not help), and a node written for the other
definition fails to parse naming the property that type lacks. docs/guides/deployment-proxy.md
documents it; these tests keep that text true."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dsl_parser import parser

from cloudify_proxy.config import parse_proxy
from cloudify_shared.errors import UserError
from cloudify_shared.offline.resolver import MINIMAL_TYPES, OfflineImportResolver
from tests.helpers.paths import ROOT, TEST_BLUEPRINTS

STANDIN = TEST_BLUEPRINTS / "proxy-utilities-clash" / "plugin" / "utilities-standin.yaml"
OURS, UTILITIES = "plugin:cloudify-vnf-suite", "plugin:cloudify-utilities-plugin"


def parse(tmp_path: Path, imports: list[str], properties: str) -> dict[str, Any]:
    path = tmp_path / "blueprint.yaml"
    lines = "\n".join(f"  - {i}" for i in imports)
    path.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - http://cloudify.co/spec/cloudify/7.0.0/types.yaml
{lines}
node_templates:
  proxy:
    type: cloudify.nodes.DeploymentProxy
    properties: {properties}
""")
    resolver = OfflineImportResolver(types_file=str(MINIMAL_TYPES), plugins={
        "cloudify-vnf-suite": str(ROOT / "plugin.yaml"), "cloudify-utilities-plugin": str(STANDIN)})
    return parser.parse_from_path(str(path), resolver=resolver)


def create_of(plan: dict[str, Any]) -> str:
    (node,) = plan["nodes"]
    return str(node["operations"]["cloudify.interfaces.lifecycle.create"]["operation"])


@pytest.mark.parametrize("utilities", [UTILITIES, f"util--{UTILITIES}"])
def test_imported_last_ours_wins_silently(tmp_path: Path, utilities: str) -> None:
    plan = parse(tmp_path, [utilities, OURS], "{deployment_id: upstream}")
    assert create_of(plan) == "cloudify_proxy.tasks.proxy_create"
    with pytest.raises(Exception, match="'resource_config' property is not part of the derived "
                                        "type properties schema"):
        parse(tmp_path, [utilities, OURS], "{resource_config: {deployment: {id: upstream}}}")


@pytest.mark.parametrize("utilities", [UTILITIES, f"util--{UTILITIES}"])
def test_imported_last_the_utilities_type_wins_silently(tmp_path: Path, utilities: str) -> None:
    plan = parse(tmp_path, [OURS, utilities], "{resource_config: {}}")
    assert create_of(plan) == "cloudify_deployment_proxy.tasks.upload_blueprint"
    with pytest.raises(Exception, match="'deployment_id' property is not part of the derived "
                                        "type properties schema"):
        parse(tmp_path, [OURS, utilities], "{deployment_id: upstream}")


def test_a_node_with_no_properties_reaches_our_create_which_names_the_clash(tmp_path: Path) -> None:
    plan = parse(tmp_path, [UTILITIES, OURS], "{}")  # parses: every property has a default
    assert create_of(plan) == "cloudify_proxy.tasks.proxy_create"
    (node,) = plan["nodes"]
    with pytest.raises(UserError) as error:
        parse_proxy(node["properties"], {})
    assert str(error.value).startswith("properties.deployment_id: required but empty")
    assert "cloudify-utilities-plugin's cloudify.nodes.DeploymentProxy" in str(error.value)
