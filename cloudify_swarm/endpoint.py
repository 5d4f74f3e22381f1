"""Parsing a Swarm manager endpoint from user input and opening a Docker client for it.

Service layer: plain Python, no ctx. TLS verification stays on unless the user turns it off,
and then a warning is logged.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.validation import Field, parse_mapping

SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://")

TLS_FIELDS = {
    "verify": Field((bool,), default=True),
    "ca_cert": Field((str,)),
    "client_cert": Field((str,)),
    "client_key": Field((str,)),
}


def _check_host(value: str, path: str) -> str:
    if not value.startswith(SCHEMES):
        raise UserError(f"{path}: {value!r} must start with one of {', '.join(SCHEMES)}")
    return value


ENDPOINT_FIELDS = {
    "docker_host": Field((str,), default="unix:///var/run/docker.sock", check=_check_host),
    "tls": Field((dict,), default={}),
    "timeout": Field((int,), default=60),
}


@dataclass(frozen=True)
class TlsSettings:
    verify: bool = True
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None


@dataclass(frozen=True)
class Endpoint:
    docker_host: str
    tls: TlsSettings
    timeout: int

    def public(self) -> dict[str, Any]:
        """What may be shown in runtime properties and logs (file paths, never key material)."""
        return {
            "docker_host": self.docker_host,
            "tls": {"verify": self.tls.verify, "ca_cert": self.tls.ca_cert,
                    "client_cert": self.tls.client_cert, "client_key": self.tls.client_key},
            "timeout": self.timeout,
        }


def parse_endpoint(data: Any, path: str) -> Endpoint:
    values = parse_mapping(data, ENDPOINT_FIELDS, path)
    tls = TlsSettings(**parse_mapping(values["tls"], TLS_FIELDS, f"{path}.tls"))
    if tls.client_cert and not tls.client_key:
        raise UserError(f"{path}.tls.client_key: required when client_cert is set")
    return Endpoint(values["docker_host"], tls, values["timeout"])


def warn_if_insecure(endpoint: Endpoint, logger: logging.Logger) -> None:
    if endpoint.docker_host.startswith("tcp://") and not endpoint.tls.verify:
        logger.warning("TLS verification is OFF for %s: the manager's identity is not checked",
                       endpoint.docker_host)
