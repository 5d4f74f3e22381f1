"""The same blueprints of every DSL version on the real manager: it picks plugin.yaml (1.3),
plugin_1_4.yaml or plugin_1_5.yaml from the uploaded wagon by the blueprint's version, and the
short types import per version. The 2016 blog's service blueprint (DSL 1.3, entry_point, env as
a create input, inherit_outputs) installs with the env visible inside the running container; a
DSL 1.4 copy of an example installs; an input an operation does not take fails the install,
named in the events, with nothing made."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.manager import CfyFailed, ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import EXAMPLES
from tests.integration.swarm.helpers import container_env, http_get
from tests.integration.test_dsl_versions import BLOG, SWARM_MANAGER, UPSTREAM, as_dsl

pytestmark = pytest.mark.usefixtures("swarm")


@pytest.fixture
def upstreams(on_manager: ManagerCfy, manager_deployment: str) -> Iterator[dict[str, str]]:
    ids = {"swarm_deployment": f"{manager_deployment}-swarm",
           "kubernetes_deployment": f"{manager_deployment}-k8s"}
    try:
        on_manager.install(SWARM_MANAGER, ids["swarm_deployment"])
        on_manager.install(UPSTREAM, ids["kubernetes_deployment"],
                           {"backend_ips": ["10.1.0.7", "10.1.0.8"]})
        yield ids
    finally:
        for upstream in ids.values():
            on_manager.uninstall(upstream)


def test_the_2016_blog_service_blueprint_runs_on_the_manager(
    on_manager: ManagerCfy, manager_deployment: str, upstreams: dict[str, str],
) -> None:
    on_manager.install(BLOG, manager_deployment, {**upstreams, "published_port": 18133})
    (task,) = on_manager.outputs(manager_deployment)["service"]["tasks"]
    servers = container_env(task["container_id"])["SERVERS"]
    assert "10.1.0.7" in servers and "10.1.0.8" in servers, servers
    assert http_get(18133).strip() == servers
    on_manager.uninstall(manager_deployment)
    clusters.wait_gone(lambda: clusters.leftovers(manager_deployment), timeout=60)


def test_a_dsl_1_4_copy_of_the_swarm_cluster_example_installs_on_the_manager(
        on_manager: ManagerCfy, manager_deployment: str, tmp_path: Path) -> None:
    blueprint = as_dsl(EXAMPLES / "swarm-cluster" / "blueprint.yaml", "1_4",
                       tmp_path / "swarm-cluster")
    on_manager.install(blueprint, manager_deployment)
    assert on_manager.outputs(manager_deployment)["swarm_info"]["managers"]


def test_an_unknown_operation_input_fails_the_install_naming_it(
    on_manager: ManagerCfy, manager_deployment: str, upstreams: dict[str, str], tmp_path: Path,
) -> None:
    typo = tmp_path / "typo" / BLOG.name
    typo.parent.mkdir()
    typo.write_text(BLOG.read_text().replace("          inputs:\n            env:",
                                             "          inputs:\n            envv:"))
    with pytest.raises(CfyFailed):
        on_manager.install(typo, manager_deployment, {**upstreams, "published_port": 18134})
    install = [e for e in on_manager.executions(manager_deployment) if e.workflow_id
               == "install"][-1]
    events = on_manager.events(install.id)
    assert ("unknown input(s) envv (it takes: env)" in events
            and "nginx_container" in events), events[-3000:]
    assert not clusters.docker_leftovers(manager_deployment)


def test_a_misspelled_nested_property_is_refused_at_blueprint_upload(on_manager: ManagerCfy,
                                                                     tmp_path: Path) -> None:
    typo = tmp_path / "blueprint.yaml"
    typo.write_text(SWARM_MANAGER.read_text().replace("docker_host: {get_input: docker_host}",
                                                      "docker_hots: {get_input: docker_host}"))
    client = on_manager.access.client()
    try:
        with pytest.raises(CfyFailed, match="docker_hots"):
            on_manager.upload_blueprint(typo, "misspelled-nested-property")
        # Cloudify 7 keeps the refused upload as an invalid blueprint: nothing can deploy it
        refused = client.blueprints.get("misspelled-nested-property")
        assert refused.state == "invalid" and "endpoint.docker_hots" in (refused.get("error") or "")
    finally:
        client.blueprints.delete("misspelled-nested-property", force=True)
