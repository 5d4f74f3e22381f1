"""A compose v3 file deployed as a stack on the real local Swarm: two services on one overlay
network, a secret, a config and a volume; the docker CLI recognizes it; uninstall removes it all."""
from __future__ import annotations

import os
import subprocess
import time
import urllib.request

import pytest

from tests.helpers.clusters import docker_client, docker_leftovers
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import TEST_BLUEPRINTS
from tests.integration.swarm.helpers import container_env, task_failure

BLUEPRINT = TEST_BLUEPRINTS / "swarm-stack" / "blueprint.yaml"
pytestmark = pytest.mark.usefixtures("swarm")


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def read_file_in(container_id: str, path: str, timeout: float = 20) -> str:
    """Poll until the file exists in the container (the client fetches every second)."""
    client = docker_client()
    try:
        deadline = time.monotonic() + timeout
        while True:
            code, output = client.containers.get(container_id).exec_run(["cat", path])
            if code == 0 or time.monotonic() > deadline:
                return str(output.decode())
            time.sleep(0.5)
    finally:
        client.close()


def test_compose_stack_installs_and_uninstalls(no_leftovers: str) -> None:
    stack = f"st{no_leftovers[-6:]}"
    deployment = LocalDeployment(BLUEPRINT, {"stack_name": stack}, name=no_leftovers)
    deployment.install()
    try:
        facts = deployment.outputs()["stack"]
        assert set(facts["services"]) == {"web", "client"}
        assert stack in docker("stack", "ls", "--format", "{{.Name}}").split()
        states = docker("stack", "ps", stack, "--filter", "desired-state=running",
                        "--format", "{{.Name}} {{.CurrentState}}")
        assert sorted(line.split(".")[0] for line in states.splitlines()) == [f"{stack}_client",
                                                                              f"{stack}_web"]
        assert all("Running" in line for line in states.splitlines())
        page = "hello from a swarm secret\nmotd from a swarm config\n"
        with urllib.request.urlopen("http://127.0.0.1:18101/", timeout=5) as response:
            assert response.read().decode() == page
        (client_task,) = facts["services"]["client"]["tasks"]
        assert container_env(client_task["container_id"])["ROLE"] == "client"
        # the client reaches `web` by name across the stack's overlay network (dnsrr)
        assert read_file_in(client_task["container_id"], "/tmp/got") == page
        # re-running start after a crash adopts the stack: same services, no duplicates
        deployment.execute("execute_operation", {
            "operation": "cloudify.interfaces.lifecycle.start", "node_ids": ["stack"]})
        again = deployment.outputs()["stack"]
        assert {k: v["id"] for k, v in again["services"].items()} == \
            {k: v["id"] for k, v in facts["services"].items()}
        listed = docker_leftovers(no_leftovers)
        for item in (f"network/{stack}_backend", f"volume/{stack}_data", f"secret/{stack}_greeting",
                     f"config/{stack}_motd", f"service/{stack}_web", f"service/{stack}_client"):
            assert item in listed
    finally:
        deployment.uninstall()
    assert stack not in docker("stack", "ls", "--format", "{{.Name}}").split()
    assert not docker_leftovers(no_leftovers)


def test_bad_compose_file_is_rejected_before_any_api_call(
    tmp_path, no_leftovers: str, capfd: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "stack.yml").write_text(
        "version: '3.8'\nservices:\n  web:\n    image: local/busybox:1\n    deploy: {replicass: "
        "2}\n")
    blueprint = tmp_path / "blueprint.yaml"
    blueprint.write_text(BLUEPRINT.read_text())
    deployment = LocalDeployment(blueprint, {"stack_name": "badstack"}, name=no_leftovers,
                                 retries=0)
    message = task_failure(deployment.install, capfd)
    assert "node 'stack'" in message
    assert ("properties.compose_file (stack.yml).services.web.deploy: unknown key "
            "'replicass'" in message)
    deployment.uninstall()
    assert not docker_leftovers(no_leftovers)


