"""Issue 24, class 5: the API server a Kubernetes client actually uses (api.host, or the server
of the kubeconfig context it loads) and the SSH master are checked by the administrator's
allowlists; a kubeconfig the blueprint wrote holds only allowlisted keys (an oidc
auth-provider, exec, proxy-url, extensions are refused naming the key); error bodies of remote
calls reach messages only as a cut Kubernetes Status message."""
from __future__ import annotations

import dataclasses
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client.rest import ApiException

from cloudify_kubernetes.api_backend import (
    MESSAGE_CHARS,
    api_errors,
    map_api_error,
    open_api_client,
)
from cloudify_kubernetes.connection import (
    check_kubeconfig,
    kubeconfig_server_field,
    parse_api,
    parse_connection,
)
from cloudify_kubernetes.credentials import register_inline_credentials
from cloudify_kubernetes.microservice import open_backend
from cloudify_shared.errors import TransientError, UserError
from cloudify_shared.reach import LOCAL, ReachPolicy

ALLOWED = "https://127.0.0.1:6443"
ENV = {"CLOUDIFY_VNF_ALLOWED_KUBERNETES_APIS": ALLOWED,
       "CLOUDIFY_VNF_ALLOWED_SSH_HOSTS": "127.0.0.1:2222"}
KUBECONFIG_SETTING = "CLOUDIFY_VNF_ALLOWED_KUBERNETES_APIS"


