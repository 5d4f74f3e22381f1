"""A chart of an OCI registry (`oci://HOST[:PORT]/PATH/NAME`, its version in chart_version) and
the credentials helm gets for it, as plain data: the reference checked, the registry config
helm reads (`--registry-config`, a private file of the operation: the Docker config format,
`auths` keyed by host:port). Credentials never reach a command line or a log line: they are
registered for redaction as they are parsed. Pure: no ctx, no I/O, no subprocess.
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cloudify_shared.errors import UserError
from cloudify_shared.redaction import register_secret

SCHEME = "oci://"
PATH = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}")
CREDENTIAL_KEYS = ("username", "password")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never the password, should one be printed
        return f"Credentials(username={self.username!r}, password=***)"


def is_oci(chart: str) -> bool:
    return chart.startswith(SCHEME)


def registry_of(reference: str, field: str) -> str:
    """HOST[:PORT] of an oci:// chart reference, checked: a host, a repository path of lower
    case names (the registry's rule), no tag or digest (the version is chart_version), no
    credentials, query or fragment."""
    parts = urlsplit(reference)
    if parts.scheme != "oci" or not parts.hostname:
        raise UserError(f"{field}: {reference!r} is not an oci:// chart reference "
                        "(oci://HOST[:PORT]/PATH/NAME)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UserError(f"{field}: an oci:// reference carries no credentials, query or fragment "
                        "(credentials: properties.registry_credentials)")
    path = parts.path.strip("/")
    if "@" in path or ":" in path:
        raise UserError(f"{field}: {reference!r}: no tag or digest in the reference; the "
                        "chart's version is properties.chart_version")
    if not PATH.fullmatch(path):
        raise UserError(f"{field}: {reference!r}: the repository path must be lower-case names "
                        "separated by '/' (oci://HOST[:PORT]/PATH/NAME)")
    try:
        port = parts.port
    except ValueError:
        raise UserError(f"{field}: {reference!r}: the port is not a number") from None
    return f"{parts.hostname}:{port}" if port else str(parts.hostname)


def check_version(version: str, field: str) -> str:
    if not VERSION.fullmatch(version):
        raise UserError(f"{field}: {version!r} is not a chart version (the exact version, as "
                        "pushed: letters, digits, '.', '-', '+', '_')")
    return version


def parse_credentials(data: Any, field: str) -> Credentials | None:
    """`{username, password}` (both strings, the password not empty), or None for `{}`.
    The password is registered for redaction first, before anything can print it."""
    if data is None or data == {}:
        return None
    if not isinstance(data, Mapping):
        raise UserError(f"{field}: expected a mapping {{username, password}}")
    register_secret(data.get("password") if isinstance(data.get("password"), str) else None)
    unknown = sorted(str(key) for key in data if key not in CREDENTIAL_KEYS)
    if unknown:
        raise UserError(f"{field}: unknown key(s) {', '.join(unknown)} (username, password)")
    for key in CREDENTIAL_KEYS:
        if not isinstance(data.get(key), str) or not data[key]:
            raise UserError(f"{field}.{key}: required, a non-empty string (get_secret works "
                            "here)")
    if ":" in data["username"]:
        raise UserError(f"{field}.username: may not contain ':'")
    return Credentials(data["username"], data["password"])


def registry_config(registry: str, credentials: Credentials | None) -> bytes:
    """The registry config helm reads: the credentials for `registry` only, or none (then
    helm asks anonymously and reads no other credential store)."""
    auths: dict[str, Any] = {}
    if credentials is not None:
        token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode())
        register_secret(token.decode())
        auths[registry] = {"auth": token.decode()}
    return json.dumps({"auths": auths}).encode()
