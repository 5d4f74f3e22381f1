"""Compose YAML read as the docker CLI 28 reads it (gopkg.in/yaml.v3), where PyYAML's YAML 1.1
differs; each expectation was seen on `docker stack deploy` 28.2.2 (compose_parity/yaml-*.yml
compare them on the real Swarm)."""
from __future__ import annotations

import math
from typing import Any

import pytest

from cloudify_shared.errors import UserError
from cloudify_swarm.compose.strings import go_string
from cloudify_swarm.compose.yaml import load_compose_yaml

# (plain scalar, the label value docker stored for it)
SEEN = [
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"), ("N", "N"),
    ("ON", "ON"),
    ("22:22", "22:22"), ("1:20", "1:20"), ("190:20:30", "190:20:30"),
    ("1e3", "1000"), ("1.0e+3", "1000"), ("1.5e3", "1500"), (".5", "0.5"), ("12e", "12e"),
    ("0755", "493"), ("0o17", "15"), ("089", "89"), ("0x_1F", "31"), ("0x1F", "31"), ("0b101", "5"),
    ("-0b11", "-3"), ("+12", "12"), ("1_000", "1000"), ("1__0", "10"),
    ("9223372036854775808", "9223372036854775808"),
    ("2001-12-14", "2001-12-14 00:00:00 +0000 UTC"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.1 -0500 -0500"),
    ("2001-12-14T10:00:00+00:00", "2001-12-14 10:00:00 +0000 UTC"),
    ("2001-1-2 3:4:5.1234567891", "2001-01-02 03:04:05.123456789 +0000 UTC"),
    ("2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5"),
    ("=", "="),
]


@pytest.mark.parametrize(("plain", "stored"), SEEN)
def test_a_label_value_is_what_docker_stores(plain: str, stored: str) -> None:
    value = load_compose_yaml(f"labels:\n  k: {plain}\n", "f")["labels"]["k"]
    assert go_string(value, "k") == stored


def test_only_true_and_false_are_booleans_and_yaml_nulls_stay_null() -> None:
    data = load_compose_yaml("a: [true, True, TRUE, false, False, FALSE, yes, on, ~, null, NULL]\n"
                             "on: 1\ny: 2\n", "f")
    assert data == {"a": [True, True, True, False, False, False, "yes", "on", None, None, None],
                    "on": 1, "y": 2}
    assert math.isinf(load_compose_yaml("a: -.Inf\n", "f")["a"])


def test_quoted_and_tagged_scalars_keep_their_type() -> None:
    assert load_compose_yaml('a: ["1", !!str 2, !!float 3, !!int 0o17, \'yes\']\n', "f") == \
        {"a": ["1", "2", 3.0, 15, "yes"]}
    with pytest.raises(UserError, match=r"f: malformed YAML: .*cannot decode 'yes' as int"):
        load_compose_yaml("a: !!int yes\n", "f")


@pytest.mark.parametrize(("text", "refusal"), [
    ("s:\n  w:\n    labels: {a: x, a: y}\n",
     r"^f\.s\.w\.labels\.a: the key is given twice \(lines 3 and 3\)"),
    ("s:\n  w:\n    labels:\n      a: x\n      'a': y\n",
     r"^f\.s\.w\.labels\.a: the key is given twice \(lines 4 and 5\)"),
    ("s: {1: x}\n", r"^f\.s\.1: a mapping key that is not a string \(a YAML int\).*quote it"),
    ("s: [{true: x}]\n", r"^f\.s\[0\]\.true: a mapping key that is not a string \(a YAML bool\)"),
    ("x-a: {~: 1}\n", r"^f\.x-a\.~: a mapping key that is not a string \(a YAML null\)"),
    ("2001-12-14: 1\n", r"^f\.2001-12-14: a mapping key that is not a string \(a YAML timestamp\)"),
])
def test_keys_docker_refuses_are_refused_naming_the_path(text: str, refusal: str) -> None:
    with pytest.raises(UserError, match=refusal):
        load_compose_yaml(text, "f")


def test_merge_keys_and_quoted_keys_are_strings() -> None:
    data: Any = load_compose_yaml("b: &b {x: 1, on: 2}\nc: {<<: *b, y: 3, '1': 4}\n", "f")
    assert data["c"] == {"x": 1, "on": 2, "y": 3, "1": 4}
