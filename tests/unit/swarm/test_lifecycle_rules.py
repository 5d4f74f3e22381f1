"""Rollback, resume, naming, claim-retry, drift-masking and image-failure rules of the Swarm
plugin, over canned payloads and a fake engine implementing engine_api.EngineApi (pure)."""
from __future__ import annotations

import copy
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from cloudify.workflows.local import StorageConflictError
from cloudify_rest_client.exceptions import CloudifyClientError

from cloudify_shared.errors import TransientError, UserError, WorkloadFailed
from cloudify_shared.naming import instance_suffix
from cloudify_swarm import lifecycle, naming, services, tasks
from cloudify_swarm.convergence import image_failure, service_converged, service_status
from cloudify_swarm.drift import keep_live_env, spec_drift
from cloudify_swarm.spec.microservice import Convergence, parse_microservice
from cloudify_swarm.spec.ports import PortSpec
from tests.unit.swarm.test_convergence import service, task

LOG = logging.getLogger("test")
OWNER = {"app.kubernetes.io/managed-by": "cloudify-vnf-suite",
         "cloudify.co/node-instance": "app_x1"}
FAST = Convergence(stability_seconds=0, timeout=2)


def spec(image: str = "local/busybox:1", replicas: int = 1,
         env: list[str] | None = None) -> dict[str, Any]:
    return {"Name": "web", "Labels": dict(OWNER), "Mode": {"Replicated": {"Replicas": replicas}},
            "TaskTemplate": {"ContainerSpec": {"Image": image, "Env": env or []}}}


class FakeEngine:
    """One service; tasks follow its spec: a missing image (or 3 replicas: no room) gives a
    rejected task, new with every spec version."""

    def __init__(self, existing: dict[str, Any] | None = None,
                 old_tasks: list[dict[str, Any]] | None = None) -> None:
        self.service = ({"ID": "sid", "Version": {"Index": 1}, "Spec": existing} if existing
                        else None)
        self.old = old_tasks or []
        self.calls: list[str] = []

    def _tasks(self) -> list[dict[str, Any]]:
        assert self.service is not None
        container = self.service["Spec"]["TaskTemplate"]["ContainerSpec"]
        version = self.service["Version"]["Index"]
        if "nope" in container["Image"]:
            return self.old + [task(f"new{version}", "rejected", "shutdown",
                                    "No such image: local/nope:1", container)]
        if self.service["Spec"]["Mode"]["Replicated"]["Replicas"] == 3:
            return self.old + [task(f"new{version}", "rejected", "shutdown",
                                    "insufficient resources", container)]
        return self.old + [task(f"t{self.service['Version']['Index']}", "running",
                                container=container)]

    def service_by_name(self, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.service)

    def find_services(self, labels: dict[str, str],
                      name: str | None = None) -> list[dict[str, Any]]:
        return [copy.deepcopy(self.service)] if self.service else []

    def inspect_service(self, service_id: str) -> dict[str, Any]:
        assert self.service is not None
        return copy.deepcopy(self.service)

    def create_service(self, new: dict[str, Any]) -> str:
        self.calls.append("create")
        self.service = {"ID": "sid", "Version": {"Index": 1}, "Spec": copy.deepcopy(new)}
        return "sid"

    def update_service(self, service_id: str, version: int, new: dict[str, Any]) -> None:
        assert self.service is not None
        self.calls.append(f"update:{new['TaskTemplate']['ContainerSpec']['Image']}")
        self.service = {"ID": "sid", "Version": {"Index": version + 1}, "Spec": copy.deepcopy(new)}

    def remove_service(self, service_id: str) -> None:
        self.calls.append("remove")
        self.service = None

    def service_tasks(self, service_id: str) -> list[dict[str, Any]]:
        return self._tasks() if self.service else []

    def containers(self, labels: dict[str, str]) -> list[dict[str, Any]]:
        return []

    def node_names(self) -> dict[str, str]:
        return {}

    def find_objects(self, kind: str, labels: dict[str, str] | None = None,
                     name: str | None = None) -> list[dict[str, Any]]:
        return []

    def create_object(self, kind: str, name: str, labels: dict[str, str], **options: Any) -> str:
        return name

    def remove_object(self, kind: str, object_id: str) -> None:
        pass


# ----------------------------------------------------------------------------- rollback

