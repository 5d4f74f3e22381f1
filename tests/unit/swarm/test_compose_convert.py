"""Compose files as docker stack deploy takes them: ignored keys listed, variables, bind
sources, image references, and the refusals docker makes (pure parsing, no engine)."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudify_shared.errors import UserError
from cloudify_swarm.compose.engine_spec import NAMESPACE, stack_service_spec
from cloudify_swarm.compose.stack import parse_compose_file
from cloudify_swarm.compose.values import normalize_image, restart_policy


def write(folder: Path, service: dict[str, Any], **top: Any) -> str:
    path = folder / "stack.yml"
    path.write_text(yaml.safe_dump({"version": "3.8", "services": {"web": service}, **top}))
    return str(path)


def spec_of(path: str, variables: dict[str, str] | None = None) -> dict[str, Any]:
    stack = parse_compose_file(path, "compose", "st", variables)
    return stack_service_spec("st", stack.services[0], {NAMESPACE: "st"}, {})


def test_keys_swarm_ignores_are_logged_by_name_not_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    path = write(tmp_path, {"image": "i", "build": ".", "container_name": "c", "depends_on": ["x"],
                            "expose": ["80"], "links": ["x"], "privileged": True, "x-note": 1})
    with caplog.at_level(logging.INFO):
        stack = parse_compose_file(path, "compose", "st")
    assert stack.ignored() == {"web": ["build", "container_name", "depends_on", "expose", "links",
                                       "privileged"]}
    assert ("compose (stack.yml).services.web: ignoring what Swarm does not use: build, "
            "container_name, "
            "depends_on, expose, links, privileged") in caplog.messages


def test_variables_come_from_dotenv_and_the_given_mapping(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TAG=1.0\nWHO=dotenv\n")
    path = write(tmp_path, {"image": "busybox:${TAG}",
                            "environment": {"WHO": "${WHO}", "HOME_SEEN": "${HOME:-none}",
                                                                      "BARE": None}})
    spec = spec_of(path, {"WHO": "property", "BARE": "given"})
    container = spec["TaskTemplate"]["ContainerSpec"]
    assert container["Image"] == "busybox:1.0"
    # the caller's mapping wins over .env; nothing from this process's environment (HOME is set)
    assert container["Env"] == ["BARE=given", "HOME_SEEN=none", "WHO=property"]
    assert "HOME" in os.environ


def test_bind_sources_resolve_as_docker_does(tmp_path: Path) -> None:
    path = write(tmp_path,
                 {"image": "i", "volumes": ["./grafana:/g:ro", "~/x:/x", "/abs:/abs:rshared",
                                                     "/anon", "data:/d:nocopy"]},
                 volumes={"data": {"driver_opts": {"type": "tmpfs"}}})
    (tmp_path / "grafana").mkdir()
    mounts = spec_of(path)["TaskTemplate"]["ContainerSpec"]["Mounts"]
    assert [m["Type"] for m in mounts] == ["bind", "bind", "bind", "volume", "volume"]
    assert mounts[0] == {"Type": "bind", "Source": str(tmp_path / "grafana"), "Target": "/g",
                         "ReadOnly": True}
    assert mounts[1]["Source"] == os.path.expanduser("~/x")
    assert mounts[2]["BindOptions"] == {"Propagation": "rshared"}
    assert "Source" not in mounts[3] and mounts[3]["VolumeOptions"] == {"Labels": {}}
    assert mounts[4]["VolumeOptions"] == {"NoCopy": True, "Labels": {NAMESPACE: "st"},
                                          "DriverConfig": {"Name": "",
                                                           "Options": {"type": "tmpfs"}}}


def test_conf_y_without_dot_is_a_named_volume_that_must_be_declared(tmp_path: Path) -> None:
    with pytest.raises(UserError,
                       match="volumes\\[0\\]: volume 'conf/y' is not declared under volumes"):
        spec_of(write(tmp_path, {"image": "i", "volumes": ["conf/y:/y"]}))


@pytest.mark.parametrize(("image", "expected"), [
    ("busybox", "busybox:latest"), ("library/nginx:1", "nginx:1"),
    ("docker.io/library/nginx", "nginx:latest"),
    ("docker.io/me/app:2", "me/app:2"), ("localhost:5000/app", "localhost:5000/app:latest"),
    ("ghcr.io/o/app@sha256:ab", "ghcr.io/o/app@sha256:ab"), ("a/b:1@sha256:ab", "a/b:1@sha256:ab"),
])
def test_image_references_normalised_as_docker_does(image: str, expected: str) -> None:
    assert normalize_image(image, "p") == expected


def test_restart_is_the_fallback_restart_policy() -> None:
    assert restart_policy("always", None, "p") == {"Condition": "any"}
    assert restart_policy("on-failure:4", None, "p") == {"Condition": "on-failure",
                                                         "MaxAttempts": 4}
    assert restart_policy("no", None, "p") == {}
    assert restart_policy("always", {"condition": "none"}, "p") == {"Condition": "none"}
    with pytest.raises(UserError, match="p.restart: unknown restart policy 'sometimes'"):
        restart_policy("sometimes", None, "p")


def test_env_file(tmp_path: Path) -> None:
    (tmp_path / "a.env").write_text("A=from-file\nB=\"quoted\"\n")
    path = write(tmp_path, {"image": "i", "env_file": "a.env", "environment": ["A=override"]},
                 secrets={"s": {"file": "s.txt"}})
    (tmp_path / "s.txt").write_text("x")
    assert spec_of(path)["TaskTemplate"]["ContainerSpec"]["Env"] == ["A=override", 'B="quoted"']


@pytest.mark.parametrize(("service", "message"), [
    ({"image": "i", "imgae": "x"}, "services.web: unknown key 'imgae' (did you mean 'image'?)"),
    ({"image": "i", "profiles": ["a"]}, "services.web: unknown key 'profiles'"),
    ({"image": "i", "deploy": {"placement": {"constraint": []}}},
     "deploy.placement: unknown key 'constraint'"),
    ({"image": "i", "deploy": {"resources": {"limits": {"cpus": 0.5}}}},
     "limits.cpus: must be a string"),
    ({"image": "i", "environment": {"FLAG": True}},
     "environment.FLAG: must be a string, number or null"),
    ({"image": "i", "volumes": [{"target": "/x", "sourc": "a"}]},
     "volumes[0]: unknown key 'sourc'"),
    ({"image": "i", "healthcheck": {"disable": True, "test": "x"}},
     "test and disable can't be set"),
    ({"image": "Upper/Case"}, "invalid reference format"),
    ({"build": "."}, "services.web.image: a service needs an image"),
    ({"image": "i", "ports": ["1-2:3"]}, "ranges differ in size"),
    ({"image": "i", "deploy": {"replicas": "many"}}, "deploy.replicas: 'many' is not an integer"),
    ({"image": "i", "deploy": ["replicas"]}, "services.web.deploy: expected a mapping, got list"),
    ({"image": "i", "deploy": {"placement": {"preferences": [{"sprad": "x"}]}}},
     "preferences[0]: unknown key 'sprad'"),
    ({"image": "i", "ulimits": ["nofile"]}, "ulimits: expected a mapping"),
    ({"image": "i", "secrets": [{"source": "s", "mode": "rw"}]},
     "secrets[0].mode: 'rw' is not a file mode"),
])
def test_what_docker_refuses_we_refuse_naming_the_key(tmp_path: Path, service: dict[str, Any],
                                                      message: str) -> None:
    (tmp_path / "s.txt").write_text("x")
    with pytest.raises(UserError) as error:
        spec_of(write(tmp_path, service, secrets={"s": {"file": "s.txt"}}))
    assert message in str(error.value)