def test_failing_stack_service_removes_the_whole_stack(tmp_path, no_leftovers: str,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "stack.yml").write_text(
        "version: '3.8'\nservices:\n"
        "  good:\n    image: local/busybox:1\n    command: sh -c \"trap 'exit 0' TERM; sleep 1000 "
        "& wait\"\n"
        "    networks: [net]\n"
        "  bad:\n    image: local/not-here:1\n    networks: [net]\n"
        "networks:\n  net: {driver: overlay}\n")
    blueprint = tmp_path / "blueprint.yaml"
    blueprint.write_text(BLUEPRINT.read_text())
    deployment = LocalDeployment(blueprint, {"stack_name": f"bad{no_leftovers[-6:]}"},
                                 name=no_leftovers, retries=0)
    message = task_failure(deployment.install, capfd)
    assert "node 'stack'" in message and "No such image: local/not-here:1" in message
    assert not docker_leftovers(no_leftovers)  # services, network: all gone at once
    deployment.uninstall()


COMPOSE_BLUEPRINT = TEST_BLUEPRINTS / "swarm-stack-compose" / "blueprint.yaml"


def service_spec(name: str) -> dict:
    client = docker_client()
    try:
        return client.api.inspect_service(name)["Spec"]
    finally:
        client.close()


def test_compose_file_as_docker_stack_deploy_takes_it(no_leftovers: str,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capfd: pytest.CaptureFixture[str]) -> None:
    """Keys Swarm ignores are logged, not refused; variables from the .env beside the file,
    compose_variables (which win) and, in the local profile, the operation's environment;
    env_file beside the file; image references normalised as docker does."""
    monkeypatch.setenv("VNF_COMPOSE_TEST_VAR", "from-the-operation")
    stack = f"cs{no_leftovers[-6:]}"
    deployment = LocalDeployment(COMPOSE_BLUEPRINT, {"stack_name": stack, "greeting": "from-input"},
                                 name=no_leftovers)
    deployment.install()
    try:
        app, helper = service_spec(f"{stack}_app"), service_spec(f"{stack}_helper")
        container = app["TaskTemplate"]["ContainerSpec"]
        assert container["Image"] == "local/busybox:1"
        # docker.io/ dropped
        assert helper["TaskTemplate"]["ContainerSpec"]["Image"] == "local/busybox:1"
        assert helper["Labels"]["com.docker.stack.image"] == "docker.io/local/busybox:1"
        assert container["Env"] == ["ESCAPED=$NOT_A_VARIABLE", "FROM_ENV_FILE=yes",
                                    "FROM_OPERATION=from-the-operation", "GREETING=from-input",
                                    # offline: the operation's env
                                    f"WORKER_HOME={os.environ['HOME']}"]
        assert app["TaskTemplate"]["RestartPolicy"]["Condition"] == "any"  # restart: always
        assert app["TaskTemplate"]["Resources"]["Limits"] == {"NanoCPUs": 250_000_000,
                                                              "MemoryBytes": 32 * 1024**2}
        logged = capfd.readouterr()
        text = logged.out + logged.err
        assert ("services.app: ignoring what Swarm does not use: build, container_name, "
                "depends_on, expose" in text)
        assert "services.helper: ignoring what Swarm does not use: links" in text
        # runtime properties keep the variables' names only (a value may come from get_secret)
        assert (deployment.runtime_properties("stack")["service_config"]["compose_variables"]
                == {"GREETING": None})
        # check_drift reads the same variables and builds the same specs: nothing differs
        deployment.operation("stack", "cloudify.interfaces.lifecycle.check_drift")
        drift_log = capfd.readouterr()
        assert "drift: none" in drift_log.out + drift_log.err
        assert stack in docker("stack", "ls", "--format", "{{.Name}}").split()
    finally:
        deployment.uninstall()
    assert not docker_leftovers(no_leftovers)
