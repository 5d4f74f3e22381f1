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
    "request_timeout": Field((int,), default=30),
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
    "connect_timeout": Field((int,), default=15),
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
    host: str
    key_file: str = ""
    port: int = 22
    user: str = "root"
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


# What a kubeconfig can make its reader open or run (kubernetes.config.kube_config)
KUBECONFIG_FILES = {"clusters": ("cluster", ("certificate-authority",)),
                    "users": ("user", ("client-certificate", "client-key", "tokenFile"))}


def check_kubeconfig(content: Any, where: str, host_path: Callable[[str, str], str]) -> None:
    """For a kubeconfig the blueprint wrote (inline, or a blueprint resource) read on a manager:
    no command (`exec`, an auth-provider's `cmd-path`: the client would run it on the manager),
    and every file it names is an absolute host path that `host_path` (the local-file policy)
    accepts; relative ones would be read from the worker's directory, so they are refused."""
    if isinstance(content, str):
        import yaml
        try:
            content = yaml.safe_load(content)
        except yaml.YAMLError as error:
            raise UserError(f"{where}: malformed YAML: {error}") from None
    if not isinstance(content, dict):
        return  # the client reports a malformed kubeconfig itself
    for section, (inner, keys) in KUBECONFIG_FILES.items():
        for index, entry in enumerate(content.get(section) or []):
            body = entry.get(inner) if isinstance(entry, dict) else None
            if isinstance(body, dict):
                _check_kubeconfig_entry(body, f"{where}.{section}[{index}].{inner}", keys, host_path)


def _check_kubeconfig_entry(body: dict[str, Any], field: str, keys: tuple[str, ...],
                            host_path: Callable[[str, str], str]) -> None:
    for command in ("exec", "auth-provider"):
        if command in body and (command == "exec" or "cmd-path" in str(body[command])):
            raise UserError(f"{field}.{command}: a kubeconfig that runs a command is refused on a "
                            "manager (the command would run on the manager); use a token "
                            "(get_secret) or client certificates")
    for key in keys:
        value = body.get(key)
        if isinstance(value, str):
            if not value.startswith("/"):
                inline = "token" if key == "tokenFile" else f"{key}-data"
                raise UserError(f"{field}.{key}: {value!r} is relative (it would be read from "
                                f"the manager's working directory): use {inline}")
            host_path(value, f"{field}.{key}")


def warn_if_insecure(settings: Settings, logger: logging.Logger) -> None:
    if isinstance(settings, ApiSettings) and not settings.verify_tls:
        logger.warning("TLS verification is OFF for %s: the API server's identity is not checked",
                       settings.endpoint)
    if isinstance(settings, SshSettings) and not settings.check_host_key:
        logger.warning("SSH host key checking is OFF for %s: the master's identity is not checked",
                       settings.endpoint)
