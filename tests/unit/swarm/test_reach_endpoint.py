"""Class 1 of issue 24 for the Swarm endpoint: every docker_host is checked against the
administrator's CLOUDIFY_VNF_ALLOWED_DOCKER_HOSTS where it is used (the Manager's, a published
one, at every operation), refused naming the field, the value and the setting before any file
is written or client opened; docker-py gets the endpoint rebuilt from what was checked; ssh://
on a manager only by an entry naming it exactly."""
from __future__ import annotations

import dataclasses
import ipaddress
from types import SimpleNamespace
from typing import Any

import pytest

from cloudify_shared.errors import UserError
from cloudify_shared.reach import DOCKER, ReachPolicy
from cloudify_swarm import docker_engine
from cloudify_swarm.context import engine as context_engine
from cloudify_swarm.context import links as context_links
from cloudify_swarm.endpoint import parse_endpoint, reach, ssh_identity_warning
from tests.unit.swarm.test_endpoint import node_ctx

SUITE = "unix:///var/run/docker.sock tcp://127.0.0.1:12376"  # what the suite's manager allows
WHERE = "properties.endpoint"


def policy(allowed: str, on_manager: bool = True) -> ReachPolicy:
    found = ReachPolicy.for_operation(on_manager, {DOCKER.setting: allowed})
    # names in these tests resolve to a documentation address that is not this host's
    return dataclasses.replace(
        found, resolver=lambda host: (ipaddress.ip_address(host) if host[0].isdigit()
                                      else ipaddress.ip_address("203.0.113.5"),),
        own_address=lambda address: address.is_loopback)


def endpoint(docker_host: str, **more: Any) -> Any:
    return parse_endpoint({"docker_host": docker_host, **more}, WHERE)


@pytest.mark.parametrize("docker_host", [
    "tcp://127.0.0.1:2375", "unix:///tmp/vnf-other.sock", "ssh://root@127.0.0.1",
    "tcp://localhost:12376", "tcp://203.0.113.5:2376"])
def test_a_manager_refuses_what_is_not_allowed_naming_field_value_and_setting(
    docker_host: str,
) -> None:
    with pytest.raises(UserError) as refused:
        reach(endpoint(docker_host), policy(SUITE), WHERE)
    message = str(refused.value)
    assert message.startswith(f"{WHERE}.docker_host: {docker_host!r}")
    assert DOCKER.setting in message


@pytest.mark.parametrize(("docker_host", "used"), [
    ("unix:///var/run/docker.sock", "unix:///var/run/docker.sock"),
    ("tcp://127.0.0.1:12376", "tcp://127.0.0.1:12376"),
    ("tcp://127.0.0.1:12376/", "tcp://127.0.0.1:12376")])
def test_what_is_allowed_is_given_to_docker_py_as_it_was_checked(
    docker_host: str, used: str,
) -> None:
    assert reach(endpoint(docker_host), policy(SUITE), WHERE).docker_host == used


@pytest.mark.parametrize("docker_host", [
    "tcp://127.0.0.1:12376?x=1", "tcp://127.0.0.1:12376#frag", "tcp://u:pw@127.0.0.1:12376",
    "unix://var/run/docker.sock"])
def test_forms_docker_py_would_read_otherwise_are_refused_everywhere(docker_host: str) -> None:
    for on_manager in (True, False):
        with pytest.raises(UserError, match=r"properties.endpoint.docker_host: "):
            reach(endpoint(docker_host), policy("*", on_manager), WHERE)


def test_the_local_profile_allows_everything_as_before() -> None:
    local = policy("", on_manager=False)
    for docker_host in ("tcp://127.0.0.1:2375", "unix:///tmp/vnf-other.sock",
                        "ssh://root@127.0.0.1"):
        assert reach(endpoint(docker_host), local,
                     WHERE).docker_host.startswith(docker_host.split(":")[0])
    assert ssh_identity_warning(endpoint("ssh://root@127.0.0.1"), local) is None
    assert reach(endpoint("ssh://root@127.0.0.1"), local,
                 WHERE).docker_host == "ssh://root@127.0.0.1:22"


