"""Output selection, renaming, refresh diffs and property parsing of the proxy."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from cloudify_proxy.config import parse_proxy, parse_selection
from cloudify_proxy.mapping import (
    copied_from,
    diff,
    is_proxy,
    outputs_from_proxy,
    outputs_of,
    proxy_properties,
    select_outputs,
)
from cloudify_shared.errors import UserError
from cloudify_shared.redaction import MASK, RedactingFilter, redact

OUTPUTS = {"vm_info": {"ips": ["10.0.0.2"]}, "kubernetes_url": "https://k:6443",
           "api_token": "s3cr3t-token-value"}


def test_all_outputs_by_default() -> None:
    assert select_outputs(OUTPUTS, None, "up") == OUTPUTS


def test_list_form() -> None:
    selection = parse_selection(["vm_info"], "p")
    assert select_outputs(OUTPUTS, selection, "up") == {"vm_info": {"ips": ["10.0.0.2"]}}


def test_mapping_form_renames() -> None:
    selection = parse_selection({"vm_info": "backends", "kubernetes_url": "url"}, "p")
    assert select_outputs(OUTPUTS, selection, "up") == {
        "backends": {"ips": ["10.0.0.2"]}, "url": "https://k:6443"}


def test_missing_output_lists_existing_ones() -> None:
    with pytest.raises(UserError) as error:
        select_outputs(OUTPUTS, parse_selection(["vm_info", "ips"], "p"), "up")
    assert "no output 'ips'" in str(error.value)
    assert "its outputs are: api_token, kubernetes_url, vm_info" in str(error.value)


def test_reserved_names_are_refused() -> None:
    with pytest.raises(UserError, match="reserved"):
        parse_selection({"a": "deployment_id"}, "properties.inherit_outputs")
    with pytest.raises(UserError, match="keeps for itself"):
        select_outputs({"deployment_id": "x"}, None, "up")
    with pytest.raises(UserError, match="runtime property 'x'"):
        parse_selection({"a": "x", "b": "x"}, "p")


def test_secret_outputs_are_copied_but_masked() -> None:
    copied = select_outputs(OUTPUTS, None, "up")
    assert copied["api_token"] == "s3cr3t-token-value"
    assert redact("token is s3cr3t-token-value") == f"token is {MASK}"


def test_proxy_properties_and_copied_from() -> None:
    props = proxy_properties("up", {"b": 1, "a": 2}, "2026-01-01T00:00:00+00:00")
    assert props == {"a": 2, "b": 1, "deployment_id": "up",
                     "outputs_copied_at": "2026-01-01T00:00:00+00:00", "copied_outputs": ["a", "b"],
                     "copied_capabilities": []}
    assert copied_from({**props, "other": 3}) == {"a": 2, "b": 1}


def test_diff() -> None:
    changes = diff({"a": 1, "b": [1], "c": 3}, {"a": 1, "b": [1, 2], "d": 4})
    assert changes.changed == {"b": ([1], [1, 2])}
    assert changes.added == {"d": 4} and changes.removed == {"c": 3}
    assert changes.describe() == "b changed; d added; c removed"  # names, never values
    assert not diff({"a": 1}, {"a": 1}) and diff({"a": 1}, {"a": 1}).describe() == "no change"


def test_parse_proxy_defaults_and_input_override() -> None:
    config = parse_proxy({"deployment_id": "from-property", "inherit_outputs": []},
                         {"deployment_id": "from-input", "wait_for": {}})
    assert config.deployment_id == "from-input"
    assert config.selection is None and config.timeout == 300 and config.poll_interval == 0.5
    assert config.wait_for.install and config.wait_for.missing_deployment == "fail"
    assert config.manager is None


@pytest.mark.parametrize("properties, field", [
    ({}, "properties.deployment_id: required"),
    ({"deployment_id": "x", "timeout": -1}, "properties.timeout: must not be negative"),
    ({"deployment_id": "x", "wait_for": {"instal": True}}, "did you mean 'install'"),
    ({"deployment_id": "x", "wait_for": {"conditions": [{"output": "a"}]}},
     "properties.wait_for.conditions[0]: give exactly one comparison"),
    ({"deployment_id": "x", "wait_for": {"conditions": [{"output": "a", "equal": 1}]}},
     "did you mean 'equals'"),
    ({"deployment_id": "x", "wait_for": {"missing_deployment": "skip"}},
     "properties.wait_for.missing_deployment"),
    ({"deployment_id": "x", "manager": {"port": 80}}, "properties.manager.host: required"),
    ({"deployment_id": "x", "manager": {"host": "h", "token": "abcd1234", "username": "u",
                                        "password": "p4ssw0rd"}}, "either token or username"),
    ({"deployment_id": "x", "inherit_outputs": "vm_info"}, "properties.inherit_outputs: expected"),
])
def test_bad_properties_name_the_field(properties: dict[str, Any], field: str) -> None:
    with pytest.raises(UserError) as error:
        parse_proxy(properties, {})
    assert field in str(error.value)


def test_manager_credentials_are_registered_and_not_public() -> None:
    config = parse_proxy({"deployment_id": "x", "manager": {
        "host": "10.0.0.1", "token": "manager-token-98765", "tenant": "t1"}}, {})
    assert config.manager is not None
    assert "manager-token-98765" not in str(config.manager.public())
    assert "manager-token-98765" not in repr(config.manager)
    record = logging.LogRecord("x", logging.INFO, "f", 1, "token %s", ("manager-token-98765",),
                               None)
    RedactingFilter().filter(record)
    assert record.getMessage() == f"token {MASK}"


def test_outputs_from_a_proxy_target() -> None:
    proxy = proxy_properties("up", {"vm_info": {"ips": ["10.0.0.2"]}, "url": "u"})
    assert is_proxy(proxy) and not is_proxy({"vm_info": 1})
    assert outputs_from_proxy(proxy, None) == {"vm_info": {"ips": ["10.0.0.2"]}, "url": "u"}
    assert outputs_from_proxy(proxy, parse_selection({"url": "k8s"}, "p")) == {"k8s": "u"}
    with pytest.raises(UserError, match="deployment 'up' has no output 'nope'"):
        outputs_from_proxy(proxy, parse_selection(["nope"], "p"))
    assert outputs_of(proxy, None) == ["url", "vm_info"]
    assert outputs_of(proxy, parse_selection({"url": "k8s"}, "p")) == ["k8s"]
