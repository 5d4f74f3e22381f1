"""Adapter: deployments on a Cloudify manager, through the REST API (cloudify_rest_client).

Calls: GET /deployments/<id> (exists?), GET /executions?deployment_id=<id> (install status;
every page of it),
GET /deployments/<id>/outputs, GET /deployments/<id>/capabilities (only for a proxy that copies
capabilities). Errors are mapped once, by status code: 401/403 -> UserError
(not retried), 404 -> NotFound, 429/5xx and connection failures -> TransientError. What the
server said goes into the message only when it answered as Cloudify's REST service does (a JSON
error with an error_code), one line of at most 300 characters; any other body (an HTML page, a
service that is not a Cloudify manager) is never shown, and a 404 or a 200 that is not a
Cloudify answer is a UserError, not "no such deployment".
Before a client is made, the URL it will call is checked against the administrator's
allowlist of managers (cloudify_shared.reach; on a manager only).
The token and password are registered as secrets; the REST client's own logger gets the
masking filter too (it logs headers at DEBUG). No ctx here.
"""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

import requests
from cloudify_rest_client import CloudifyClient
from cloudify_rest_client.exceptions import CloudifyClientError

from cloudify_proxy.config import ManagerSettings
from cloudify_shared.errors import NotFound, TransientError, UserError, described
from cloudify_shared.reach import MANAGER, ReachPolicy
from cloudify_shared.redaction import install_filter, register_secret

T = TypeVar("T")
EXECUTION_FIELDS = ["id", "workflow_id", "status", "created_at", "ended_at", "error"]
MAX_SERVER_MESSAGE = 300
NOT_CLOUDIFY = "an answer that is not a Cloudify REST answer (not shown)"


