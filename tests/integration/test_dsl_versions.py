"""Blueprints of every DSL version through the real `cfy` local profile on the real local Swarm:
the 2016 blog's service blueprint in its own syntax (DSL 1.3, `entry_point`, env as a `create`
input, inherit_outputs), a DSL 1.4 copy of an example, and an operation input the plugin does not
take, refused naming the node, the operation and the input, with nothing left behind."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import clusters
from tests.helpers.cfy_cli import CfyCli
from tests.helpers.paths import EXAMPLES, TEST_BLUEPRINTS
from tests.integration.swarm.helpers import container_env, http_get

BLOG = TEST_BLUEPRINTS / "blog-service-1_3" / "blueprint.yaml"
SWARM_MANAGER = TEST_BLUEPRINTS / "swarm-manager" / "blueprint.yaml"
UPSTREAM = TEST_BLUEPRINTS / "proxy-upstream" / "blueprint.yaml"
pytestmark = [pytest.mark.cfy, pytest.mark.usefixtures("swarm")]


def as_dsl(source: Path, version: str, target: Path) -> Path:
    """A copy of the blueprint folder `source` lives in, as a DSL `version` blueprint: only the
    version line and the types import change (to the short form, which resolves per version)."""
    shutil.copytree(source.parent, target)
    path = target / source.name
    text = path.read_text()
    for line in text.splitlines():
        if line.startswith("tosca_definitions_version:"):
            text = text.replace(line, f"tosca_definitions_version: cloudify_dsl_{version}")
        if "cloudify.co/spec/cloudify/" in line and line.strip().startswith("- "):
            text = text.replace(line, "  - cloudify/types/types.yaml")
    path.write_text(text)
    return path


@pytest.fixture
def upstreams(cfy: CfyCli, deployment_id: str) -> Iterator[dict[str, str]]:
    ids = {"swarm_deployment": f"{deployment_id}-swarm",
           "kubernetes_deployment": f"{deployment_id}-k8s"}
    cfy.install(SWARM_MANAGER, ids["swarm_deployment"]).check()
    cfy.install(UPSTREAM, ids["kubernetes_deployment"],
                {"backend_ips": ["10.1.0.7", "10.1.0.8"]}).check()
    yield ids
    for upstream in ids.values():
        cfy.uninstall(upstream).check()


def test_the_2016_blog_service_blueprint_runs_in_its_own_syntax(cfy: CfyCli, deployment_id: str,
                                                                 upstreams: dict[str, str]) -> None:
    cfy.install(BLOG, deployment_id, {**upstreams, "published_port": 18131}).check()
    try:
        (task,) = cfy.outputs(deployment_id)["service"]["tasks"]
        servers = container_env(task["container_id"])["SERVERS"]
        assert "10.1.0.7" in servers and "10.1.0.8" in servers, servers  # env from the create input
        assert http_get(18131).strip() == servers  # entry_point + command ran it
    finally:
        cfy.uninstall(deployment_id).check()
    clusters.wait_gone(lambda: clusters.leftovers(deployment_id), timeout=60)


def test_a_dsl_1_4_copy_of_the_swarm_cluster_example_installs(cfy: CfyCli, deployment_id: str,
                                                               tmp_path: Path) -> None:
    blueprint = as_dsl(EXAMPLES / "swarm-cluster" / "blueprint.yaml", "1_4",
                       tmp_path / "swarm-cluster")
    assert "cloudify_dsl_1_4" in blueprint.read_text()
    cfy.install(blueprint, deployment_id).check()
    try:
        assert cfy.outputs(deployment_id)["swarm_info"]["managers"]
    finally:
        cfy.uninstall(deployment_id).check()


def test_an_input_the_operation_does_not_take_is_refused_naming_it(cfy: CfyCli, deployment_id: str,
                                                                   upstreams: dict[str, str],
                                                                   tmp_path: Path) -> None:
    shutil.copytree(BLOG.parent, tmp_path / "typo")
    typo = tmp_path / "typo" / BLOG.name
    typo.write_text(BLOG.read_text().replace("          inputs:\n            env:",
                                             "          inputs:\n            envv:"))
    failed = cfy.install(typo, deployment_id, {**upstreams, "published_port": 18132})
    try:
        assert failed.returncode != 0
        assert ("node 'nginx_container'" in failed.output and
                "operation cloudify.interfaces.lifecycle.create: unknown input(s) envv (it takes: "
                "env)"
                in failed.output), failed.output[-3000:]
        assert not clusters.docker_leftovers(deployment_id)  # refused before anything was made
    finally:
        if (cfy.profile_dir / "deployments" / deployment_id).exists():
            cfy.uninstall(deployment_id).check()


def test_a_misspelled_nested_property_is_refused_before_anything_runs(
    cfy: CfyCli, deployment_id: str, tmp_path: Path,
) -> None:
    typo = tmp_path / "blueprint.yaml"
    typo.write_text(SWARM_MANAGER.read_text().replace("docker_host: {get_input: docker_host}",
                                                      "docker_hots: {get_input: docker_host}"))
    failed = cfy.install(typo, deployment_id)
    assert failed.returncode != 0 and "docker_hots" in failed.output, failed.output[-3000:]
    assert not (cfy.profile_dir / "deployments" / deployment_id).exists()
