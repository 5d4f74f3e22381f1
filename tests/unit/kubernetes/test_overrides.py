"""Overrides: the 2016 string form is parsed safely (never evaluated), declarative path/value and
merge patches apply to the right documents, and bad paths are rejected with a clear error."""
from __future__ import annotations

import pytest

from cloudify_kubernetes.overrides import (
    apply_overrides,
    merge_patch,
    parse_override,
    parse_override_string,
)
from cloudify_shared.errors import UserError

DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"replicas": 1,
                       "template": {"spec": {"containers": [{"name": "c", "image": "a"}]}}}}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"ports": []}}


@pytest.mark.parametrize("text, path, value", [
    ("['spec']['replicas']=3", ("spec", "replicas"), 3),
    ("['spec']['template']['spec']['containers'][0]['image'] = 'x:1'",
     ("spec", "template", "spec", "containers", 0, "image"), "x:1"),
    ("['metadata']['labels']={'a': 'b'}", ("metadata", "labels"), {"a": "b"}),
    ("['spec']['paused']=True", ("spec", "paused"), True),
    ("['spec']['items'][-1]=-2", ("spec", "items", -1), -2),
])
def test_string_form_parses_literal_subscripts(text: str, path: tuple, value: object) -> None:
    override = parse_override_string(text)
    assert (override.path, override.value) == (path, value)


@pytest.mark.parametrize("text, reason", [
    ("['spec']['replicas']=__import__('os').system('id')", "literal"),
    ("['spec'][len('x')]=1", "literal"),
    ("['spec'].replicas=1", "subscripts only"),
    ("['a']=1; import os", "exactly one assignment"),
    ("['a']=b", "literal"),
    ("os.system('id')", "must start with a subscript"),
    ("['a']==1", "exactly one assignment"),
    ("['a']=", "not a valid assignment"),
    ("[x]=1", "literal"),
])
def test_string_form_rejects_everything_else(text: str, reason: str) -> None:
    with pytest.raises(UserError, match=reason) as caught:
        parse_override_string(text)
    assert repr(text) in str(caught.value)


def test_path_override_applies_only_where_the_path_exists() -> None:
    docs = apply_overrides([DEPLOYMENT, SERVICE], [parse_override_string("['spec']['replicas']=3")],
                           "f")
    assert docs[0]["spec"]["replicas"] == 3
    assert "replicas" not in docs[1]["spec"]
    assert DEPLOYMENT["spec"]["replicas"] == 1  # inputs are not changed


def test_missing_path_is_an_error_naming_the_path() -> None:
    override = parse_override({"path": "spec.nothing.here", "value": 1},
                              "config_files[0].overrides[0]")
    with pytest.raises(UserError, match=r"\['spec'\]\['nothing'\]\['here'\] does not exist"):
        apply_overrides([DEPLOYMENT], [override], "file app.yaml")


def test_new_leaf_needs_a_single_target() -> None:
    new_key = parse_override({"path": "spec.paused", "value": True}, "o")
    with pytest.raises(UserError, match="does not exist"):
        apply_overrides([DEPLOYMENT, dict(DEPLOYMENT)], [new_key], "f")
    picked = parse_override({"path": ["spec", "paused"], "value": True, "kind": "Deployment"}, "o")
    assert apply_overrides([DEPLOYMENT, SERVICE], [picked], "f")[0]["spec"]["paused"] is True


def test_merge_patch_and_selectors() -> None:
    override = parse_override({"kind": "Service",
                               "merge": {"spec": {"type": "NodePort", "ports": None}}}, "o")
    docs = apply_overrides([DEPLOYMENT, SERVICE], [override], "f")
    assert docs[1]["spec"] == {"type": "NodePort"} and docs[0] == DEPLOYMENT
    assert merge_patch({"a": {"b": 1, "c": 2}},
                       {"a": {"b": None, "d": [1]}}) == {"a": {"c": 2, "d": [1]}}


def test_unknown_keys_and_selector_misses_are_errors() -> None:
    with pytest.raises(UserError, match="unknown key 'vaule'"):
        parse_override({"path": "spec", "vaule": 1}, "o")
    with pytest.raises(UserError, match="no document matches"):
        apply_overrides([SERVICE], [parse_override({"kind": "Job", "merge": {}}, "o")], "f")