def test_a_failed_update_restores_the_previous_spec_and_never_removes() -> None:
    engine = FakeEngine(spec())
    with pytest.raises(WorkloadFailed, match="No such image.*restored to its previous spec"):
        lifecycle.update_in_place(engine, spec("local/nope:1"), OWNER, FAST,
                                  LOG)  # type: ignore[arg-type]
    assert engine.calls == ["update:local/nope:1", "update:local/busybox:1"]
    assert engine.service is not None and engine.service["Spec"] == spec()


def test_a_failed_scale_restores_the_replica_count() -> None:
    engine = FakeEngine(spec(replicas=1))
    with pytest.raises(WorkloadFailed,
                       match="insufficient resources.*restored to its previous spec"):
        services.scale_service(engine, OWNER, "web", 3, FAST, LOG)  # type: ignore[arg-type]
    assert (engine.service is not None and engine.service["Spec"]["Mode"]["Replicated"]["Replicas"]
            == 1)
    assert "remove" not in engine.calls


def test_a_failed_first_install_removes_what_it_made() -> None:
    engine = FakeEngine()
    with pytest.raises(WorkloadFailed, match="removed \\(this run created it\\)"):
        services.deploy_service(engine, spec("local/nope:1"), OWNER, FAST,
                                LOG)  # type: ignore[arg-type]
    assert engine.calls == ["create", "remove"] and engine.service is None


def test_a_rerun_start_that_changes_a_service_puts_it_back_on_failure() -> None:
    engine = FakeEngine(spec())
    with pytest.raises(WorkloadFailed, match="restored"):
        services.deploy_service(engine, spec("local/nope:1"), OWNER, FAST,
                                LOG)  # type: ignore[arg-type]
    assert "remove" not in engine.calls and engine.service is not None


class DrainingEngine(FakeEngine):
    """A removed service's containers linger for `polls` container listings."""

    def __init__(self, polls: int) -> None:
        super().__init__(spec())
        self.polls = polls

    def containers(self, labels: dict[str, str]) -> list[dict[str, Any]]:
        self.calls.append("containers")
        if self.service is None and self.polls > 0:
            self.polls -= 1
            return [{"Id": "c1"}]
        return []


def test_removing_without_wait_returns_at_once_and_the_wait_sees_the_containers_go() -> None:
    engine = DrainingEngine(polls=2)
    assert services.remove_services(engine, OWNER, LOG, "web",
                                    wait=False) == ["web"]  # type: ignore[arg-type]
    assert engine.calls == ["remove"]
    services.wait_services_gone(engine, OWNER, LOG, ["web"], "web",
                                timeout=5)  # type: ignore[arg-type]
    assert engine.calls == ["remove", "containers", "containers", "containers"]


def test_containers_slower_than_the_timeout_are_retried_not_fatal() -> None:
    engine = DrainingEngine(polls=10_000)
    with pytest.raises(TransientError, match="a retry waits again"):
        services.remove_services(engine, OWNER, LOG, "web", timeout=0.3)  # type: ignore[arg-type]


def test_a_rerun_delete_removes_a_service_stop_left_and_waits() -> None:
    engine = DrainingEngine(polls=1)
    assert services.remove_services(engine, OWNER, LOG, "web",
                                    timeout=5) == ["web"]  # type: ignore[arg-type]
    assert engine.calls == ["remove", "containers", "containers"] and engine.service is None
    assert services.remove_services(engine, OWNER, LOG, "web",
                                    timeout=5) == []  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- resume / re-run

def test_a_rerun_start_ignores_old_failed_tasks_and_keeps_the_service() -> None:
    old = [task("old", "failed", "shutdown", "task: non-zero exit (137)")]
    engine = FakeEngine(spec(), old_tasks=old)
    assert services.deploy_service(engine, spec(), OWNER, FAST,
                                   LOG) == "sid"  # type: ignore[arg-type]
    assert engine.calls == []  # adopted as it is: not updated, not removed


def test_status_judges_the_current_spec_only() -> None:
    current = {"Image": "local/busybox:2"}
    tasks_now = [task("old", "failed", "shutdown", "boom"), task("a", "running", container=current)]
    assert service_status(service(1, container=current), tasks_now).is_done
    broken = service_status(service(2, container=current), tasks_now + [
        task("b", "failed", "shutdown", "task: non-zero exit (1)", current, slot=2)])
    assert (broken.is_failed and "1/2 task(s) running" in broken.message
            and "non-zero exit (1)" in broken.message)


