"""Spec assembly from validated Microservice / Container / Port settings (pure)."""
from __future__ import annotations

import re
import time

import pytest

from cloudify_shared.errors import UserError
from cloudify_shared.redaction import redact
from cloudify_swarm.spec.container import parse_container
from cloudify_swarm.spec.microservice import microservice_from_dict, parse_microservice
from cloudify_swarm.spec.ports import parse_port
from cloudify_swarm.spec.service import build_service_spec
from cloudify_swarm.spec.values import SERVICE_NAME, parse_bytes, valid_service_name

OWNER = {"app.kubernetes.io/managed-by": "cloudify-vnf-suite", "cloudify.co/deployment": "d"}


def build(service: dict, container: dict, ports: list[dict] | None = None, **kw: object) -> dict:
    return build_service_spec(parse_microservice(service), "svc",
                              parse_container(container, "properties"),
                              [parse_port(p, "port") for p in ports or []], OWNER,
                              **kw)  # type: ignore[arg-type]


def test_seed_shape_spec() -> None:
    spec = build({"replicas": 2, "labels": {"role": "lb"},
                  "constraints": ["node.labels.role==router"],
                  "preferences": ["spread=node.labels.zone"],
                  "resources": {"limits": {"cpus": 0.5, "memory": "64M"},
                                "reservations": {"memory": 1024}},
                  "restart_policy": {"condition": "on-failure", "delay": 2, "max_attempts": 3},
                  "update_config": {"parallelism": 1, "failure_action": "rollback",
                                    "order": "start-first"},
                  "endpoint_mode": "dnsrr", "use_external_resource": False},
                 {"image": "local/vnf:1", "entrypoint": ["/bin/sh", "-c"], "command": "run",
                  "args": ["x"], "env": {"SERVERS": ["10.0.0.2", "10.0.0.3"], "DEBUG": True},
                  "workdir": "/w", "user": "nobody", "cap_add": ["NET_ADMIN"],
                  "healthcheck": {"test": "true", "interval": 2, "retries": 3},
                  "mounts": [{"type": "tmpfs", "target": "/tmp"}]},
                 [{"target": 80, "published": 18080, "mode": "host"}])
    container = spec["TaskTemplate"]["ContainerSpec"]
    assert container["Command"] == ["/bin/sh", "-c"] and container["Args"] == ["run", "x"]
    assert container["Env"] == ["DEBUG=true", "SERVERS=10.0.0.2 10.0.0.3"]
    assert container["Labels"] == OWNER and spec["Labels"] == {"role": "lb", **OWNER}
    assert container["HealthCheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 2_000_000_000,
                                        "Retries": 3}
    assert container["Mounts"] == [{"Type": "tmpfs", "Target": "/tmp", "ReadOnly": False}]
    assert container["CapabilityAdd"] == ["NET_ADMIN"] and container["Dir"] == "/w"
    assert spec["Mode"] == {"Replicated": {"Replicas": 2}}
    task = spec["TaskTemplate"]
    assert task["Resources"] == {"Limits": {"NanoCPUs": 500_000_000, "MemoryBytes": 64 * 1024**2},
                                 "Reservations": {"MemoryBytes": 1024}}
    assert task["RestartPolicy"] == {"Condition": "on-failure", "Delay": 2_000_000_000,
                                     "MaxAttempts": 3}
    assert task["Placement"] == {"Constraints": ["node.labels.role==router"],
                                 "Preferences": [
                                     {"Spread": {"SpreadDescriptor": "node.labels.zone"}}]}
    assert spec["UpdateConfig"] == {"Parallelism": 1, "FailureAction": "rollback",
                                    "Order": "start-first"}
    assert spec["EndpointSpec"] == {"Mode": "dnsrr", "Ports": [
        {"TargetPort": 80, "PublishedPort": 18080, "Protocol": "tcp", "PublishMode": "host"}]}


def test_env_input_wins_and_global_mode() -> None:
    spec = build({"mode": "global", "replicas": 1}, {"image": "i", "env": {"A": "1", "B": "2"}})
    assert spec["Mode"] == {"Global": {}}
    container = parse_container({"image": "i", "env": {"A": "1"}}, "properties", {"A": "9", "C": 3})
    assert container.env == {"A": "9", "C": "3"}


def test_networks_secrets_configs_reference_ids() -> None:
    spec = build({"networks": ["pre", {"name": "own", "create": True, "aliases": ["lb"]}],
                  "secrets": [{"name": "s", "data": "x", "target": "token"}], "configs": ["c"]},
                 {"image": "i"}, object_ids={"Secret": {"s": "S1"}, "Config": {"c": "C1"}})
    task = spec["TaskTemplate"]
    assert task["Networks"] == [{"Target": "pre"}, {"Target": "own", "Aliases": ["lb"]}]
    assert task["ContainerSpec"]["Secrets"][0]["SecretID"] == "S1"
    assert task["ContainerSpec"]["Secrets"][0]["File"]["Name"] == "token"
    assert task["ContainerSpec"]["Configs"][0]["ConfigID"] == "C1"


