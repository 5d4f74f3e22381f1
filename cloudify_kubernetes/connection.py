"""How to reach a cluster: parsed from a Master's properties, published as `kubernetes_info`
(safe to show: URLs, file paths, secret NAMES, never a token or key) and rebuilt from it.

Two modes: `api` (kubeconfig file/content + context, or URL + token + CA / client certificate;
TLS verify on by default) and `ssh` (kubectl on a master reached over SSH; host keys checked
against known_hosts unless the user opts out). Plain Python: no ctx, no cluster access.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from cloudify_shared import limits
from cloudify_shared.errors import UserError
from cloudify_shared.validation import Field, parse_mapping

API_FIELDS = {
    "kubeconfig": Field((str,)),
    "kubeconfig_content": Field((dict, str)),
    "context": Field((str,)),
    "host": Field((str,)),
    "token": Field((str,)),
    "token_file": Field((str,)),
    "ca_file": Field((str,)),
    "ca_pem": Field((str,)),
    "client_cert_file": Field((str,)),
    "client_key_file": Field((str,)),
    "verify_tls": Field((bool,), default=True),
    "request_timeout": Field((int,), default=30, check=limits.duration),
}

SSH_FIELDS = {
    "host": Field((str,), required=True),
    "port": Field((int,), default=22),
    "user": Field((str,), default="root"),
    "key_file": Field((str,), default=""),
    "private_key": Field((str,)),
    "known_hosts": Field((str,), default="~/.ssh/known_hosts"),
    "check_host_key": Field((bool,), default=True),
    "kubectl": Field((str,), default="kubectl"),
    "kubeconfig": Field((str,)),
    "connect_timeout": Field((int,), default=15, check=limits.duration),
}


@dataclass(frozen=True)
class ApiSettings:
    kubeconfig: str | None = None
    kubeconfig_content: dict[str, Any] | str | None = None
    context: str | None = None
    host: str | None = None
    token: str | None = None
    token_file: str | None = None
    ca_file: str | None = None
    ca_pem: str | None = None
    client_cert_file: str | None = None
    client_key_file: str | None = None
    verify_tls: bool = True
    request_timeout: int = 30

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["inline_credentials"] = bool(self.token or self.kubeconfig_content)
        data.pop("token")
        data.pop("kubeconfig_content")
        return data

    @property
    def endpoint(self) -> str:
        return self.host or f"kubeconfig {self.kubeconfig or '(inline)'}" + (
            f" context {self.context}" if self.context else "")


@dataclass(frozen=True)
class SshSettings:
    """kubectl on the master over SSH: where the master answers, as whom, how its host key is
    checked, and which kubectl and kubeconfig run there (the defaults are SSH_FIELDS')."""

    host: str
    port: int = 22
    user: str = "root"
    key_file: str = ""
    known_hosts: str = "~/.ssh/known_hosts"
    check_host_key: bool = True
    kubectl: str = "kubectl"
    kubeconfig: str | None = None
    connect_timeout: int = 15
    private_key: str | None = field(default=None, repr=False)  # the key itself (get_secret)

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["inline_credentials"] = bool(data.pop("private_key"))
        return data

    @property
    def endpoint(self) -> str:
        return f"ssh://{self.user}@{self.host}:{self.port} ({self.kubectl})"


Settings = ApiSettings | SshSettings


def parse_api(data: Any, path: str) -> ApiSettings:
    values = parse_mapping(data, API_FIELDS, path)
    sources = [k for k in ("kubeconfig", "kubeconfig_content", "host") if values[k]]
    if len(sources) != 1:
        raise UserError(f"{path}: set exactly one of kubeconfig, kubeconfig_content or host "
                        f"(got {', '.join(sources) or 'none'})")
    if values["host"]:
        if not values["host"].startswith("https://"):
            raise UserError(f"{path}.host: {values['host']!r} must be an https:// URL")
        if values["token"] and values["token_file"]:
            raise UserError(f"{path}: set token or token_file, not both")
        if not (values["token"] or values["token_file"] or values["client_cert_file"]):
            raise UserError(f"{path}: with host, set token, token_file or client_cert_file")
        if values["client_cert_file"] and not values["client_key_file"]:
            raise UserError(f"{path}.client_key_file: required with client_cert_file")
    return ApiSettings(**values)


def parse_connection(api: Any, ssh: Any, path: str = "properties") -> Settings:
    if bool(api) == bool(ssh):
        raise UserError(f"{path}: set exactly one of 'api' or 'ssh'")
    if api:
        return parse_api(api, f"{path}.api")
    return parse_ssh(ssh, f"{path}.ssh")


def parse_ssh(data: Any, path: str) -> SshSettings:
    values = parse_mapping(data, SSH_FIELDS, path)
    if bool(values["key_file"]) == bool(values["private_key"]):
        raise UserError(f"{path}: set exactly one of key_file or private_key (the key itself, "
                        f"e.g. from get_secret)")
    return SshSettings(**values)


def public_info(settings: Settings) -> dict[str, Any]:
    """The `kubernetes_info` runtime property: what is needed to connect, safe to publish."""
    if isinstance(settings, ApiSettings):
        return {"mode": "api", "endpoint": settings.endpoint, "api": settings.public()}
    return {"mode": "ssh", "endpoint": settings.endpoint, "ssh": settings.public()}


def wants_inline(info: Any) -> bool:
    """Whether a `kubernetes_info` value says its token, kubeconfig content or SSH key lives
    in the Master's properties (from_info then needs them as `inline`)."""
    if not isinstance(info, dict):
        return False
    section = info.get("ssh") if info.get("mode") == "ssh" else info.get("api")
    return isinstance(section, dict) and bool(section.get("inline_credentials"))


def from_info(info: Any, where: str, inline: dict[str, Any] | None = None) -> Settings:
    """Settings rebuilt from a `kubernetes_info` value; `inline` supplies the inline token or
    kubeconfig content when the info says they live in the Master's properties."""
    if not isinstance(info, dict) or info.get("mode") not in ("api", "ssh"):
        raise UserError(f"{where}: not a kubernetes_info value (need mode api or ssh): {info!r}")
    if info["mode"] == "ssh":
        ssh = dict(info.get("ssh") or {})
        if ssh.pop("inline_credentials", False):
            if not (inline or {}).get("private_key"):
                raise UserError(f"{where}: the Master keeps its SSH private key inline; connect "
                                "to it directly (or use key_file) to share it")
            ssh["private_key"] = (inline or {})["private_key"]
        return parse_ssh(ssh, f"{where}.ssh")
    data = dict(info.get("api") or {})
    if data.pop("inline_credentials", False):
        if not inline:
            raise UserError(f"{where}: the Master keeps its token or kubeconfig inline; connect "
                            "to it directly (or use token_file / kubeconfig) to share it")
        data.update({k: inline.get(k) for k in ("token", "kubeconfig_content") if inline.get(k)})
    return parse_api(data, f"{where}.api")


# The settings that name a local file (the manager-side kubeconfig of ssh mode lives on the master)
API_FILE_FIELDS = ("kubeconfig", "token_file", "ca_file", "client_cert_file", "client_key_file")
SSH_FILE_FIELDS = ("key_file", "known_hosts")


def with_local_paths(settings: Settings, local_path: Callable[[str, str], str],
                     where: str = "properties") -> Settings:
    """The settings with every local file replaced by `local_path(value, field)` (the tasks
    layer's local-file policy: a checked host path or a copy of a blueprint resource)."""
    def checked(section: str, names: tuple[str, ...]) -> dict[str, Any]:
        return {name: local_path(value, f"{where}.{section}.{name}")
                for name in names if (value := getattr(settings, name))}

    if isinstance(settings, ApiSettings):
        return dataclasses.replace(settings, **checked("api", API_FILE_FIELDS))
    names = SSH_FILE_FIELDS if settings.check_host_key else ("key_file",)
    return dataclasses.replace(settings, **checked("ssh", names))


# A kubeconfig the blueprint wrote (issue 24): an allowlist of what the client may do with it
# on a manager: reach a named server, present a token, a password or client certificate data,
# read host files the local-file policy allows. Anything else (an `exec` command, an
# `auth-provider` such as oidc, which makes the client fetch a URL of the kubeconfig's choosing,
# a `proxy-url`, `extensions`, impersonation) is refused, naming the key.
KUBECONFIG_TOP = frozenset({"apiVersion", "kind", "clusters", "contexts", "users",
                            "current-context", "preferences"})
KUBECONFIG_SECTIONS = {  # section -> (the inner key of a named entry, the keys allowed in it)
    "clusters": ("cluster", frozenset({"server", "certificate-authority",
                                       "certificate-authority-data", "insecure-skip-tls-verify",
                                       "tls-server-name"})),
    "users": ("user", frozenset({"token", "tokenFile", "client-certificate",
                                 "client-certificate-data", "client-key", "client-key-data",
                                 "username", "password"})),
    "contexts": ("context", frozenset({"cluster", "user", "namespace"})),
}
# The keys that name a file of the host (checked by the local-file policy)
KUBECONFIG_FILES = {"clusters": ("certificate-authority",),
                    "users": ("client-certificate", "client-key", "tokenFile"),
                    "contexts": ()}
KUBECONFIG_PREFERENCES = frozenset({"colors"})
WHY_REFUSED = {
    "exec": "a kubeconfig that runs a command is refused on a manager (the command would run "
            "on the manager)",
    "auth-provider": "an auth-provider is refused on a manager (the client would run its "
                     "cmd-path or fetch its issuer's URL from the manager)",
    "proxy-url": "a proxy is refused on a manager (the client would send its requests to "
                 "another host)",
}


def load_kubeconfig(content: Any, where: str) -> Any:
    """Kubeconfig content as data: YAML text is loaded under the YAML bounds (limits)."""
    return limits.load_yaml(content, where) if isinstance(content, str) else content


def check_kubeconfig(content: Any, where: str, host_path: Callable[[str, str], str]) -> None:
    """For a kubeconfig the blueprint wrote (inline, or a blueprint resource) read on a manager:
    only the keys of the allowlist above (anything else is a UserError naming it), and every
    file it names is an absolute host path that `host_path` (the local-file policy) accepts;
    relative ones would be read from the worker's directory, so they are refused."""
    content = load_kubeconfig(content, where)
    if content is None:
        return
    if not isinstance(content, dict):
        raise UserError(f"{where}: expected a kubeconfig mapping, got {type(content).__name__}")
    _only_keys(content, KUBECONFIG_TOP, where)
    preferences = content.get("preferences")
    if preferences is not None:
        if not isinstance(preferences, dict):
            raise UserError(f"{where}.preferences: expected a mapping")
        _only_keys(preferences, KUBECONFIG_PREFERENCES, f"{where}.preferences")
    for section in KUBECONFIG_SECTIONS:
        entries = content.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise UserError(f"{where}.{section}: expected a list of named entries")
        for index, entry in enumerate(entries):
            _check_entry(entry, section, f"{where}.{section}[{index}]", host_path)


def _check_entry(entry: Any, section: str, field: str,
                 host_path: Callable[[str, str], str]) -> None:
    inner, allowed = KUBECONFIG_SECTIONS[section]
    if not isinstance(entry, dict):
        raise UserError(f"{field}: expected a mapping with name and {inner}")
    _only_keys(entry, frozenset({"name", inner}), field)
    body = entry.get(inner)
    if body is None:
        return
    if not isinstance(body, dict):
        raise UserError(f"{field}.{inner}: expected a mapping")
    _only_keys(body, allowed, f"{field}.{inner}")
    _check_files(body, f"{field}.{inner}", KUBECONFIG_FILES[section], host_path)


def _only_keys(data: dict[Any, Any], allowed: frozenset[str], field: str) -> None:
    for key, value in data.items():
        if key not in allowed:
            why = WHY_REFUSED.get(str(key), "a key this manager does not accept in a kubeconfig "
                                            "a blueprint gives")
            if key == "auth-provider" and "cmd-path" in str(value):
                why = WHY_REFUSED["exec"]
            raise UserError(f"{field}.{key}: {why}; allowed here: {', '.join(sorted(allowed))} "
                            "(use a token from get_secret, or client certificate data)")


def _check_files(body: dict[str, Any], field: str, keys: tuple[str, ...],
                 host_path: Callable[[str, str], str]) -> None:
    for key in keys:
        value = body.get(key)
        if isinstance(value, str):
            if not value.startswith("/"):
                inline = "token" if key == "tokenFile" else f"{key}-data"
                raise UserError(f"{field}.{key}: {value!r} is relative (it would be read from "
                                f"the manager's working directory): use {inline}")
            host_path(value, f"{field}.{key}")


def kubeconfig_server_field(content: Any, context: str | None) -> str:
    """Where, in a kubeconfig, the server the client loads is written: the `server` of the
    cluster of `context` (or of current-context), e.g. 'clusters[0].cluster.server'."""
    if not isinstance(content, dict):
        return "server"
    wanted = context or content.get("current-context")
    cluster = next((c.get("context", {}).get("cluster") for c in content.get("contexts") or []
                    if isinstance(c, dict) and isinstance(c.get("context"), dict)
                    and c.get("name") == wanted), None)
    for index, entry in enumerate(content.get("clusters") or []):
        if isinstance(entry, dict) and entry.get("name") == cluster:
            return f"clusters[{index}].cluster.server"
    return "server"


def ssh_target(settings: SshSettings) -> str:
    """`host:port` of the SSH settings (an IPv6 address in brackets), as the reach policy
    checks it."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{host}:{settings.port}"


def warn_if_insecure(settings: Settings, logger: logging.Logger) -> None:
    if isinstance(settings, ApiSettings) and not settings.verify_tls:
        logger.warning("TLS verification is OFF for %s: the API server's identity is not checked",
                       settings.endpoint)
    if isinstance(settings, SshSettings) and not settings.check_host_key:
        logger.warning("SSH host key checking is OFF for %s: the master's identity is not checked",
                       settings.endpoint)
