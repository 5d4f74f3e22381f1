"""Compose values as docker's loader makes them (issue 27): YAML scalars to the strings the
Engine API takes, bind sources as written, aliases only on user-defined networks, the schema of
the file's own version. The expected strings were checked against Go's fmt.Sprint and against
`docker stack deploy` on a real Swarm (tests/integration/swarm/compose_parity/)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudify_shared.errors import UserError
from cloudify_swarm.compose.engine_spec import NAMESPACE, stack_service_spec
from cloudify_swarm.compose.stack import parse_compose_file
from cloudify_swarm.compose.strings import go_float, string_map


def write(folder: Path, text: str) -> str:
    path = folder / "stack.yml"
    path.write_text(text)
    return str(path)


def spec_of(path: str) -> dict[str, Any]:
    stack = parse_compose_file(path, "compose", "st")
    return stack_service_spec("st", stack.services[0], {NAMESPACE: "st"}, {})


@pytest.mark.parametrize(("value", "go"), [
    (1.0, "1"), (1.5, "1.5"), (100000000.0, "1e+08"), (1234567.0, "1.234567e+06"),
    (123456.0, "123456"), (0.0001, "0.0001"), (0.00001, "1e-05"), (1e21, "1e+21"), (-2.5, "-2.5"),
    (1.25e-7, "1.25e-07"), (999999.5, "999999.5"), (12.0, "12"),
    (3.14159265358979, "3.14159265358979"),
    (float("inf"), "+Inf"), (0.0, "0"),
])
def test_a_float_is_written_as_go_writes_it(value: float, go: str) -> None:
    assert go_float(value) == go


def test_a_string_map_takes_numbers_and_nulls_as_docker_does() -> None:
    assert string_map({"a": 1, "b": 2.0, "c": None, "d": "x"}, "p") == {"a": "1", "b": "2", "c": "",
                                                                        "d": "x"}
    assert string_map(["a=1", "b"], "p") == {"a": "1", "b": ""}
    assert string_map(["a=1", "b"], "p", null_as=None) == {"a": "1", "b": None}
    with pytest.raises(UserError, match=r"^p\.c: must be a string or a number"):
        string_map({"c": None}, "p", lists=False, nulls=False)
    with pytest.raises(UserError,
                       match=r"^p\.t: must be a string, number or null \(quote it: 'True'\)"):
        string_map({"t": True}, "p")
    with pytest.raises(UserError, match=r"^p: a key that is empty"):
        string_map({"": "x"}, "p")
    with pytest.raises(UserError, match=r"^p: expected a mapping$"):
        string_map(["a=1"], "p", lists=False)


SCALARS = """
version: "3.8"
services:
  db:
    image: busybox
    labels: {hint: 2, ratio: 1.0, empty: }
    environment: {WEIGHT: 1.5, UNSET: }
    sysctls: {net.core.somaxconn: 1024}
    logging: {driver: json-file, options: {max-file: 3, compress: }}
    extra_hosts: {zeta.local: 10.0.0.9, alpha.local: 10.0.0.1, v6.local: "[::1]", none.local: }
    volumes: [data:/data]
    networks: [back]
    deploy: {labels: {tier: 1}}
volumes:
  data:
    driver_opts: {size: 1, ratio: 1.0, o: size=100m}
    labels: {backup: 1}
networks:
  back:
    driver_opts: {com.docker.network.driver.mtu: 1450}
    labels: [zone=3, plain]