@pytest.mark.parametrize("allowed", ["ssh://engine.example.net:2222", "tcp://engine.example.net"])
def test_ssh_to_a_host_not_allowed_at_all_is_refused(allowed: str) -> None:
    with pytest.raises(UserError,
                       match=r"'ssh://ops@engine.example.net' \(ssh://engine.example.net:22\) "
                                        r"is a Docker Engine that this manager does not allow"):
        reach(endpoint("ssh://ops@engine.example.net"), policy(allowed), WHERE)


@pytest.mark.parametrize("allowed", ["*", "engine.example.net", "203.0.113.0/24", "*.example.net"])
def test_ssh_on_a_manager_needs_an_entry_naming_it_exactly(allowed: str) -> None:
    assert reach(endpoint("tcp://engine.example.net:2376"), policy(allowed), WHERE)  # tcp: allowed
    with pytest.raises(UserError,
                       match=r"is an ssh:// Docker host, reached with the mgmtworker's own "
                                        r"SSH identity .* only an entry of "
                                        r"CLOUDIFY_VNF_ALLOWED_DOCKER_HOSTS"
                                        r" that names exactly this endpoint "
                                        r"\(ssh://engine.example.net:22\)"):
        reach(endpoint("ssh://ops@engine.example.net"), policy(allowed), WHERE)


@pytest.mark.parametrize("allowed", ["ssh://engine.example.net", "ssh://engine.example.net:22"])
def test_an_exact_ssh_entry_is_the_administrators_choice_and_is_said(allowed: str) -> None:
    checked = reach(endpoint("ssh://ops@engine.example.net"), policy(allowed), WHERE)
    assert checked.docker_host == "ssh://ops@engine.example.net:22"
    warning = ssh_identity_warning(checked, policy(allowed))
    assert warning is not None and "mgmtworker's own SSH identity" in warning and allowed in warning


@pytest.mark.parametrize("timeout", [-1, 3601, 10**9])
def test_the_endpoint_timeout_is_bounded(timeout: int) -> None:
    with pytest.raises(UserError, match=r"properties.endpoint.timeout: "):
        endpoint("tcp://127.0.0.1:12376", timeout=timeout)


# ----------------------------------------------------------------------------- where it is used

def manager_ctx(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(DOCKER.setting, SUITE)
    return SimpleNamespace(_local=False, logger=SimpleNamespace(warning=pytest.fail))


def test_checked_endpoint_refuses_before_any_file_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = manager_ctx(monkeypatch)
    monkeypatch.setattr(context_engine, "local_files", lambda ctx: pytest.fail("a file was read"))
    given = endpoint("tcp://127.0.0.1:2375", tls={"ca_cert": "/etc/vnf/ca.pem"})
    with pytest.raises(UserError,
                       match=r"^properties.endpoint.docker_host: 'tcp://127.0.0.1:2375' "):
        context_engine.checked_endpoint(ctx, given, WHERE)


def test_a_published_endpoint_is_checked_at_every_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    """Day 2 included: a Container's operation refuses the Microservice's published endpoint
    (the allowlist may have changed since create), before any client is opened."""
    ctx = manager_ctx(monkeypatch)
    monkeypatch.setattr(docker_engine.Engine, "connect",
                        classmethod(lambda *a: pytest.fail("opened")))
    microservice = SimpleNamespace(node=SimpleNamespace(id="app"), instance=None)
    published = endpoint("unix:///tmp/vnf-other.sock").public()
    with pytest.raises(UserError, match=r"^node 'app' runtime property endpoint.docker_host: "
                                        r"'unix:///tmp/vnf-other.sock' "
                                        r".*CLOUDIFY_VNF_ALLOWED_DOCKER_HOSTS"):
        context_engine.connect(ctx, {"endpoint": published}, microservice)


def test_a_microservice_refuses_a_published_endpoint_at_create(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whichever node published it (here a node related by connected_to_manager)."""
    monkeypatch.setenv(DOCKER.setting, SUITE)
    published = endpoint("tcp://127.0.0.1:2375").public()
    ctx = node_ctx("cloudify.nodes.DeploymentProxy", {}, {"swarm_info": {"endpoint": published}})
    ctx._local = False
    with pytest.raises(UserError,
                       match=r"^node 'swarm' runtime property swarm_info.endpoint.docker_host: "
                                        r"'tcp://127.0.0.1:2375'"):
        context_links.resolve_endpoint(ctx, "swarm_info")
    ctx._local = True
    assert context_links.resolve_endpoint(ctx, "swarm_info").docker_host == "tcp://127.0.0.1:2375"
