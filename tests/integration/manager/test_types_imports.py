"""The types imports resolve on the manager without the network: the official URL the suite's
blueprints use and Cloudify 7's short form `cloudify/types/types.yaml`; an unknown version fails
at once instead of hanging on a fetch."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from examples.manager import CfyFailed, ManagerCfy

BLUEPRINT = """tosca_definitions_version: cloudify_dsl_1_5
imports:
  - {types}
  - plugin:cloudify-vnf-suite
node_templates:
  proxy:
    type: cloudify.nodes.DeploymentProxy
    properties: {{deployment_id: anything}}
"""


def write(tmp_path: Path, types: str) -> Path:
    path = tmp_path / "bp" / "blueprint.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BLUEPRINT.format(types=types))
    return path


@pytest.mark.parametrize("types", ["http://cloudify.co/spec/cloudify/7.0.0/types.yaml",
                                   "cloudify/types/types.yaml"])
def test_types_import_resolves_offline(on_manager: ManagerCfy, tmp_path: Path, deployment_id: str,
                                       types: str) -> None:
    on_manager.upload_blueprint(write(tmp_path, types), deployment_id)
    try:
        plan = on_manager.access.client().blueprints.get(deployment_id).plan
        assert [node["type"] for node in plan["nodes"]] == ["cloudify.nodes.DeploymentProxy"]
    finally:
        on_manager.run("blueprints", "delete", deployment_id)


def test_unknown_types_version_fails_fast(on_manager: ManagerCfy, tmp_path: Path,
                                          deployment_id: str) -> None:
    start = time.monotonic()
    with pytest.raises(CfyFailed) as error:
        on_manager.upload_blueprint(write(tmp_path,
                                          "http://cloudify.co/spec/cloudify/9.9.9/types.yaml"),
                                    deployment_id)
    assert time.monotonic() - start < 60
    assert "9.9.9" in str(error.value)
    on_manager.run("blueprints", "delete", deployment_id, check=False)