"""


def test_every_map_of_strings_gets_strings(tmp_path: Path) -> None:
    path = write(tmp_path, SCALARS)
    spec = spec_of(path)
    container = spec["TaskTemplate"]["ContainerSpec"]
    assert container["Labels"] == {"hint": "2", "ratio": "1", "empty": "", NAMESPACE: "st"}
    assert container["Env"] == ["UNSET", "WEIGHT=1.5"]
    assert container["Sysctls"] == {"net.core.somaxconn": "1024"}
    assert container["Hosts"] == ["10.0.0.1 alpha.local", "::1 v6.local", "10.0.0.9 zeta.local"]
    assert spec["TaskTemplate"]["LogDriver"]["Options"] == {"max-file": "3", "compress": ""}
    assert spec["Labels"]["tier"] == "1"
    volume = container["Mounts"][0]["VolumeOptions"]
    assert volume["DriverConfig"]["Options"] == {"size": "1", "ratio": "1", "o": "size=100m"}
    assert volume["Labels"]["backup"] == "1"
    network = next(o for o in parse_compose_file(path, "compose", "st").objects if o.kind
                   == "network")
    assert network.options["options"] == {"com.docker.network.driver.mtu": "1450"}
    assert network.options["extra_labels"] == {"zone": "3", "plain": ""}


def test_a_null_driver_opt_is_refused_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, 'version: "3.8"\nservices: {a: {image: busybox}}\nvolumes: {v: '
                           '{driver_opts: {o: }}}\n')
    with pytest.raises(UserError, match=r"\(stack\.yml\)\.volumes\.v\.driver_opts\.o: must be a "
                                        r"string or a number"):
        parse_compose_file(path, "compose", "st")


def test_bind_sources_are_kept_as_docker_keeps_them(tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump({"version": "3.8",
                                           "services": {"a": {"image": "busybox", "volumes": [
        "/var/lib/docker/:/var/lib/docker:ro", "/tmp//p/./x/:/x", "./etc-pihole/:/etc/pihole/",
        "~/data/:/data", {"type": "bind", "source": "/tmp/", "target": "/t/"}]}}}))
    sources = [m["Source"] for m in spec_of(path)["TaskTemplate"]["ContainerSpec"]["Mounts"]]
    assert sources == ["/var/lib/docker/", "/tmp//p/./x/", f"{tmp_path}/etc-pihole",
                       f"{Path.home()}/data/", "/tmp/"]


def test_relative_binds_join_the_folder_as_named_not_its_real_path(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    write(tmp_path / "real", yaml.safe_dump({"version": "3.8", "services": {"a": {
        "image": "busybox", "volumes": ["./x:/x"]}}}))
    mounts = (spec_of(str(tmp_path / "link" / "stack.yml"))
              ["TaskTemplate"]["ContainerSpec"]["Mounts"])
    assert mounts[0]["Source"] == f"{tmp_path}/link/x"


def test_the_service_alias_is_set_on_user_defined_networks_only(tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump({"version": "3.8", "services": {"a": {
        "image": "busybox", "networks": {"hostnet": None, "front": {"aliases": ["www"]}}}},
        "networks": {"hostnet": {"external": True, "name": "host"}, "front": {}}}))
    networks = spec_of(path)["TaskTemplate"]["Networks"]
    assert networks == [{"Target": "host"}, {"Target": "st_front", "Aliases": ["www", "a"]}]


@pytest.mark.parametrize(("text", "message"), [
    ('version: "3.8"\nservices: {a: {image: i, depends_on: {b: {condition: service_healthy}}}, b: '
     '{image: i}}\n',
     r"\(stack\.yml\)\.services\.a\.depends_on: must be a list of strings without repeats "
     r"\(format 3 has no mapping with conditions\)"),
    ('version: "3.8"\nservices: {a: {image: i, command: [sleep, 3600]}}\n',
     r"\(stack\.yml\)\.services\.a\.command\[1\]: must be a string \(quote it: '3600'\)"),
    ('version: "3.8"\nservices: {a: {image: i, deploy: {placement: {constraints: [1]}}}}\n',
     r"\.services\.a\.deploy\.placement\.constraints\[0\]: must be a string"),
    ('version: "3.8"\nservices: {a: {image: i, working_dir: 1}}\n',
     r"\.services\.a\.working_dir: must be a string, as docker's compose schema"),
    ('version: "3.8"\nservices: {a: {image: i, tty: 1}}\n',
     r"\.services\.a\.tty: must be true or false"),
    ('version: "3.8"\nservices: {a: {image: i, read_only: "yes"}}\n',
     r"\.services\.a\.read_only: must be true or false"),
    ('version: "3.8"\nservices: {a: {image: i, isolation: 1}}\n',
     r"\.services\.a\.isolation: must be a string"),
    ('version: "3.8"\nservices: {a: {image: i, stop_grace_period: 10}}\n',
     r"\.services\.a\.stop_grace_period: 10 must be a string with a unit"),
    ('version: "3.8"\nservices: {a: {image: i, healthcheck: {test: "true", interval: 30}}}\n',
     r"\.services\.a\.healthcheck\.interval: 30 must be a string with a unit"),
    ('version: "3.8"\nservices: {a: {image: i, privileged: "yes"}}\n',
     r"\.services\.a\.privileged: must be true or false"),
    ('version: "3.4"\nservices: {a: {image: i, volumes: [{type: tmpfs, target: /s, tmpfs: {size: '
     '1}}]}}\n',
     r"\(stack\.yml\)\.services\.a\.volumes\[0\]\.tmpfs: not allowed in a version 3\.4 file "
     r"\(docker's schema has it from 3\.6\)"),
    ('version: "3.0"\nservices: {a: {image: i, ports: [{target: 80}]}}\n',
     r"\.services\.a\.ports\[0\]\.target: not allowed in a version 3\.0 file"),
    ('version: "3.6"\nservices: {a: {image: i, deploy: {rollback_config: {}}}}\n',
     r"\.services\.a\.deploy\.rollback_config: not allowed in a version 3\.6 file"),
    ('version: "3.4"\nservices: {a: {image: i}}\nnetworks: {n: {name: x}}\n',
     r"\.networks\.n\.name: not allowed in a version 3\.4 file \(docker's schema has it from "
     r"3\.5\)"),
    ('version: "3.8"\nservices: {a: {image: i}}\nnetworks: {n: {ipam: {options: {a: b}}}}\n',
     r"\.networks\.n\.ipam: unknown key 'options'; allowed keys: config, driver"),
])
def test_the_schema_of_the_files_own_version(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_compose_file(write(tmp_path, text), "compose", "st")


def test_a_key_of_a_later_version_is_taken_in_a_file_of_that_version(tmp_path: Path) -> None:
    text = ('version: "3"\nservices: {a: {image: i, depends_on: [b], volumes: [{type: tmpfs, '
            'target: /s, tmpfs: {size: 1}}]}, b: {image: i}}\n')
    assert len(parse_compose_file(write(tmp_path, text), "compose", "st").services) == 2


def test_a_services_network_driver_opts_are_sent_as_strings(tmp_path: Path) -> None:
    path = write(tmp_path, 'version: "3.13"\nservices:\n  a:\n    image: i\n    networks:\n'
                           '      front: {driver_opts: {mtu: 1400}}\n      back: {}\nnetworks: '
                           '{front: {}, back: {}}\n')
    assert spec_of(path)["TaskTemplate"]["Networks"] == [
        {"Target": "st_back", "Aliases": ["a"]},
        {"Target": "st_front", "Aliases": ["a"], "DriverOpts": {"mtu": "1400"}}]
    with pytest.raises(UserError, match=r"\.services\.a\.networks\.front\.driver_opts: not allowed "
                                        r"in a version 3\.12 file"):
        parse_compose_file(write(tmp_path, open(path).read().replace('"3.13"', '"3.12"')),
                           "compose", "st")