def resolver(host: str) -> tuple[Any, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        return (ipaddress.ip_address("127.0.0.1"),) if host == "localhost" else ()


MANAGER = dataclasses.replace(ReachPolicy.for_operation(True, ENV), resolver=resolver,
                              own_address=lambda a: a.is_loopback)


def kubeconfig(servers: dict[str, str], current: str, user: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Config", "current-context": current,
            "clusters": [{"name": n, "cluster": {"server": s, "insecure-skip-tls-verify": True}}
                         for n, s in servers.items()],
            "contexts": [{"name": n, "context": {"cluster": n, "user": "u"}} for n in servers],
            "users": [{"name": "u", "user": user or {"token": "t0k3n-reach"}}]}


def never_read(path: str) -> str:
    raise AssertionError(f"read {path}")


# ---- the API server the client loads ------------------------------------------------------------

def test_an_api_host_the_administrator_did_not_allow_is_refused_naming_field_and_setting() -> None:
    api = parse_api({"host": "https://127.0.0.1:6444", "token": "t"}, "properties.api")
    with pytest.raises(UserError) as refused:
        open_api_client(api, never_read, MANAGER, "properties.api")
    text = str(refused.value)
    assert text.startswith("properties.api.host: 'https://127.0.0.1:6444'")
    assert KUBECONFIG_SETTING in text and ALLOWED in text and "manager's own host" in text


def test_the_allowed_api_host_opens_a_client_and_offline_anything_does() -> None:
    api = parse_api({"host": ALLOWED, "token": "t"}, "api")
    client = open_api_client(api, never_read, MANAGER, "api")
    assert client.configuration.host == ALLOWED
    client.close()
    other = parse_api({"host": "https://127.0.0.1:6444", "token": "t"}, "api")
    open_api_client(other, never_read, LOCAL, "api").close()


def test_the_server_checked_is_the_one_of_the_context_the_client_loads() -> None:
    content = kubeconfig({"good": ALLOWED + "/", "bad": "https://localhost:18100/"}, "good")
    ok = parse_api({"kubeconfig_content": content}, "api")
    client = open_api_client(ok, never_read, MANAGER, "properties.api")
    assert client.configuration.host == ALLOWED  # the client strips the slash: that is checked
    client.close()
    chosen = parse_api({"kubeconfig_content": content, "context": "bad"}, "api")
    with pytest.raises(UserError, match=r"^properties\.api\.kubeconfig_content\.clusters\[1\]"
                                        r"\.cluster\.server: 'https://localhost:18100'"):
        open_api_client(chosen, never_read, MANAGER, "properties.api")
    current = parse_api({"kubeconfig_content": yaml.safe_dump(kubeconfig(
        {"good": ALLOWED, "bad": "https://localhost:18100/"}, "bad"))}, "api")
    with pytest.raises(UserError, match=r"clusters\[1\]\.cluster\.server: .*"
                                        r"CLOUDIFY_VNF_ALLOWED_KUBERNETES_APIS"):
        open_api_client(current, never_read, MANAGER, "properties.api")


def test_a_kubeconfig_file_is_named_by_the_cluster_its_context_uses(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(kubeconfig({"a": ALLOWED, "b": "https://10.9.9.9:443"}, "b")))
    api = parse_api({"kubeconfig": str(path)}, "api")
    with pytest.raises(UserError, match=r"^kubernetes_info\.api\.kubeconfig\.clusters\[1\]\.cluster"
                                        r"\.server: 'https://10\.9\.9\.9:443'"):
        open_api_client(api, lambda p: Path(p).read_text(), MANAGER, "kubernetes_info.api")


def test_a_kubeconfig_without_a_server_is_refused_on_a_manager() -> None:
    content = {"clusters": [{"name": "c", "cluster": {}}], "users": [{"name": "u", "user": {}}],
               "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
               "current-context": "x"}
    with pytest.raises(UserError, match=r"kubeconfig_content\.clusters\[0\]\.cluster\.server: "
                                        r"'http://localhost'.* scheme http://"):
        open_api_client(parse_api({"kubeconfig_content": content}, "api"), never_read, MANAGER,
                        "api")


def test_an_ssh_master_the_administrator_did_not_allow_is_refused_before_connecting() -> None:
    ssh = parse_connection({}, {"host": "127.0.0.1", "port": 22, "key_file": "/k"})
    with pytest.raises(UserError, match=r"^kubernetes_info\.ssh\.host: '127\.0\.0\.1:22' .*"
                                        r"CLOUDIFY_VNF_ALLOWED_SSH_HOSTS"):
        open_backend(ssh, never_read, MANAGER, "kubernetes_info")


def test_server_field_follows_the_context() -> None:
    content = kubeconfig({"a": "https://a", "b": "https://b"}, "a")
    assert kubeconfig_server_field(content, None) == "clusters[0].cluster.server"
    assert kubeconfig_server_field(content, "b") == "clusters[1].cluster.server"
    assert kubeconfig_server_field(content, "nope") == "server"
    assert kubeconfig_server_field("text", None) == "server"


# ---- the kubeconfig allowlist -----------------------------------------------------------------

def allowed_path(path: str, field: str) -> str:
    return path


def test_a_token_kubeconfig_passes_the_allowlist() -> None:
    content = kubeconfig({"a": ALLOWED}, "a", {"token": "t", "client-certificate-data": "eA==",
                                                "client-key-data": "eA==", "username": "u",
                                                "password": "p"})
    content["preferences"] = {}
    content["clusters"][0]["cluster"].update({"certificate-authority-data": "eA==",
                                              "tls-server-name": "k8s"})
    content["contexts"][0]["context"]["namespace"] = "ns"
    check_kubeconfig(content, "properties.api.kubeconfig_content", allowed_path)
    check_kubeconfig(yaml.safe_dump(content), "properties.api.kubeconfig_content", allowed_path)


@pytest.mark.parametrize(("change", "field"), [
    (lambda c: c["users"][0]["user"].update({"auth-provider": {"name": "oidc", "config": {
        "idp-issuer-url": "https://127.0.0.1:18443/", "client-id": "x", "refresh-token": "r"}}}),
     r"users\[0\]\.user\.auth-provider: an auth-provider is refused"),
    (lambda c: c["users"][0]["user"].update({"exec": {"command": "sh"}}),
     r"users\[0\]\.user\.exec: a kubeconfig that runs a command is refused"),
    (lambda c: c["clusters"][0]["cluster"].update({"proxy-url": "http://127.0.0.1:3128"}),
     r"clusters\[0\]\.cluster\.proxy-url: a proxy is refused"),
    (lambda c: c.update({"extensions": []}), r"kubeconfig_content\.extensions: a key"),
    (lambda c: c["clusters"][0]["cluster"].update({"extensions": []}),
     r"clusters\[0\]\.cluster\.extensions: a key"),
    (lambda c: c["contexts"][0]["context"].update({"extensions": []}),
     r"contexts\[0\]\.context\.extensions"),
    (lambda c: c.update({"preferences": {"extensions": []}}), r"preferences\.extensions"),
    (lambda c: c["users"][0]["user"].update({"as": "system:admin"}), r"users\[0\]\.user\.as: "),
    (lambda c: c["users"][0].update({"extra": 1}), r"users\[0\]\.extra: "),
    (lambda c: c.update({"clusters": {"a": 1}}), r"clusters: expected a list"),
])
def test_every_key_outside_the_allowlist_is_refused_naming_it(change: Any, field: str) -> None:
    content = kubeconfig({"a": ALLOWED}, "a")
    change(content)
    with pytest.raises(UserError, match=field):
        check_kubeconfig(content, "properties.api.kubeconfig_content", allowed_path)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))


