"""cloudify_shared.limits' YAML loader reads manifests, kubeconfigs and helm values as
sigs.k8s.io/yaml does (kubectl, client-go, helm: yaml.v2, then JSON), where PyYAML's YAML 1.1
differs; each case was seen on `kubectl apply --dry-run=server` (kubectl 1.20) against what
our engine sent. The byte and alias bounds hold for every loader."""
from __future__ import annotations

import math
import time

import pytest
import yaml

from cloudify_shared import limits
from cloudify_shared.errors import UserError
from cloudify_shared.go_yaml import YamlV3Loader, dump_for_sigs

# (plain scalar, what kubectl sends in JSON)
SEEN = [
    ("y", True), ("Y", True), ("yes", True), ("on", True), ("n", False), ("off", False),
    ("NO", False),
    ("12:30", "12:30"), ("190:20:30", "190:20:30"),  # no base-60 numbers (PyYAML: 750)
    ("2001-12-14", "2001-12-14"), ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
    ("=", "="), ("1e3", 1000), ("8e1", 80), ("80.0", 80), ("0.5", 0.5), ("1.5e3", 1500),
    ("0o120", 80), ("0755", 493), ("0x_1F", 31), ("089", 89), ("+12", 12), ("1_000", 1000),
    ("12e", "12e"), ("~", None), ("", None),
]


@pytest.mark.parametrize(("plain", "sent"), SEEN)
def test_a_scalar_is_what_kubectl_sends(plain: str, sent: object) -> None:
    value = limits.load_yaml(f"a: {plain}\n", "m")["a"]
    assert value == sent and type(value) is type(sent)


def test_keys_become_the_json_keys_kubectl_sends() -> None:
    data = limits.load_yaml("data: {y: z, on: k, 1: one, 1.5: f, 1000000.0: m, 123456789.0: i, "
                            "1e-5: h, false: 0}\n", "m")["data"]
    assert data == {"true": "k", "1": "one", "1.5": "f", "1e+06": "m", "1.2345679e+08": "i",
                    "1e-05": "h", "false": 0}
    with pytest.raises(UserError,
                       match=r"^m: malformed YAML: .*unsupported map key of type NoneType"):
        limits.load_yaml("data: {~: x}\n", "m")


def test_quoted_scalars_stay_strings_and_merge_keys_merge() -> None:
    data = limits.load_yaml("b: &b {x: 'yes', on: '12:30'}\nc: {<<: *b, z: !!str 1}\n", "m")
    assert data["c"] == {"x": "yes", "true": "12:30", "z": "1"}
    assert math.isinf(limits.load_yaml("a: -.inf\n", "m")["a"])


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p,
    n in zip("abcdefgh", "bcdefghi", strict=True))


@pytest.mark.parametrize("loader", [None, YamlV3Loader])
def test_every_loader_keeps_the_alias_and_byte_bounds(loader: type[yaml.SafeLoader] | None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = {"loader": loader} if loader else {}
    start = time.monotonic()
    with pytest.raises(UserError, match=r"^m: too many YAML nodes .*CLOUDIFY_VNF_MAX_YAML_NODES"):
        limits.load_yaml(BOMB, "m", **kwargs)
    assert time.monotonic() - start < 2
    monkeypatch.setenv("CLOUDIFY_VNF_MAX_FILE_BYTES", "10")
    with pytest.raises(UserError, match=r"^m: 12 bytes is too large"):
        limits.load_yaml("a: 12345678\n", "m", **kwargs)


def test_what_we_write_for_helm_reads_back_the_same_in_yaml_v2() -> None:
    data = {"a": "y", "b": "0o17", "c": "1e3", "d": "on", "e": "12:30", "f": "=", "g": "plain",
            "h": True, "i": 1}
    text = dump_for_sigs(data)
    assert limits.load_yaml(text, "values") == data
    assert "a: 'y'" in text and "b: '0o17'" in text and "g: plain" in text