def test_round_trip_through_runtime_properties() -> None:
    service = parse_microservice({"networks": ["n"],
                                  "secrets": [{"name": "s", "data": "s3cr3t-value"}],
                                  "convergence": {"stability_seconds": 0.5},
                                  "ports": [{"target": 1}]})
    stored = service.to_dict()
    assert "s3cr3t-value" not in str(stored)  # runtime properties never hold secret contents
    restored = microservice_from_dict(stored)
    assert restored.secrets[0].name == "s" and restored.secrets[0].create
    assert restored.networks == service.networks and restored.convergence == service.convergence
    assert redact("token s3cr3t-value") == "token ***"


@pytest.mark.parametrize(("service", "container", "ports", "message"), [
    ({"resources": {"limits": {"cpu": 1}}}, {"image": "i"}, [],
     "properties.resources.limits: unknown key 'cpu' (did you mean 'cpus'?)"),
    ({"replicass": 2}, {"image": "i"}, [], "properties: unknown key 'replicass'"),
    ({}, {"image": "i", "enviroment": {}}, [], "properties: unknown key 'enviroment'"),
    ({}, {}, [], "properties.image: required but not set"),
    ({"mode": "global", "replicas": 2}, {"image": "i"}, [], "properties.replicas: not allowed"),
    ({"endpoint_mode": "dnsrr"}, {"image": "i"}, [{"target": 80, "published": 80}],
     "endpoint_mode 'dnsrr' does not allow"),
    ({}, {"image": "i"}, [{"target": 80, "published": 81}, {"target": 90, "published": 81}],
     "published port 81/tcp is used twice"),
    ({}, {"image": "i"}, [{"target": 70000}], "port.target: 70000 is not a port number"),
    ({"name": "bad name"}, {"image": "i"}, [],
     "properties.name: 'bad name' is not a valid service name"),
    ({"update_config": {"failure_action": "explode"}}, {"image": "i"}, [],
     "properties.update_config.failure_action: 'explode' is not one of"),
    ({"secrets": [{"name": "s", "create": True}]}, {"image": "i"}, [], "create needs data or file"),
    ({}, {"image": "i", "env": {"A": {"b": 1}}}, [], "properties.env.A: expected a scalar"),
])
def test_bad_input_names_the_field(service: dict, container: dict, ports: list,
                                   message: str) -> None:
    with pytest.raises(UserError, match=None) as error:
        build(service, container, ports)
    assert message in str(error.value)


def test_sizes() -> None:
    assert parse_bytes("64M", "m") == 64 * 1024**2
    assert parse_bytes("1.5g", "m") == int(1.5 * 1024**3)
    with pytest.raises(UserError, match="m: 'lots' is not a size"):
        parse_bytes("lots", "m")


# ----------------------------------------------------------------------------- bounds (issue 24)

ADVERSARIAL = ["a" * 40 + "!", "a-" * 30 + "!", "a_" * 20 + "-", "a" * 62 + "\n"]


@pytest.mark.parametrize("name", [*ADVERSARIAL, "a" * 10_000 + "!", "a-" * 5_000 + "!"])
def test_the_service_name_check_is_linear(name: str) -> None:
    started = time.perf_counter()
    with pytest.raises(UserError, match=r"properties.name: .* is not a valid service name"):
        parse_microservice({"name": name})
    assert time.perf_counter() - started < 0.05


def test_the_service_name_pattern_itself_does_not_backtrack() -> None:
    """Without the length check in front: 10k characters that almost match, well under 50 ms."""
    for name in ("a" * 10_000 + "!", "a-" * 5_000 + "!", "a_-" * 3_000 + "-"):
        started = time.perf_counter()
        assert SERVICE_NAME.fullmatch(name) is None
        assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize(("name", "valid"), [
    ("a", True), ("web-1_x", True), ("a" * 63, True), ("a" * 64, False), ("-a", False),
    ("a-", False),
    ("a b", False), ("", False), ("web\n", False), ("wéb", False)])
def test_the_service_name_rule(name: str, valid: bool) -> None:
    assert valid_service_name(name) is valid


@pytest.mark.parametrize(("service", "container", "field"), [
    ({"convergence": {"timeout": 3601}}, {"image": "i"}, "properties.convergence.timeout"),
    ({"convergence": {"timeout": -1}}, {"image": "i"}, "properties.convergence.timeout"),
    ({"convergence": {"stability_seconds": 1e12}}, {"image": "i"},
     "properties.convergence.stability_seconds"),
    ({"update_config": {"monitor": 1e300}}, {"image": "i"}, "properties.update_config.monitor"),
    ({"restart_policy": {"window": 86400 * 365}}, {"image": "i"},
     "properties.restart_policy.window"),
    ({}, {"image": "i", "stop_grace_period": 1e9}, "properties.stop_grace_period"),
    ({}, {"image": "i", "healthcheck": {"test": "true", "timeout": 7200}},
     "properties.healthcheck.timeout"),
])
def test_every_duration_is_bounded(service: dict, container: dict, field: str) -> None:
    with pytest.raises(UserError, match=rf"^{re.escape(field)}: "):
        build(service, container)
    assert build({"convergence": {"timeout": 3600}}, {"image": "i", "stop_grace_period": 30})
