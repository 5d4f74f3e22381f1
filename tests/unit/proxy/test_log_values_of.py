"""The proxy's logs name outputs and capabilities, never their values, unless log_values_of
lists them (issue 17): refresh diffs, the values logged on create, wait_for progress."""
from __future__ import annotations

from typing import Any

import pytest

from cloudify_proxy.config import parse_proxy
from cloudify_proxy.mapping import describe_values, diff, shown_properties
from cloudify_proxy.verdicts import Snapshot, judge
from cloudify_shared.errors import UserError

INSTALLED = ({"id": "e1", "workflow_id": "install", "status": "terminated", "created_at": "1"},)


def config(**props: Any) -> Any:
    return parse_proxy({"deployment_id": "up", **props}, {})


def test_log_values_of_defaults_to_none_and_takes_a_list_of_names() -> None:
    assert config().log_values_of == ()
    assert config(log_values_of=["url"]).log_values_of == ("url",)
    with pytest.raises(UserError, match=r"properties.log_values_of\[0\]"):
        config(log_values_of=[3])
    with pytest.raises(UserError, match="log_values_of"):
        config(log_values_of="url")


def test_refresh_diff_shows_values_only_of_listed_properties() -> None:
    changes = diff({"url": "u1", "kubeconfig": "kc-old-value"},
                   {"url": "u2", "kubeconfig": "kc-new-value", "n": 1})
    assert changes.describe() == "kubeconfig changed; url changed; n added"
    assert changes.describe({"url",
                             "n"}) == "kubeconfig changed; url changed: 'u1' -> 'u2'; n added: 1"


def test_listed_outputs_are_shown_under_the_runtime_property_they_are_copied_to() -> None:
    settings = config(inherit_outputs={"url": "endpoint", "kubeconfig": "kc"},
                      log_values_of=["url"],
                      inherit_capabilities={"region": "where"})
    shown = shown_properties(settings.log_values_of, settings.selection, settings.capabilities)
    assert shown == {"url", "endpoint"}
    assert describe_values({"endpoint": "https://x", "kc": "kc-secret-value"},
                           shown) == "endpoint = 'https://x'"
    assert describe_values({"kc": "kc-secret-value"}, shown) == ""


def test_a_waiting_condition_shows_the_outputs_value_only_when_listed() -> None:
    settings = config(wait_for={"conditions": [{"output": "kubeconfig", "contains": "server"}]})
    snapshot = Snapshot("up", True, INSTALLED, outputs={"kubeconfig": "kc-secret-value"})
    hidden = judge(snapshot, settings.wait_for)
    assert hidden.state == "waiting" and "kubeconfig" in hidden.message
    assert "kc-secret-value" not in hidden.message and "value not shown" in hidden.message
    shown = judge(snapshot, settings.wait_for, ("kubeconfig",))
    assert "kc-secret-value" in shown.message