def test_heal_leaves_a_healthy_service_and_recreates_a_missing_one() -> None:
    engine = FakeEngine(spec())
    assert lifecycle.heal_service(engine, spec(), OWNER, FAST,
                                  LOG)[1] == "healthy, untouched"  # type: ignore[arg-type]
    assert engine.calls == []
    missing = FakeEngine()
    assert lifecycle.heal_service(missing, spec(), OWNER, FAST,
                                  LOG)[1] == "created again"  # type: ignore[arg-type]
    assert missing.calls == ["create"]


# ----------------------------------------------------------------------------- naming

def test_an_only_instance_keeps_todays_names() -> None:
    assert instance_suffix("app_x7k2p9", 1) == ""
    settings = parse_microservice({"name": "web", "networks": [{"name": "front", "create": True}]},
                                  "p")
    assert naming.for_instance(settings, "") == settings


def test_several_instances_get_the_random_part_of_their_id() -> None:
    assert instance_suffix("app_x7k2p9", 2) == "-x7k2p9"
    settings = parse_microservice({
        "name": "web", "networks": [{"name": "front", "create": True}, "shared"],
        "secrets": [{"name": "key", "data": "x"}, "external"]}, "p")
    mine = naming.for_instance(settings, "-x7k2p9")
    assert mine.name == "web-x7k2p9"
    assert [n.name for n in mine.networks] == ["front-x7k2p9", "shared"]
    assert [(s.name, s.target) for s in mine.secrets] == [("key-x7k2p9", "key"), ("external", None)]
    assert len(naming.suffixed("a" * 70, "-x7k2p9")) == 63


def test_a_published_port_cannot_be_shared_by_instances() -> None:
    port = PortSpec(8080, 18080, mode="host")
    naming.check_shared_ports([(port, "properties.ports[0]")], "")
    with pytest.raises(UserError,
                       match=r"properties.ports\[0\].published: port 18080/tcp \(host mode\)"):
        naming.check_shared_ports([(port, "properties.ports[0]")], "-x7k2p9")
    naming.check_shared_ports([(PortSpec(8080), "properties.ports[0]")], "-x7k2p9")


# ----------------------------------------------------------------------------- claim retry

class Instance:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures, self.runtime_properties, self.updates = failures, {}, 0

    def refresh(self, force: bool = False) -> None:
        pass

    def update(self) -> None:
        self.updates += 1
        if self.failures:
            raise self.failures.pop(0)


def claimed(instance: Instance) -> Any:
    return SimpleNamespace(instance=instance, node=SimpleNamespace(id="app"))


@pytest.mark.parametrize("conflict", [StorageConflictError("version"),
                                      CloudifyClientError("conflict", status_code=409)])
def test_the_claim_retries_a_local_and_a_manager_conflict(conflict: Exception) -> None:
    instance = Instance([conflict, conflict])
    host = claimed(instance)
    tasks.set_on_microservice(host, "container", "c1",
                              lambda holder: tasks.check_claim(host, "c1", holder))
    assert instance.updates == 3 and instance.runtime_properties["container"] == "c1"


def test_the_claim_does_not_retry_other_manager_errors() -> None:
    instance = Instance([CloudifyClientError("forbidden", status_code=403)])
    with pytest.raises(CloudifyClientError):
        tasks.set_on_microservice(claimed(instance), "container", "c1")
    assert instance.updates == 1


# ----------------------------------------------------------------------------- drift

def test_drift_names_env_fields_and_never_shows_their_values() -> None:
    live = spec(env=["GREETING=hi", "TOKEN=changed", "EXTRA=1"])
    live["TaskTemplate"]["ContainerSpec"]["Image"] = "local/busybox:1@sha256:abc"
    live["EndpointSpec"] = {"Mode": "vip"}
    desired = {**spec(replicas=2, env=["GREETING=hi", "TOKEN=s3cr3t"]),
               "EndpointSpec": {"Ports": []}}
    drift = spec_drift(desired, live)
    assert drift == {"Mode.Replicated.Replicas": "desired 2, live 1",
                     "TaskTemplate.ContainerSpec.Env.EXTRA": "set, not in the desired spec (value "
                                                             "not shown)",
                     "TaskTemplate.ContainerSpec.Env.TOKEN": "differs (value not shown)"}
    assert "s3cr3t" not in str(drift) and "changed" not in str(drift)
    assert spec_drift(spec(), spec()) == {}