def test_kubeconfig_content_is_loaded_under_the_yaml_bounds() -> None:
    with pytest.raises(UserError, match="too many YAML nodes"):
        check_kubeconfig(BOMB, "properties.api.kubeconfig_content", allowed_path)
    with pytest.raises(UserError, match="too many YAML nodes"):
        open_api_client(parse_api({"kubeconfig_content": BOMB}, "api"), never_read, LOCAL, "api")
    register_inline_credentials({"kubeconfig_content": BOMB})  # registered whole, never expanded


# ---- error bodies --------------------------------------------------------------------------------

def api_error(status: int, body: Any, reason: str = "Reason") -> ApiException:
    error = ApiException(status=status, reason=reason)
    error.body = body if isinstance(body, str) else json.dumps(body)
    return error


def test_only_a_kubernetes_status_message_reaches_the_error_and_cut() -> None:
    status = {"kind": "Status", "apiVersion": "v1", "message": "forbidden: " + "x" * 2000}
    text = str(map_api_error(api_error(403, status), "reading ConfigMap a"))
    assert "forbidden: xxx" in text and len(text) < MESSAGE_CHARS + 200
    other = str(map_api_error(api_error(400, {"message": "idp says secret-ish"}), "what"))
    assert "secret-ish" not in other
    html = str(map_api_error(api_error(502, "<html>upstream secret</html>", "R" * 500), "w"))
    assert "upstream" not in html and len(html) < 200


def test_the_cause_of_a_mapped_error_carries_no_body() -> None:
    with pytest.raises(TransientError) as raised:
        with api_errors("discovery"):
            raise api_error(503, "<html>the body of another server</html>")
    cause = raised.value.__cause__
    assert isinstance(cause, ApiException) and "another server" not in str(cause)


class ManagerContext:
    """The little of a manager's operation context `connected` reads (not marked local)."""

    _local = False

    def get_resource(self, path: str) -> bytes:
        raise AssertionError(f"resource {path}")


def test_the_tasks_layer_opens_no_backend_the_administrator_did_not_allow(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cloudify_kubernetes.tasks import connected

    monkeypatch.setenv(KUBECONFIG_SETTING, ALLOWED)
    monkeypatch.setenv("CLOUDIFY_VNF_ALLOWED_SSH_HOSTS", "")
    api = parse_connection({"host": "https://10.255.255.1:6443", "token": "t"}, {})
    with pytest.raises(UserError,
                       match=r"^kubernetes_info\.api\.host: 'https://10\.255\.255\.1:6443'"):
        with connected(ManagerContext(), api, "kubernetes_info"):
            pass
    ssh = parse_connection({},
                           {"host": "10.255.255.1", "private_key": "k", "check_host_key": False})
    with pytest.raises(UserError, match=r"^properties\.ssh\.host: '10\.255\.255\.1:22'.* none"):
        with connected(ManagerContext(), ssh):
            pass
