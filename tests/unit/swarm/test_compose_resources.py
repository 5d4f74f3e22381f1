"""The variables a stack is parsed with: the operation's environment only in the local
profile, never on a manager; relative bind sources only for a compose file on the host."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from cloudify_swarm.context.compose_file import compose_options
from cloudify_swarm.spec.microservice import parse_microservice


def test_manager_environment_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANAGER_SECRET_THING", "x")
    service = parse_microservice({"compose_file": "app/stack.yml", "compose_variables": {"A": 1}})
    on_manager = compose_options(SimpleNamespace(), service)  # not marked _local: a manager
    assert on_manager == {"variables": {"A": "1"}, "relative_binds": False}
    local = compose_options(SimpleNamespace(_local=True), service)
    assert local["variables"]["MANAGER_SECRET_THING"] == "x" and local["variables"]["A"] == "1"
    monkeypatch.setenv("A", "from-env")
    # the property wins
    assert compose_options(SimpleNamespace(_local=True), service)["variables"]["A"] == "1"
    host = parse_microservice({"compose_file": "/srv/stack.yml"})
    assert compose_options(SimpleNamespace(), host)["relative_binds"] is True


def test_runtime_properties_keep_variable_names_only() -> None:
    service = parse_microservice({"compose_variables": {"PASSWORD": "s3cret"}})
    assert service.to_dict()["compose_variables"] == {"PASSWORD": None}