def plain_host(host: str) -> bool:
    """Whether `host` is an IP address or a DNS name (labels of letters, digits and '-'):
    nothing a URL parser could read as user info, a path, a query or another port."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return len(host) <= 253 and all(
        0 < len(label) <= 63 and label.isascii() and label.replace("-", "").isalnum()
        and not label.startswith("-") and not label.endswith("-") for label in labels)


def check_reach(settings: ManagerSettings, policy: ReachPolicy,
                field: str = "properties.manager.host") -> None:
    """On a manager: the URL the REST client will call (`ManagerSettings.base_url`) must be one
    the administrator allows (CLOUDIFY_VNF_ALLOWED_MANAGERS), and plain http only through an
    entry that names http:// itself (an entry without a scheme allows https, never http).
    In the local profile nothing is checked. A UserError names the field, the URL and the
    setting."""
    if not policy.on_manager:
        return
    url = settings.base_url()
    if not plain_host(settings.host):
        raise UserError(f"{field}: {settings.host!r} is not a host name or an IP address")
    if policy.check(MANAGER, url, field).scheme != "http":
        return
    entries = policy.entries.get(MANAGER.setting, ())
    named_http = tuple(entry for entry in entries if entry.scheme == "http")
    try:
        replace(policy, entries={**policy.entries, MANAGER.setting: named_http}).check(
            MANAGER, url, field)
    except UserError:
        allowed = " ".join(entry.text for entry in entries) or "none"
        raise UserError(f"{field}: {url!r} is plain http (credentials and outputs would cross "
                        f"the network unencrypted): on a manager, a Cloudify manager is reached "
                        f"over http only through an entry of {MANAGER.setting} in the "
                        f"mgmtworker's environment that names it with http:// (allowed now: "
                        f"{allowed})") from None


def open_client(settings: ManagerSettings) -> CloudifyClient:
    register_secret(settings.token)
    register_secret(settings.password)
    install_filter(logging.getLogger("cloudify.rest_client.http"))
    return CloudifyClient(
        host=settings.host, port=settings.port, protocol=settings.protocol,
        username=settings.username, password=settings.password, token=settings.token,
        tenant=settings.tenant, cert=settings.ca_cert, trust_all=not settings.verify,
        timeout=(settings.request_timeout, settings.request_timeout),
    )


def one_line(text: str, limit: int = MAX_SERVER_MESSAGE) -> str:
    """`text` on one line, printable characters only, cut to `limit` characters."""
    flat = "".join(ch for ch in " ".join(text.split()) if ch.isprintable())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def is_cloudify_answer(error: CloudifyClientError) -> bool:
    """Whether the error came from a JSON error body as the REST service writes it
    ({"message", "error_code", ...}): cloudify_rest_client sets error_code only then."""
    message = error.args[0] if error.args else None
    return isinstance(error.error_code, str) and isinstance(message, str)


def server_said(error: CloudifyClientError) -> str:
    """What the server said, fit for an event: a Cloudify error's code and message (bounded),
    else that it was something else; never a raw body."""
    if is_cloudify_answer(error):
        return one_line(f"{error.error_code}: {error.args[0]}")
    if getattr(error, "status_code", -1) == -1:  # raised by the client itself, not answered
        return one_line(str(error))
    return NOT_CLOUDIFY


def map_error(error: CloudifyClientError, what: str) -> Exception:
    status = getattr(error, "status_code", -1)
    said = server_said(error)
    if status in (401, 403):
        return UserError(f"{what}: the manager refused the credentials ({status}): {said}")
    if status == 404 and is_cloudify_answer(error):
        return NotFound(f"{what}: not found ({said})")
    if status == 404:
        return UserError(f"{what}: 404 with {said}: is this a Cloudify manager's REST API?")
    if status == 429 or status >= 500 or status == -1:
        return TransientError(f"{what}: the manager answered {status}: {said}")
    return UserError(f"{what}: the manager answered {status}: {said}")


def call(what: str, func: Callable[[], T]) -> T:
    try:
        return func()
    except CloudifyClientError as error:
        raise map_error(error, what) from error
    except requests.exceptions.JSONDecodeError as error:  # a 2xx whose body is not JSON
        raise UserError(f"{what}: {NOT_CLOUDIFY}: "
                        "is this a Cloudify manager's REST API?") from error
    except requests.exceptions.SSLError as error:
        raise UserError(f"{what}: TLS failed (check manager.ca_cert): {error}") from error
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
        raise TransientError(f"{what}: {described(error)}") from error


class RestSource:
    def __init__(self, client: CloudifyClient, where: str) -> None:
        self.client, self.where = client, where

    @classmethod
    def from_settings(cls, settings: ManagerSettings, policy: ReachPolicy) -> RestSource:
        """A source reading the manager `settings` name, once `policy` allows its URL."""
        check_reach(settings, policy)
        return cls(open_client(settings),
                   f"manager {settings.base_url()} (tenant {settings.tenant})")

    def describe(self) -> str:
        return self.where

    def executions(self, deployment_id: str) -> list[Mapping[str, Any]] | None:
        try:
            call(f"reading deployment '{deployment_id}' on {self.where}",
                 lambda: self.client.deployments.get(deployment_id, _include=["id"]))
        except NotFound:
            return None
        return self.all_executions(deployment_id)

    def all_executions(self, deployment_id: str) -> list[Mapping[str, Any]]:
        """Every execution, oldest first, following the pages the manager cuts the list into
        (its default_page_size, 1000 unless the administrator changed it)."""
        found: list[Mapping[str, Any]] = []
        while True:
            offset = len(found)
            page = call(f"listing executions of deployment '{deployment_id}' on {self.where}",
                        lambda offset=offset: self.client.executions.list(  # type: ignore[misc]
                            deployment_id=deployment_id, _include=EXECUTION_FIELDS,
                            sort="created_at", _offset=offset))
            found += [dict(e) for e in page]
            total = int(page.metadata.get("pagination", {}).get("total", len(found)))
            if not page or len(found) >= total:
                return found

    def outputs(self, deployment_id: str) -> dict[str, Any]:
        response = call(f"reading outputs of deployment '{deployment_id}' on {self.where}",
                        lambda: self.client.deployments.outputs.get(deployment_id))
        return dict(response.get("outputs") or {})

    def capabilities(self, deployment_id: str) -> dict[str, Any]:
        response = call(f"reading capabilities of deployment '{deployment_id}' on {self.where}",
                        lambda: self.client.deployments.capabilities.get(deployment_id))
        return dict(response.get("capabilities") or {})
