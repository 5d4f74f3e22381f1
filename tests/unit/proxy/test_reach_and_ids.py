"""Issue 24, the DeploymentProxy: on a manager the `manager` property reaches only a manager
the administrator allows (CLOUDIFY_VNF_ALLOWED_MANAGERS), checked on the URL the REST client
calls, plain http only through an entry naming http://; `deployment_id` is a Cloudify resource
id before it reaches a REST or storage path; every duration is bounded. `manager: {}` (the
manager running the operation) and the local profile are not checked."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import cloudify.manager
import pytest

from cloudify_proxy import rest_source, tasks
from cloudify_proxy.config import ManagerSettings, parse_proxy
from cloudify_proxy.rest_source import check_reach, plain_host
from cloudify_shared.errors import UserError
from cloudify_shared.reach import LOCAL, ReachPolicy

SETTING = "CLOUDIFY_VNF_ALLOWED_MANAGERS"
ADDRESSES = {"mgr.example.net": "192.0.2.10", "other.example.net": "192.0.2.20",
             "localhost": "::1"}


def policy(allowed: str | None) -> ReachPolicy:
    """The policy on a manager whose administrator set CLOUDIFY_VNF_ALLOWED_MANAGERS to
    `allowed` (None: unset), with names resolved from ADDRESSES, never from DNS."""
    import ipaddress
    environ = {} if allowed is None else {SETTING: allowed}
    on = ReachPolicy.for_operation(True, environ)
    return ReachPolicy(on.on_manager, on.entries, on.ignored,
                       resolver=lambda host: (ipaddress.ip_address(ADDRESSES.get(host, host)),),
                       own_address=lambda address: address.is_loopback)


def settings(host: str, port: int | None = None, protocol: str = "https") -> ManagerSettings:
    return ManagerSettings(host=host, port=port, protocol=protocol)


def refusal(settings_: ManagerSettings, policy_: ReachPolicy) -> str:
    with pytest.raises(UserError) as error:
        check_reach(settings_, policy_)
    return str(error.value)


# ---- the URL checked is the URL called -----------------------------------------------------------

@pytest.mark.parametrize("manager, url", [
    (settings("127.0.0.1", 18443), "https://127.0.0.1:18443"),
    (settings("mgr.example.net"), "https://mgr.example.net:443"),
    (settings("mgr.example.net", protocol="http"), "http://mgr.example.net:80"),
    (settings("::1", 18443), "https://[::1]:18443"),
])
def test_base_url_is_what_the_rest_client_calls(manager: ManagerSettings, url: str) -> None:
    client = rest_source.open_client(manager)
    assert manager.base_url() == url == client._client.base_url


def test_the_allowed_manager_passes() -> None:
    check_reach(settings("127.0.0.1", 18443), policy("https://127.0.0.1:18443"))
    check_reach(settings("mgr.example.net"), policy("https://mgr.example.net"))
    check_reach(settings("mgr.example.net", 8443), policy("192.0.2.0/24"))


def test_the_rest_service_behind_nginx_over_http_is_refused_naming_field_url_and_setting() -> None:
    message = refusal(settings("127.0.0.1", 18100, "http"), policy("https://127.0.0.1:18443"))
    assert message.startswith("properties.manager.host: 'http://127.0.0.1:18100'")
    assert SETTING in message and "https://127.0.0.1:18443" in message  # what is allowed now
    assert "the manager's own host" in message


@pytest.mark.parametrize("manager, allowed", [
    (settings("127.0.0.1", 18100), "https://127.0.0.1:18443"),        # another port
    (settings("localhost", 18443), "https://127.0.0.1:18443"),        # another name
    (settings("other.example.net"), "https://mgr.example.net"),
    (settings("127.0.0.1", 18443), "*"),                              # '*' never the own host
    (settings("mgr.example.net"), None),                              # unset: nothing
    (settings("mgr.example.net"), ""),
])
def test_what_the_allowlist_does_not_name_is_refused(manager: ManagerSettings,
                                                     allowed: str | None) -> None:
    message = refusal(manager, policy(allowed))
    assert message.startswith("properties.manager.host: "
                              f"'{manager.base_url()}'") and SETTING in message


def test_plain_http_needs_an_entry_naming_http() -> None:
    http = settings("mgr.example.net", protocol="http")
    message = refusal(http, policy("mgr.example.net"))  # a scheme-less entry allows https only
    assert message.startswith("properties.manager.host: 'http://mgr.example.net:80' is plain http")
    assert SETTING in message and "names it with http://" in message
    assert "allowed now: mgr.example.net" in message
    check_reach(settings("mgr.example.net"), policy("mgr.example.net"))  # https: fine
    check_reach(http, policy("http://mgr.example.net"))
    check_reach(http, policy("http://*.example.net"))
    check_reach(settings("127.0.0.1", 18100, "http"), policy("http://127.0.0.1:18100"))


@pytest.mark.parametrize("host", [
    "mgr.example.net@127.0.0.1", "127.0.0.1/api/v3.1/tenants#", "mgr.example.net?x=",
    "127.0.0.1:18443", "mgr example.net", "mgr.example.net\\@127.0.0.1", "[::1]", "-mgr.net",
    "",
])
def test_a_host_that_is_not_a_name_or_address_is_refused_on_a_manager(host: str) -> None:
    assert not plain_host(host)
    message = refusal(settings(host, 18443), policy("*"))
    assert message == f"properties.manager.host: {host!r} is not a host name or an IP address"


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "mgr.example.net", "mgr.example.net.",
                                  "a-b.c1", "MGR.Example.NET"])
def test_plain_hosts(host: str) -> None:
    assert plain_host(host)


def test_the_local_profile_checks_nothing() -> None:
    for host in ("127.0.0.1", "localhost", "mgr.example.net@127.0.0.1"):
        check_reach(settings(host, 18100, "http"), LOCAL)


# ---- where the tasks layer checks it -------------------------------------------------------------

class Logger:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str, *args: Any) -> None:
        self.warnings.append(message % args)


def on_manager_ctx() -> Any:
    return SimpleNamespace(tenant_name="default_tenant", _local=False, logger=Logger())


def test_a_refused_manager_is_refused_before_any_client_is_made(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTING, "https://127.0.0.1:18443")
    monkeypatch.setattr(rest_source, "open_client", lambda _: pytest.fail("a client was made"))
    ctx = on_manager_ctx()
    config = parse_proxy({"deployment_id": "up", "manager": {
        "host": "127.0.0.1", "port": 18100, "protocol": "http", "verify": False}}, {})
    with pytest.raises(UserError, match=r"^properties.manager.host: 'http://127.0.0.1:18100'"):
        tasks.open_source(ctx, config)
    assert ctx.logger.warnings == []  # nothing said about a manager that is never reached


def test_the_allowed_manager_is_opened_on_a_manager(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTING, "https://127.0.0.1:18443")
    config = parse_proxy({"deployment_id": "up", "manager": {
        "host": "127.0.0.1", "port": 18443, "token": "tok-0123456789", "verify": False}}, {})
    source = tasks.open_source(on_manager_ctx(), config)
    assert source.describe() == "manager https://127.0.0.1:18443 (tenant default_tenant)"


def test_manager_empty_is_the_manager_running_the_operation_and_never_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTING, raising=False)  # nothing allowed at all
    monkeypatch.setattr(cloudify.manager, "get_rest_client", lambda **_: object())
    source = tasks.open_source(on_manager_ctx(), parse_proxy({"deployment_id": "up"}, {}))
    assert source.describe().startswith("this manager")


# ---- deployment_id is a Cloudify resource id -----------------------------------------------------

@pytest.mark.parametrize("deployment_id", [
    "up", "proxy-up-1a2b3c", "A.b_c-9", "1st", "x" * 256, "v1.2.3",
])
def test_cloudify_ids_are_taken(deployment_id: str) -> None:
    assert parse_proxy({"deployment_id": deployment_id}, {}).deployment_id == deployment_id


@pytest.mark.parametrize("deployment_id", [
    "../tenants", "..", ".", "a..b", "up/../../tenants", "a/b", "up?_include=id", "up#x",
    "%2e%2e", "up%2Fx", " up", "up ", "a b", "up\n", "up\x00", "up\x1b[31m", "\u00e9t\u00e9",
    "up\\x", "up;x", "up~",
])
def test_a_deployment_id_that_could_leave_its_rest_path_is_refused(deployment_id: str) -> None:
    with pytest.raises(UserError) as error:
        parse_proxy({"deployment_id": deployment_id}, {})
    message = str(error.value)
    assert message.startswith(f"properties.deployment_id: {deployment_id!r} is not a Cloudify "
                              f"deployment id"), message


def test_the_create_input_is_named_as_the_input() -> None:
    with pytest.raises(UserError, match=r"^inputs.deployment_id: '\.\./tenants' is not"):
        parse_proxy({"deployment_id": "up"}, {"deployment_id": "../tenants"})


def test_an_overlong_id_is_refused_by_its_length_only() -> None:
    with pytest.raises(UserError) as error:
        parse_proxy({"deployment_id": "x" * 5000}, {})
    assert (str(error.value)
            == "properties.deployment_id: a deployment id is at most 256 characters, got 5000")


def test_day2_operations_check_the_id_they_fall_back_to() -> None:
    ctx = SimpleNamespace(node=SimpleNamespace(properties={"deployment_id": ""}),
                          instance=SimpleNamespace(runtime_properties={"deployment_id": "../x"}))
    with pytest.raises(UserError, match="is not a Cloudify deployment id"):
        tasks.day2_config(ctx, {})


# ---- durations -----------------------------------------------------------------------------------

@pytest.mark.parametrize("properties, message", [
    ({"timeout": 3601}, "properties.timeout: 3601.0 seconds is too long"),
    ({"timeout": -1}, "properties.timeout: must not be negative"),
    ({"poll_interval": -1}, "properties.poll_interval: must not be negative"),
    ({"poll_interval": 61}, "properties.poll_interval: must be between 0.05 and 60"),
    ({"manager": {"host": "h", "request_timeout": 1e9}},
     "properties.manager.request_timeout: 1000000000.0 seconds is too long"),
    ({"manager": {"host": "h", "request_timeout": -0.5}},
     "properties.manager.request_timeout: must not be negative"),
])
def test_every_duration_is_bounded(properties: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError) as error:
        parse_proxy({"deployment_id": "up", **properties}, {})
    assert str(error.value).startswith(message), error.value


def test_the_bound_names_its_setting_and_follows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match="CLOUDIFY_VNF_MAX_TIMEOUT"):
        parse_proxy({"deployment_id": "up"}, {"timeout": 7200})
    monkeypatch.setenv("CLOUDIFY_VNF_MAX_TIMEOUT", "7200")
    assert parse_proxy({"deployment_id": "up"}, {"timeout": 7200}).timeout == 7200
    assert parse_proxy({"deployment_id": "up", "timeout": 0}, {}).timeout == 0
