"""Microservice + Container + Port on the real local Swarm: the seed's shape, runtime properties,
convergence, delete-and-wait, idempotent re-install, and the cfy CLI."""
from __future__ import annotations

from typing import Any

import pytest

from cloudify_shared.ownership import ownership_labels
from tests.helpers.cfy_cli import CfyCli
from tests.helpers.clusters import docker_client, docker_leftovers
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import TEST_BLUEPRINTS
from tests.integration.swarm.helpers import container_env, http_get

BLUEPRINT = TEST_BLUEPRINTS / "swarm-service" / "blueprint.yaml"
pytestmark = pytest.mark.usefixtures("swarm")

NGINX = ("trap 'nginx -s quit; exit 0' TERM; echo \"$GREETING $SERVERS\" > "
         "/var/www/html/index.html; "
         "sed -i '/listen \\[::\\]/d' /etc/nginx/sites-enabled/default; nginx -g 'daemon off;' & "
         "wait")


def services_named(name: str) -> list[Any]:
    client = docker_client()
    try:
        return [s for s in client.services.list(filters={"name": name}) if s.name == name]
    finally:
        client.close()


def test_seed_shape_nginx_env_and_port(no_leftovers: str) -> None:
    deployment = LocalDeployment(BLUEPRINT, {
        "image": "local/vnf:1", "target_port": 80, "published_port": 18091,
        "command": [NGINX], "greeting": "backends:", "servers": ["10.1.0.2", "10.1.0.3"],
        "resources": {}}, name=no_leftovers)
    deployment.install()
    try:
        service = deployment.outputs()["service"]
        (task,) = service["tasks"]
        assert task["state"] == "running" and task["node"]
        env = container_env(task["container_id"])
        swarm_id = deployment.runtime_properties("swarm")["swarm_info"]["swarm_id"]
        assert env["GREETING"] == "backends:"
        assert env["SERVERS"] == "10.1.0.2 10.1.0.3"          # start input
        assert env["SWARM_ID"] == swarm_id                      # get_attribute through an input
        assert http_get(18091).strip() == "backends: 10.1.0.2 10.1.0.3"
    finally:
        deployment.uninstall()
    assert not docker_leftovers(no_leftovers)


def test_busybox_service_runtime_properties_and_delete(no_leftovers: str) -> None:
    deployment = LocalDeployment(BLUEPRINT, {"published_port": 18092}, name=no_leftovers)
    deployment.install()
    try:
        facts = deployment.runtime_properties("web_container")["service"]
        assert deployment.runtime_properties("web")["service"] == facts
        assert facts["published_ports"] == [{"target": 8080, "published": 18092,
                                             "protocol": "tcp", "mode": "host"}]
        (task,) = facts["tasks"]
        assert task["state"] == "running" and task["node_id"] and task["container_id"]
        assert task["ports"] == facts["published_ports"]
        assert http_get(18092).strip() == "hello 10.0.0.2 10.0.0.3"
        (service,) = services_named(facts["name"])
        web = deployment.instances("web")[0]
        labels = service.attrs["Spec"]["Labels"]
        assert labels["role"] == "web"
        assert labels.items() >= ownership_labels(no_leftovers, web.id).items()
        limits = service.attrs["Spec"]["TaskTemplate"]["Resources"]["Limits"]
        assert limits["MemoryBytes"] == 64 * 1024 * 1024
    finally:
        deployment.uninstall()
    # uninstall waited: nothing with our labels is left at the moment it returned
    assert not docker_leftovers(no_leftovers)
    assert not services_named(facts["name"])


def test_reinstall_after_crash_adopts_the_service(no_leftovers: str) -> None:
    deployment = LocalDeployment(BLUEPRINT, {"published_port": 18093}, name=no_leftovers)
    deployment.install()
    try:
        first = deployment.runtime_properties("web_container")["service"]
        # a crashed install re-runs start: the service is found by name + labels, not duplicated
        deployment.execute("execute_operation", {
            "operation": "cloudify.interfaces.lifecycle.start", "node_ids": ["web_container"]})
        again = deployment.runtime_properties("web_container")["service"]
        assert again["id"] == first["id"]
        assert again["tasks"] == first["tasks"]  # adopted as is: no rolling restart
        assert len(services_named(first["name"])) == 1
    finally:
        deployment.uninstall()
    assert not docker_leftovers(no_leftovers)


def test_reinstall_with_changed_spec_updates_in_place(no_leftovers: str) -> None:
    deployment = LocalDeployment(BLUEPRINT, {"published_port": 18094}, name=no_leftovers)
    deployment.install()
    try:
        first = deployment.runtime_properties("web_container")["service"]
        deployment.execute("execute_operation", {
            "operation": "cloudify.interfaces.lifecycle.start", "node_ids": ["web_container"],
            "operation_kwargs": {"env": {"SERVERS": "10.9.9.9"}}, "allow_kwargs_override": True})
        again = deployment.runtime_properties("web_container")["service"]
        assert again["id"] == first["id"] and len(services_named(first["name"])) == 1
        (task,) = again["tasks"]
        assert task["id"] != first["tasks"][0]["id"]
        assert container_env(task["container_id"])["SERVERS"] == "10.9.9.9"
        assert http_get(18094).strip() == "hello 10.9.9.9"
    finally:
        deployment.uninstall()
    assert not docker_leftovers(no_leftovers)


@pytest.mark.cfy
def test_cfy_cli_installs_and_uninstalls_a_service(cfy: CfyCli, no_leftovers: str) -> None:
    cfy.install(BLUEPRINT, no_leftovers, {"published_port": 18095}).check()
    service = cfy.outputs(no_leftovers)["service"]
    assert [t["state"] for t in service["tasks"]] == ["running"]
    assert http_get(18095).strip() == "hello 10.0.0.2 10.0.0.3"
    cfy.uninstall(no_leftovers).check()
    assert not docker_leftovers(no_leftovers)


@pytest.mark.cfy
def test_cfy_cli_endpoint_from_a_deployment_proxy(cfy: CfyCli, no_leftovers: str) -> None:
    upstream = f"{no_leftovers}-up"
    cfy.install(TEST_BLUEPRINTS / "swarm-manager" / "blueprint.yaml", upstream).check()
    try:
        cfy.install(TEST_BLUEPRINTS / "swarm-proxied" / "blueprint.yaml", no_leftovers,
                    {"upstream": upstream}).check()
        service = cfy.outputs(no_leftovers)["service"]
        (task,) = service["tasks"]
        assert container_env(task["container_id"])["MANAGERS"] == "127.0.0.1:2377"
        assert http_get(18102).strip() == "127.0.0.1:2377"
        cfy.uninstall(no_leftovers).check()
    finally:
        cfy.uninstall(upstream).check()
    assert not docker_leftovers(no_leftovers)