def test_env_given_at_start_keeps_its_running_value() -> None:
    kept = keep_live_env(spec(env=["A=1"]), spec(env=["A=1", "PEER=10.0.0.1"]), ["PEER"])
    assert kept["TaskTemplate"]["ContainerSpec"]["Env"] == ["A=1", "PEER=10.0.0.1"]


# ----------------------------------------------------------------------------- image failures

@pytest.mark.parametrize(("error", "kind"), [
    ("No such image: local/nope:1", "missing"),
    ("pull access denied for nope, repository does not exist or may require 'docker login'",
     "missing"),
    ("manifest unknown: manifest unknown", "missing"),
    ("Get \"https://registry.example/v2/\": dial tcp: lookup registry.example: no such host",
     "unreachable"),
    ("Get https://registry.example/v2/: net/http: TLS handshake timeout", "unreachable"),
    ("No such image: registry.example/app:1 (dial tcp 10.0.0.1:443: i/o timeout)", "unreachable"),
    ("task: non-zero exit (1)", None),
])
def test_image_failures_are_classified(error: str, kind: str | None) -> None:
    assert image_failure(error) == kind


def test_a_missing_image_fails_at_once_an_unreachable_registry_is_waited_out() -> None:
    missing = service_converged(service(1),
                                [task("a", "rejected", "shutdown", "No such image: x:1")])
    assert missing.is_failed
    unreachable = service_converged(service(1), [
        task("a", "rejected", "shutdown", "dial tcp: lookup registry.example: no such host"),
        task("b", "preparing")])
    assert unreachable.state == "waiting" and "registry unreachable, waiting" in unreachable.message


def test_drift_never_shows_command_args_or_label_values() -> None:
    """Issue 24 (class 7): any of them may carry a secret (a token on the command line, in a
    label)."""
    live = spec()
    live["Labels"] = {**OWNER, "api-key": "live-l4bel", "extra": "out-of-band-l4bel"}
    live["TaskTemplate"]["ContainerSpec"].update(
        {"Command": ["/bin/run", "--token=live-c0mmand"], "Args": ["--password", "live-4rgs"],
         "Labels": {"c": "live-cl4bel"}})
    desired = spec()
    desired["Labels"] = {**OWNER, "api-key": "want-l4bel", "gone": "want-l4bel"}
    desired["TaskTemplate"]["ContainerSpec"].update(
        {"Command": ["/bin/run", "--token=want-c0mmand"], "Args": ["--password", "want-4rgs"],
         "Labels": {"c": "want-cl4bel"}})
    drift = spec_drift(desired, live)
    assert drift == {
        "Labels.api-key": "differs (value not shown)",
        "Labels.extra": "set, not in the desired spec (value not shown)",
        "Labels.gone": "missing",
        "TaskTemplate.ContainerSpec.Command": "differs (value not shown)",
        "TaskTemplate.ContainerSpec.Args": "differs (value not shown)",
        "TaskTemplate.ContainerSpec.Labels.c": "differs (value not shown)"}
    for secret in ("l4bel", "c0mmand", "4rgs"):
        assert secret not in str(drift)
    unexpected = spec_drift(spec(), live)
    assert (unexpected["TaskTemplate.ContainerSpec.Command"]
            == "set, not in the desired spec (value not shown)")
    assert (unexpected["TaskTemplate.ContainerSpec.Args"]
            == "set, not in the desired spec (value not shown)")
    assert "c0mmand" not in str(unexpected) and "4rgs" not in str(unexpected)


def test_changed_microservice_labels_are_named_without_their_values() -> None:
    recorded = parse_microservice({"labels": {"token": "old-s3cret", "kept": "k"}})
    current = parse_microservice({"labels": {"token": "new-s3cret", "kept": "k",
                                             "added": "a-s3cret"},
                                  "replicas": 2})
    drift = lifecycle.config_drift(recorded, current)
    assert drift == {"properties.labels.token": "differs (value not shown)",
                     "properties.labels.added": "missing",
                     "properties.replicas": "applied 1, properties now 2"}
    assert "s3cret" not in str(drift)
