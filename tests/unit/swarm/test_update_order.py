"""An in-place update the user did not order keeps a task running (issue 25): start-first for a
Microservice, unless host-mode ports make it impossible; compose services keep docker's default."""
from __future__ import annotations

import logging

import pytest

from cloudify_swarm.spec.microservice import Microservice, parse_microservice
from cloudify_swarm.spec.ports import PortSpec
from cloudify_swarm.spec.service import note_update_order, update_config


def service(update: dict[str, object] | None = None) -> Microservice:
    return parse_microservice({"update_config": update or {}})


def test_start_first_when_nothing_says_otherwise() -> None:
    assert update_config(service(), [], keep_up=True) == {"Order": "start-first"}


def test_the_users_order_and_other_settings_are_kept() -> None:
    chosen = update_config(service({"order": "stop-first", "parallelism": 2}), [], keep_up=True)
    assert chosen == {"Order": "stop-first", "Parallelism": 2}


def test_host_mode_ports_keep_swarms_default() -> None:
    ports = [PortSpec(target=80, published=8080, mode="host")]
    assert update_config(service(), ports, keep_up=True) == {}
    ingress = [PortSpec(target=80, published=8080, mode="ingress")]
    assert update_config(service(), ingress, keep_up=True) == {"Order": "start-first"}


def test_compose_services_keep_dockers_default() -> None:
    assert update_config(service(), [], keep_up=False) == {}


def test_the_log_says_why_an_update_stops_first(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    note_update_order(logging.getLogger("t"), service(),
                      [PortSpec(target=80, published=8080, mode="host")], "web")
    assert "host-mode port(s) 8080" in caplog.text
