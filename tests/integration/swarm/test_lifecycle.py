"""Cloudify's own lifecycle workflows on a Swarm Microservice + Container, through the real `cfy`
CLI against the real local Swarm: check_status, heal, check_drift, update in place (and a failed
update), a re-run start on a healthy service with old failed tasks, several instances.

The local profile has no deployment update (nor deployment modifications, so the scale workflow
raises NotImplementedError there); a deployment update is what changes ctx.node.properties, so
`set_properties` does that to the stored deployment, and update then runs as the update
workflow runs it: execute_operation of cloudify.interfaces.lifecycle.update, target first.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cfy_cli import CfyCli
from tests.helpers.clusters import docker_client, docker_leftovers
from tests.helpers.paths import TEST_BLUEPRINTS
from tests.integration.swarm.helpers import container_env

BLUEPRINT = TEST_BLUEPRINTS / "swarm-lifecycle" / "blueprint.yaml"
TOKEN = "s3cr3t-t0ken-value"
pytestmark = [pytest.mark.usefixtures("swarm"), pytest.mark.cfy]


def instances(cfy: CfyCli, deployment_id: str, node_id: str) -> list[dict[str, Any]]:
    return [i for i in cfy.node_instances(deployment_id) if i["node_id"] == node_id]


def service_name(cfy: CfyCli, deployment_id: str) -> str:
    (app,) = instances(cfy, deployment_id, "app")
    return str(app["runtime_properties"]["service_name"])


def inspect(name: str) -> dict[str, Any] | None:
    client = docker_client()
    try:
        found = [s.attrs for s in client.services.list(filters={"name": name}) if s.name == name]
        return found[0] if found else None
    finally:
        client.close()


def running_tasks(name: str) -> list[dict[str, Any]]:
    client = docker_client()
    try:
        tasks = client.api.tasks(filters={"service": name, "desired-state": "running"})
    finally:
        client.close()
    return [t for t in tasks if t["Status"]["State"] == "running"]


def docker(*args: str) -> None:
    import subprocess
    subprocess.run(["docker", *args], check=True, capture_output=True, timeout=120)


def set_properties(cfy: CfyCli, deployment_id: str, node_id: str, **changes: Any) -> None:
    """What a deployment update does to the stored node: new property values."""
    path = cfy.profile_dir / "deployments" / deployment_id / "deployment.json"
    data = json.loads(path.read_text())
    data["nodes"][node_id]["properties"].update(changes)
    path.write_text(json.dumps(data))


def operation(cfy: CfyCli, deployment_id: str, name: str, node_ids: list[str] | None = None,
              instance_ids: list[str] | None = None) -> Any:
    params: dict[str, Any] = {"operation": name}
    if node_ids:
        params["node_ids"] = node_ids
    if instance_ids:
        params["node_instance_ids"] = instance_ids
    return cfy.execute("execute_operation", deployment_id, params)


def drift_result(cfy: CfyCli, deployment_id: str, node_id: str) -> Any:
    (instance,) = instances(cfy, deployment_id, node_id)
    return instance["system_properties"]["configuration_drift"]["result"]


def test_check_status_drift_and_heal(cfy: CfyCli, no_leftovers: str) -> None:
    cfy.install(BLUEPRINT, no_leftovers).check()
    try:
        name = service_name(cfy, no_leftovers)
        assert "2/2 task(s) running" in cfy.execute("check_status", no_leftovers).check().output
        cfy.execute("check_drift", no_leftovers).check()
        assert drift_result(cfy, no_leftovers, "app_container") is None
        # a manual change: reported by name, the value masked
        docker("service", "update", "--detach", "--env-add", "TOKEN=changed-by-hand", name)
        result = cfy.execute("check_drift", no_leftovers).check()
        drift = drift_result(cfy, no_leftovers, "app_container")
        assert drift == {"TaskTemplate.ContainerSpec.Env.TOKEN": "differs (value not shown)"}
        assert "changed-by-hand" not in result.output and TOKEN not in result.output
        # removed out of band: check_status names it, heal brings it back
        docker("service", "rm", name)
        failed = cfy.execute("check_status", no_leftovers)
        assert failed.returncode != 0 and f"service {name} does not exist" in failed.output
        started = time.monotonic()
        healed = cfy.execute("heal", no_leftovers).check()
        print(f"heal took {time.monotonic() - started:.1f}s")
        assert "created again" in healed.output
        live = inspect(name)
        assert live is not None and len(running_tasks(name)) == 2
        # the Microservice's copy too
        assert cfy.outputs(no_leftovers)["service"]["id"] == live["ID"]
        cfy.execute("check_status", no_leftovers).check()
    finally:
        cfy.uninstall(no_leftovers).check()
    assert not docker_leftovers(no_leftovers)


def watch_running(name: str, stop: threading.Event, seen: list[int]) -> None:
    while not stop.is_set():
        seen.append(len(running_tasks(name)))
        time.sleep(0.1)


def test_an_update_the_user_did_not_order_keeps_a_task_running(
    cfy: CfyCli, no_leftovers: str,
) -> None:
    """Issue 25: without an update_config order, an in-place update of a one-replica service
    starts the new task before stopping the old one (Swarm's own default, stop-first, left the
    service with no running task for about a second)."""
    cfy.install(BLUEPRINT, no_leftovers, {"replicas": 1}).check()
    try:
        name = service_name(cfy, no_leftovers)
        set_properties(cfy, no_leftovers, "app", update_config={})
        operation(cfy, no_leftovers, "cloudify.interfaces.lifecycle.update", ["app"]).check()
        set_properties(cfy, no_leftovers, "app_container",
                       env={"GREETING": "again", "TOKEN": TOKEN})
        seen: list[int] = []
        stop = threading.Event()
        watcher = threading.Thread(target=watch_running, args=(name, stop, seen))
        watcher.start()
        try:
            operation(cfy, no_leftovers, "cloudify.interfaces.lifecycle.update",
                      ["app_container"]).check()
        finally:
            stop.set()
            watcher.join()
        print(f"running tasks during the update: min {min(seen)}, max {max(seen)} over {len(seen)} "
              "polls")
        assert min(seen) >= 1
        spec = inspect(name)["Spec"]  # type: ignore[index]
        assert spec["UpdateConfig"]["Order"] == "start-first"
        assert "GREETING=again" in spec["TaskTemplate"]["ContainerSpec"]["Env"]
    finally:
        cfy.uninstall(no_leftovers).check()


def test_update_in_place_and_a_failed_update(cfy: CfyCli, no_leftovers: str) -> None:
    cfy.install(BLUEPRINT, no_leftovers).check()
    try:
        name = service_name(cfy, no_leftovers)
        before = inspect(name)
        assert before is not None
        set_properties(cfy, no_leftovers, "app", replicas=3)
        set_properties(cfy, no_leftovers, "app_container", image="local/pause:1",
                       env={"GREETING": "updated", "TOKEN": TOKEN})
        cfy.execute("check_drift", no_leftovers).check()
        drift = drift_result(cfy, no_leftovers, "app_container")
        assert drift["Mode.Replicated.Replicas"] == "desired 3, live 2"
        assert drift["TaskTemplate.ContainerSpec.Env.GREETING"] == "differs (value not shown)"
        assert "local/pause:1" in drift["TaskTemplate.ContainerSpec.Image"]
        operation(cfy, no_leftovers, "cloudify.interfaces.lifecycle.update", ["app"]).check()
        seen: list[int] = []
        stop = threading.Event()
        watcher = threading.Thread(target=watch_running, args=(name, stop, seen))
        watcher.start()
        started = time.monotonic()
        try:
            operation(cfy, no_leftovers, "cloudify.interfaces.lifecycle.update",
                      ["app_container"]).check()
        finally:
            stop.set()
            watcher.join()
        print(f"update took {time.monotonic() - started:.1f}s; running replicas seen: "
              f"min {min(seen)}, max {max(seen)} over {len(seen)} polls")
        assert min(seen) >= 2  # start-first, parallelism 1: never below the 2 that served
        after = inspect(name)
        assert after is not None and after["ID"] == before["ID"]  # in place, not recreated
        assert after["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "local/pause:1"
        tasks = running_tasks(name)
        assert len(tasks) == 3
        assert (container_env(tasks[0]["Status"]["ContainerStatus"]["ContainerID"])["GREETING"]
                == "updated")
        cfy.execute("check_drift", no_leftovers).check()
        assert drift_result(cfy, no_leftovers, "app_container") is None
        # an image that does not exist: fails at once, the previous spec is back and serving
        set_properties(cfy, no_leftovers, "app_container", image="local/nope:1")
        failed = operation(cfy, no_leftovers, "cloudify.interfaces.lifecycle.update",
                           ["app_container"])
        assert failed.returncode != 0 and "No such image: local/nope:1" in failed.output
        assert "restored to its previous spec" in failed.output
        restored = inspect(name)
        assert restored is not None and restored["ID"] == before["ID"]
        assert restored["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "local/pause:1"
        assert len(running_tasks(name)) == 3
    finally:
        cfy.uninstall(no_leftovers).check()
    assert not docker_leftovers(no_leftovers)


def test_rerun_start_keeps_a_healthy_service_with_old_failed_tasks(
    cfy: CfyCli, no_leftovers: str,
) -> None:
    cfy.install(BLUEPRINT, no_leftovers, {"replicas": 1}).check()
    try:
        name = service_name(cfy, no_leftovers)
        before = inspect(name)
        assert before is not None
        (task,) = running_tasks(name)
        docker("kill", task["Status"]["ContainerStatus"]["ContainerID"])  # a failed task in history
        deadline = time.monotonic() + 30
        while not [t for t in running_tasks(name) if t["ID"] != task["ID"]]:
            assert time.monotonic() < deadline, "the engine did not replace the killed task"
            time.sleep(0.2)
        operation(cfy, no_leftovers, "cloudify.interfaces.lifecycle.start",
                  ["app_container"]).check()
        after = inspect(name)
        assert after is not None and after["ID"] == before["ID"] and len(running_tasks(name)) == 1
    finally:
        cfy.uninstall(no_leftovers).check()
    assert not docker_leftovers(no_leftovers)


def test_several_instances_own_distinct_services(cfy: CfyCli, no_leftovers: str) -> None:
    cfy.install(BLUEPRINT, no_leftovers, {"instances": 2, "replicas": 1}).check()
    try:
        apps = instances(cfy, no_leftovers, "app")
        names = sorted(str(a["runtime_properties"]["service_name"]) for a in apps)
        assert len(set(names)) == 2
        for app in apps:
            suffix = app["runtime_properties"]["name_suffix"]
            assert suffix == "-" + app["id"].rsplit("_", 1)[-1]
            assert app["runtime_properties"]["service_name"] == f"app-{no_leftovers}{suffix}"
            assert len(running_tasks(app["runtime_properties"]["service_name"])) == 1
        cfy.execute("check_status", no_leftovers).check()
        # one pair taken down, as scale in does it: exactly its service goes
        gone = apps[0]
        containers = [c["id"] for c in instances(cfy, no_leftovers, "app_container")
                      if c["relationships"][0]["target_id"] == gone["id"]]
        operation(cfy, no_leftovers, "cloudify.interfaces.lifecycle.stop",
                  instance_ids=containers).check()
        operation(cfy, no_leftovers, "cloudify.interfaces.lifecycle.delete",
                  instance_ids=[gone["id"]]).check()
        kept = apps[1]["runtime_properties"]["service_name"]
        assert inspect(gone["runtime_properties"]["service_name"]) is None
        assert inspect(kept) is not None and len(running_tasks(kept)) == 1
    finally:
        cfy.uninstall(no_leftovers).check()
    assert not docker_leftovers(no_leftovers)


def test_start_after_a_lone_stop_brings_the_service_back(cfy: CfyCli, no_leftovers: str) -> None:
    """stop then start with no delete, as the restart workflow runs them (the local profile's
    types have no restart workflow): start waits for the old containers first."""
    cfy.install(BLUEPRINT, no_leftovers, {"replicas": 1}).check()
    try:
        name = service_name(cfy, no_leftovers)
        before = inspect(name)
        assert before is not None
        for step in ("stop", "start"):
            cfy.execute("execute_operation", no_leftovers, {
                "operation": f"cloudify.interfaces.lifecycle.{step}",
                "node_ids": ["app_container"]}).check()
        after = inspect(name)
        assert after is not None and after["ID"] != before["ID"]  # made again
        assert len(running_tasks(name)) == 1
        (container,) = instances(cfy, no_leftovers, "app_container")
        assert "removing" not in container["runtime_properties"]
        cfy.execute("check_status", no_leftovers).check()
    finally:
        cfy.uninstall(no_leftovers).check()
    assert not docker_leftovers(no_leftovers)


def test_a_generic_containment_claims_publishes_heals_and_releases_per_instance(
        cfy: CfyCli, no_leftovers: str, tmp_path: Path) -> None:
    """A Container contained by the generic contained_in (the 2016 blog's shape, issue 25): its
    own operations claim its Microservice and publish the service's facts there, for each of two
    instances; heal makes the removed service again and publishes anew; a Container taken down
    alone releases its Microservice's claim."""
    blueprint = tmp_path / "blueprint.yaml"
    blueprint.write_text(BLUEPRINT.read_text().replace(
        "cloudify.swarm.relationships.contained_in_microservice",
        "cloudify.relationships.contained_in"))
    cfy.install(blueprint, no_leftovers, {"instances": 2, "replicas": 1}).check()
    try:
        containers = {c["relationships"][0]["target_id"]: c
                      for c in instances(cfy, no_leftovers, "app_container")}
        apps = instances(cfy, no_leftovers, "app")
        for app in apps:
            props = app["runtime_properties"]
            assert props["container"] == containers[app["id"]]["id"]  # claimed by its own Container
            assert props["service"]["name"] == props["service_name"]  # published for get_attribute
        removed = apps[0]["runtime_properties"]
        docker("service", "rm", removed["service_name"])
        failed = cfy.execute("check_status", no_leftovers)
        assert (failed.returncode != 0
                and f"service {removed['service_name']} does not exist" in failed.output)
        cfy.execute("heal", no_leftovers).check()
        healed = next(a for a in instances(cfy, no_leftovers, "app") if a["id"] == apps[0]["id"])
        assert healed["runtime_properties"]["container"] == containers[apps[0]["id"]]["id"]
        assert healed["runtime_properties"]["service"]["id"] != removed["service"]["id"]
        assert len(running_tasks(removed["service_name"])) == 1
        # the other Container taken down alone: its claim and facts leave its Microservice
        kept = apps[1]
        ids = [containers[kept["id"]]["id"]]
        for step in ("stop", "delete"):
            operation(cfy, no_leftovers, f"cloudify.interfaces.lifecycle.{step}",
                      instance_ids=ids).check()
        left = next(a for a in instances(cfy, no_leftovers, "app") if a["id"] == kept["id"])
        assert ("container" not in left["runtime_properties"]
                and "service" not in left["runtime_properties"])
        assert inspect(kept["runtime_properties"]["service_name"]) is None
    finally:
        cfy.uninstall(no_leftovers).check()
    assert not docker_leftovers(no_leftovers)
