"""Bounds before work on a compose file (issue 24, class 3): port ranges measured before they are
expanded, YAML alias bombs refused while loading, the objects of one stack counted, every
duration bounded; each refusal names the file and the key path."""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudify_shared.errors import UserError
from cloudify_swarm.compose import ports as compose_ports
from cloudify_swarm.compose.ports import MAX_PORTS, parse_ports
from cloudify_swarm.compose.stack import parse_compose_file

BOMB = """version: "3.8"
x-bomb:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
services:
  web:
    image: i
    labels: *i
"""


def write(folder: Path, service: dict[str, Any], **top: Any) -> str:
    path = folder / "stack.yml"
    path.write_text(yaml.safe_dump({"version": "3.8", "services": {"web": service}, **top}))
    return str(path)


def test_the_whole_port_space_is_refused_before_it_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[int] = []
    real_range = range

    def counting_range(*args: int) -> range:
        made.append(len(real_range(*args)))
        return real_range(*args)

    monkeypatch.setattr(compose_ports, "range", counting_range, raising=False)
    start = time.monotonic()
    with pytest.raises(UserError) as error:
        parse_compose_file(write(tmp_path, {"image": "i", "ports": ["1-65535:1-65535"]}), "compose",
                           "st")
    assert time.monotonic() - start < 1
    assert str(error.value) == ("compose (stack.yml).services.web.ports[0]: '1-65535:1-65535' "
                                "publishes "
                                f"65535 ports: a service publishes at most {MAX_PORTS} ports in "
                                "all")
    assert made == []  # not one port of it was made


def test_port_ranges_are_bounded_over_all_entries_of_a_service() -> None:
    assert len(parse_ports([f"1-{MAX_PORTS}:1-{MAX_PORTS}"], "p")) == MAX_PORTS
    with pytest.raises(UserError, match=r"p\[1\]: '20000-20600' publishes 601 ports"):
        parse_ports(["10000-10600:10000-10600", "20000-20600"], "p")
    with pytest.raises(UserError,
                       match=r"p\[1000\]: a service publishes at most 1000 ports in all"):
        parse_ports([{"target": 80}] * MAX_PORTS + ["81"], "p")
    with pytest.raises(UserError, match="p\\[0\\]: the range '90-80' ends before it starts"):
        parse_ports(["90-80:90-80"], "p")
    with pytest.raises(UserError, match="is not \\[\\[IP:\\]PUBLISHED:\\]TARGET"):
        parse_ports(["9" * 5000], "p")  # no 5000-digit int is ever converted
    with pytest.raises(UserError, match="p: expected a list"):
        parse_ports("80:80", "p")


def test_an_alias_bomb_compose_file_is_refused_fast(tmp_path: Path) -> None:
    path = tmp_path / "stack.yml"
    path.write_text(BOMB)
    start = time.monotonic()
    with pytest.raises(UserError, match=r"compose \(stack.yml\): too many YAML nodes "
                                        r".*CLOUDIFY_VNF_MAX_YAML_NODES"):
        parse_compose_file(str(path), "compose", "st")
    assert time.monotonic() - start < 2


def test_the_objects_of_one_stack_are_counted_before_they_are_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLOUDIFY_VNF_MAX_OBJECTS", "3")
    path = write(tmp_path, {"image": "i"}, networks={"a": {}, "b": {}},
                 configs={"c": {"file": "/nonexistent"}})
    with pytest.raises(UserError,
                       match=r"compose \(stack.yml\): services, networks, volumes, configs and "
                                        r"secrets: 4 objects are too many: at most 3 "
                                        r".*CLOUDIFY_VNF_MAX_OBJECTS"):
        parse_compose_file(path, "compose", "st")
    with pytest.raises(UserError,
                       match=r"compose \(stack.yml\).networks: expected a mapping, got list"):
        parse_compose_file(write(tmp_path, {"image": "i"}, networks=["a"]), "compose", "st")


@pytest.mark.parametrize(("service", "message"), [
    ({"image": "i", "stop_grace_period": "2h"},
     "services.web.stop_grace_period: 7200.0 seconds is too long"),
    ({"image": "i", "healthcheck": {"test": "true", "interval": "300000h"}},
     "services.web.healthcheck.interval: 1080000000.0 seconds is too long"),
    ({"image": "i", "deploy": {"restart_policy": {"delay": "90000000000h"}}},
     "deploy.restart_policy.delay: 324000000000000.0 seconds is too long"),
    # a number is no compose duration (docker's schema: a string); so none is negative or NaN
    ({"image": "i", "deploy": {"update_config": {"monitor": -5}}},
     "deploy.update_config.monitor: -5 must be a string with a unit"),
    ({"image": "i", "stop_grace_period": math.nan},
     "services.web.stop_grace_period: nan must be a string with a unit"),
    ({"image": "i", "stop_grace_period": "-5s"},
     "services.web.stop_grace_period: '-5s' is not a duration"),
])
def test_every_compose_duration_is_bounded(tmp_path: Path, service: dict[str, Any],
                                           message: str) -> None:
    with pytest.raises(UserError) as error:
        parse_compose_file(write(tmp_path, service), "compose", "st")
    assert message in str(error.value)
    if "too long" in message:
        assert "CLOUDIFY_VNF_MAX_TIMEOUT" in str(error.value)
