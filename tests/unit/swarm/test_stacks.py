"""Compose v3 -> stack specs (pure parsing and assembly)."""
from __future__ import annotations

from pathlib import Path

import pytest

from cloudify_shared.errors import UserError
from cloudify_swarm.compose.engine_spec import NAMESPACE, stack_service_spec
from cloudify_swarm.compose.stack import parse_compose
from cloudify_swarm.compose.values import duration

COMPOSE = {
    "version": "3.8",
    "services": {
        "web": {"image": "i", "command": "httpd -f -p 80",
                "ports": ["18080:80", {"target": 53, "protocol": "udp"}],
                "networks": {"back": {"aliases": ["www"]}}, "secrets": ["s"],
                "volumes": ["data:/data:ro"],
                "environment": ["A=1", "B"], "stop_grace_period": "1m30s",
                "deploy": {"replicas": 3, "placement": {"constraints": ["node.role==manager"]},
                           "restart_policy": {"condition": "on-failure", "delay": "500ms"},
                           "resources": {"limits": {"cpus": "0.25", "memory": "32M"}}}},
        "worker": {"image": "i"},
    },
    "networks": {"back": {"driver": "overlay", "attachable": True}},
    "volumes": {"data": {}},
    "secrets": {"s": {"external": True}},
}


def test_names_labels_and_settings_follow_docker_stack() -> None:
    stack = parse_compose(COMPOSE, "st", Path("/nonexistent"), "compose")
    objects = {(o.kind, o.key): o for o in stack.objects}
    assert objects[("network", "back")].name == "st_back"
    assert objects[("network", "default")].name == "st_default"  # worker has no networks
    assert objects[("secret", "s")].name == "s" and objects[("secret", "s")].external
    web, worker = stack.services
    labels = {NAMESPACE: "st", "owner": "me"}
    spec = stack_service_spec("st", web, labels, {"Secret": {"s": "SID"}})
    assert spec["Name"] == "st_web" and spec["Labels"][NAMESPACE] == "st"
    container = spec["TaskTemplate"]["ContainerSpec"]
    assert container["Args"] == ["httpd", "-f", "-p", "80"]
    assert container["Env"] == ["A=1", "B"]  # B has no value and no variable: NAME alone, as docker
    assert container["Labels"] == labels
    assert container["StopGracePeriod"] == 90_000_000_000
    assert container["Mounts"] == [{"Type": "volume", "Target": "/data", "ReadOnly": True,
                                    "Source": "st_data",
                                    "VolumeOptions": {"Labels": labels}}]
    assert (container["Secrets"][0]["SecretID"] == "SID" and container["Secrets"][0]["File"]["Name"]
            == "s")
    assert spec["TaskTemplate"]["Networks"] == [{"Target": "st_back", "Aliases": ["www", "web"]}]
    assert spec["Mode"] == {"Replicated": {"Replicas": 3}}
    assert spec["TaskTemplate"]["RestartPolicy"] == {"Condition": "on-failure",
                                                     "Delay": 500_000_000}
    assert spec["TaskTemplate"]["Resources"]["Limits"] == {"NanoCPUs": 250_000_000,
                                                           "MemoryBytes": 32 * 1024**2}
    assert spec["EndpointSpec"]["Ports"] == [  # sorted by published port, as docker sends them
        {"TargetPort": 53, "Protocol": "udp", "PublishMode": "ingress"},
        {"TargetPort": 80, "PublishedPort": 18080, "Protocol": "tcp", "PublishMode": "ingress"}]
    assert stack_service_spec("st", worker, labels, {})["TaskTemplate"]["Networks"] == [
        {"Target": "st_default", "Aliases": ["worker"]}]


@pytest.mark.parametrize(("change", "message"), [
    ({"version": "2.4"},
     "compose.version: unsupported compose file version 2.4: only format 3 (3.0 to 3.13)"),
    ({"version": "3.14"}, "compose.version: unsupported compose file version 3.14"),
    ({"version": 3.8}, "compose.version: must be a string"),
    ({"services": {}}, "compose.services: at least one service is required"),
    ({"servics": {}}, "compose: unknown key 'servics'"),
    ({"services": {"a": {"image": "i", "networks": ["nope"]}}}, "network 'nope' is not declared"),
    ({"services": {"a": {"image": "i", "volumes": ["nope:/x"]}}}, "volume 'nope' is not declared"),
    ({"services": {"a": {"image": "i", "ports": ["x:80"]}}},
     "compose.services.a.ports[0]: 'x:80' is not"),
    ({"services": {"a": {"image": "i", "deploy": {"mode": "all"}}}},
     "compose.services.a.deploy.mode: 'all'"),
    ({"services": {"a": {"imag": "i"}}}, "compose.services.a: unknown key 'imag'"),
    ({"configs": {"c": {}}}, "compose.configs.c.file: required unless external"),
])
def test_bad_compose_names_the_field(change: dict, message: str) -> None:
    data = {**COMPOSE, **change}
    if "servics" in change:
        data.pop("services")
    with pytest.raises(UserError) as error:
        parse_compose(data, "st", Path("/nonexistent"), "compose")
    assert message in str(error.value)


def test_durations() -> None:
    assert duration("1m30s", "d") == 90 and duration("500ms", "d") == 0.5 and duration(3, "d") == 3
    with pytest.raises(UserError, match="d: 'soon' is not a duration"):
        duration("soon", "d")
