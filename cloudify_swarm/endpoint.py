"""Parsing a Swarm manager endpoint from user input and opening a Docker client for it.

Service layer: plain Python, no ctx. TLS verification stays on unless the user turns it off,
and then a warning is logged.

TLS material comes as files (`ca_cert`, `client_cert`, `client_key`: paths) or inline as PEM
text (`ca_cert_pem`, `client_cert_pem`, `client_key_pem`, meant for get_secret), one of the two
per item. Inline text is registered for redaction as soon as it is parsed and never leaves the
Manager node's properties: `Endpoint.public()` (what runtime properties and logs carry) names
which inline fields are set (`tls.inline`), never their values, and an endpoint parsed back from
that form (`parse_published`) has to get them from the Manager's properties again
(`with_material`) before a client can use it.

What a blueprint may reach (issue 24, `reach`): every docker_host is checked, where it is used
(the Manager's properties at its create, the published endpoint at every operation that opens a
client, day 2 included), against the administrator's CLOUDIFY_VNF_ALLOWED_DOCKER_HOSTS
(cloudify_shared.reach: on a manager, unset allows nothing; in the local profile everything),
before any client is opened or anything is made. docker-py is then given the endpoint rebuilt
from what was checked (`unix:///path`, `tcp://host:port`, `ssh://user@host:port`), never the
text as written, so that no reading of it by docker-py (a `unix://host/path`, a query, a
password) can reach another place than the one allowed.

`ssh://` on a manager: docker-py's ssh transport authenticates with the mgmtworker's own
identity (its key files, its agent, its ~/.ssh/config and known_hosts), and a blueprint has no
way to give a key. So on a manager an ssh:// Docker host is refused unless an entry of the
setting names exactly that endpoint (`ssh://host` or `ssh://host:port`, not a wildcard, a
network or an entry without a scheme): then lending the worker's SSH identity to that one host is
the administrator's deliberate choice, and every operation says so in a warning. How the
transport is opened there (never the shell ssh client) is in docker_engine.py.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cloudify_shared.errors import UserError
from cloudify_shared.limits import duration
from cloudify_shared.reach import DOCKER, ReachPolicy, Target
from cloudify_shared.redaction import register_secret
from cloudify_shared.validation import Field, parse_mapping

SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://")
# each TLS file field and the field that gives the same material inline (PEM text)
PEM_FIELDS = {"ca_cert": "ca_cert_pem", "client_cert": "client_cert_pem",
              "client_key": "client_key_pem"}
FILE_FIELD_OF = {inline: path for path, inline in PEM_FIELDS.items()}
PEM_MARKER = "-----BEGIN "

FILE_TLS_FIELDS = {
    "verify": Field((bool,), default=True),
    "ca_cert": Field((str,)),
    "client_cert": Field((str,)),
    "client_key": Field((str,)),
}
TLS_FIELDS = {**FILE_TLS_FIELDS, **{inline: Field((str,)) for inline in PEM_FIELDS.values()}}
# the published form (Endpoint.public()): the names of the inline fields set, no values
PUBLISHED_TLS_FIELDS = {**FILE_TLS_FIELDS, "inline": Field((list,), default=[])}


def _check_host(value: str, path: str) -> str:
    if not value.startswith(SCHEMES):
        raise UserError(f"{path}: {value!r} must start with one of {', '.join(SCHEMES)}")
    return value


ENDPOINT_FIELDS = {
    "docker_host": Field((str,), default="unix:///var/run/docker.sock", check=_check_host),
    "tls": Field((dict,), default={}),
    "timeout": Field((int,), default=60, check=duration),
}


@dataclass(frozen=True)
class TlsSettings:
    verify: bool = True
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    # inline PEM text (never shown: repr=False keeps it out of any repr or log of the settings)
    ca_cert_pem: str | None = field(default=None, repr=False)
    client_cert_pem: str | None = field(default=None, repr=False)
    client_key_pem: str | None = field(default=None, repr=False)
    # the inline fields set where the endpoint was given (the Manager's properties)
    inline: tuple[str, ...] = ()

    def missing_material(self) -> list[str]:
        """Inline fields named as set whose text this object does not hold (the published
        form), nor a file it was written to (checked_endpoint)."""
        return [name for name in self.inline
                if getattr(self, name) is None and getattr(self, FILE_FIELD_OF[name]) is None]

    def pem_items(self) -> list[tuple[str, str, str]]:
        """(file field, inline field, PEM text) for every item given inline."""
        return [(path, inline, text) for path, inline in PEM_FIELDS.items()
                if (text := getattr(self, inline)) is not None]


@dataclass(frozen=True)
class Endpoint:
    docker_host: str
    tls: TlsSettings
    timeout: int

    def public(self) -> dict[str, Any]:
        """What may be shown in runtime properties and logs (file paths and the names of the
        inline fields set, never key material)."""
        tls: dict[str, Any] = {"verify": self.tls.verify, "ca_cert": self.tls.ca_cert,
                               "client_cert": self.tls.client_cert,
                               "client_key": self.tls.client_key}
        if self.tls.inline:
            tls["inline"] = list(self.tls.inline)
        return {"docker_host": self.docker_host, "tls": tls, "timeout": self.timeout}


def register_inline_material(data: Any) -> None:
    """Register every inline PEM of raw endpoint input for redaction (before it is checked,
    so that no error message can show it)."""
    tls = data.get("tls") if isinstance(data, Mapping) else None
    if isinstance(tls, Mapping):
        for inline in PEM_FIELDS.values():
            register_secret(tls.get(inline) if isinstance(tls.get(inline), str) else None)


def _check_pem(values: dict[str, Any], path: str) -> None:
    for file_field, inline in PEM_FIELDS.items():
        text = values[inline]
        if text is None:
            continue
        if values[file_field] is not None:
            raise UserError(f"{path}.{inline}: not together with {path}.{file_field} (give the "
                            "file or the PEM text, not both)")
        if PEM_MARKER not in text:
            raise UserError(f"{path}.{inline}: not PEM text (no '{PEM_MARKER}...' line); a path "
                            f"of a file goes in {path}.{file_field}")


def _check_client_pair(tls: TlsSettings, path: str) -> None:
    has_cert = bool(tls.client_cert or tls.client_cert_pem or "client_cert_pem" in tls.inline)
    has_key = bool(tls.client_key or tls.client_key_pem or "client_key_pem" in tls.inline)
    if has_cert and not has_key:
        raise UserError(f"{path}.tls.client_key: required when client_cert is set (or "
                        "client_key_pem with client_cert_pem)")


def parse_endpoint(data: Any, path: str) -> Endpoint:
    """The endpoint a user gave (a Manager's properties.endpoint)."""
    register_inline_material(data)
    values = parse_mapping(data, ENDPOINT_FIELDS, path)
    tls_values = parse_mapping(values["tls"], TLS_FIELDS, f"{path}.tls")
    _check_pem(tls_values, f"{path}.tls")
    inline = tuple(name for name in PEM_FIELDS.values() if tls_values[name] is not None)
    tls = TlsSettings(**tls_values, inline=inline)
    _check_client_pair(tls, path)
    return Endpoint(values["docker_host"], tls, values["timeout"])


def parse_published(data: Any, path: str) -> Endpoint:
    """An endpoint in the form Endpoint.public() gives (a runtime property); its inline
    material, if any, is named but absent (see with_material)."""
    values = parse_mapping(data, ENDPOINT_FIELDS, path)
    tls_values = parse_mapping(values["tls"], PUBLISHED_TLS_FIELDS, f"{path}.tls")
    inline = tls_values.pop("inline")
    known = set(PEM_FIELDS.values())
    if not all(isinstance(name, str) and name in known for name in inline):
        raise UserError(f"{path}.tls.inline: expected names among {', '.join(sorted(known))}")
    both = [name for name in inline if tls_values[FILE_FIELD_OF[name]] is not None]
    if both:
        raise UserError(f"{path}.tls.inline: {both[0]} is named inline, and "
                        f"{FILE_FIELD_OF[both[0]]} is set too")
    tls = TlsSettings(**tls_values, inline=tuple(inline))
    _check_client_pair(tls, path)
    return Endpoint(values["docker_host"], tls, values["timeout"])


def with_material(published: Endpoint, given: Endpoint, where: str) -> Endpoint:
    """`published` with the inline PEM text of `given` (the same endpoint parsed from the
    Manager's properties); a named item the properties no longer hold is a UserError."""
    gone = [name for name in published.tls.missing_material() if getattr(given.tls, name) is None]
    if gone:
        raise UserError(f"{where}: {', '.join(f'tls.{n}' for n in gone)} not set any more (the "
                        "endpoint was published with it); reinstall to use the current settings")
    material = {name: getattr(given.tls, name) for name in published.tls.missing_material()}
    return dataclasses.replace(published, tls=dataclasses.replace(published.tls, **material))


def warn_if_insecure(endpoint: Endpoint, logger: logging.Logger) -> None:
    if endpoint.docker_host.startswith("tcp://") and not endpoint.tls.verify:
        logger.warning("TLS verification is OFF for %s: the manager's identity is not checked",
                       endpoint.docker_host)


# ----------------------------------------------------------------------------- reach (issue 24)

def reach(endpoint: Endpoint, policy: ReachPolicy, where: str) -> Endpoint:
    """`endpoint` with its docker_host rebuilt from what `policy` checked (what docker-py is
    given), when the policy allows it; else a UserError naming `where`.docker_host, the value
    and the setting. Nothing is opened here."""
    field_path = f"{where}.docker_host"
    value = endpoint.docker_host
    if value.startswith("npipe://") and not policy.on_manager:
        return endpoint  # a Windows pipe (docker-py refuses it on Linux): nothing to reach here
    target = policy.check(DOCKER, value, field_path)
    parts = urlsplit(value.strip())
    if parts.query or parts.fragment or parts.password:
        raise UserError(f"{field_path}: {value!r}: a Docker host takes no query, fragment or "
                        "password")
    if target.scheme == "unix" and parts.netloc:
        raise UserError(f"{field_path}: {value!r}: a Unix socket is written unix:///absolute/path")
    if target.scheme == "ssh" and policy.on_manager:
        _check_ssh_exactly_allowed(policy, target, field_path, value)
    return dataclasses.replace(endpoint, docker_host=_rebuilt(target, parts.username, parts.path))


def _rebuilt(target: Target, user: str | None, path: str) -> str:
    if target.scheme == "unix":
        return target.describe()
    if target.scheme == "ssh":
        return target.describe().replace("ssh://", f"ssh://{user}@" if user else "ssh://", 1)
    return target.describe() + path.rstrip("/")


def ssh_entry(policy: ReachPolicy, target: Target) -> str | None:
    """The entry that names exactly this ssh:// endpoint (scheme ssh, the same host, the same
    port or none), if one does."""
    for entry in policy.entries.get(DOCKER.setting, ()):
        if (entry.scheme == "ssh" and not entry.path and entry.host == target.host
                and entry.port in (None, target.port)):
            return entry.text
    return None


def _check_ssh_exactly_allowed(policy: ReachPolicy, target: Target, field_path: str,
                               value: str) -> None:
    if ssh_entry(policy, target) is None:
        raise UserError(
            f"{field_path}: {value!r} is an ssh:// Docker host, reached with the mgmtworker's own "
            "SSH identity (its keys, agent and ssh configuration; a blueprint cannot give a key). "
            f"On a manager only an entry of {DOCKER.setting} that names exactly this endpoint "
            f"(ssh://{target.host}:{target.port}), the administrator's deliberate choice to lend "
            "that identity to this host, allows it; a wildcard, a network or an entry without "
            "ssh:// does not")


def ssh_identity_warning(endpoint: Endpoint, policy: ReachPolicy) -> str | None:
    """What an operation warns on a manager before it reaches an ssh:// endpoint (None for
    any other endpoint, and offline)."""
    if not (policy.on_manager and endpoint.docker_host.startswith("ssh://")):
        return None
    target = policy.check(DOCKER, endpoint.docker_host, "docker_host")
    return (f"{endpoint.docker_host} is reached with the mgmtworker's own SSH identity, as the "
            f"administrator allowed by the entry {ssh_entry(policy, target)!r} of {DOCKER.setting}")
