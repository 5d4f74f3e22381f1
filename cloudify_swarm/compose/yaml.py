"""Compose YAML read as the docker CLI reads it: gopkg.in/yaml.v3 v3.0.1 decoding into Go's
`any` (docker/cli v28 cli/compose/loader ParseYAML), not PyYAML's YAML 1.1: `yes`, `on`, `y`
are strings, `22:22` is not a base-60 number, `0o17` and `1e3` are numbers, a timestamp is
written as Go writes a time.Time, and a key given twice or a key that is not a string is
refused for the whole file (cloudify_shared.go_yaml has each rule and where it comes from).
Checked against `docker stack deploy` 28.2.2 on a real Swarm:
tests/integration/swarm/compose_parity/yaml-*.yml. Pure: no I/O, no ctx; the byte and alias
bounds stay cloudify_shared.limits'.
"""
from __future__ import annotations

from typing import Any

from cloudify_shared import limits
from cloudify_shared.go_yaml import YamlV3Loader, refuse_keys_docker_refuses


def load_compose_yaml(text: str | bytes, where: str) -> Any:
    """The compose file's one document (None when empty), under limits' bounds."""
    return limits.load_yaml(text, where, loader=YamlV3Loader, check=refuse_keys_docker_refuses)
