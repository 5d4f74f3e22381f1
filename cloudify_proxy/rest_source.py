"""Adapter: deployments on a Cloudify manager, through the REST API (cloudify_rest_client).

Calls: GET /deployments/<id> (exists?), GET /executions?deployment_id=<id> (install status;
every page of it),
GET /deployments/<id>/outputs, GET /deployments/<id>/capabilities (only for a proxy that copies
capabilities). Errors are mapped once, by status code: 401/403 -> UserError
(not retried), 404 -> NotFound, 429/5xx and connection failures -> TransientError.
The token and password are registered as secrets; the REST client's own logger gets the
masking filter too (it logs headers at DEBUG). No ctx here.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from cloudify_rest_client import CloudifyClient
from cloudify_rest_client.exceptions import CloudifyClientError

from cloudify_proxy.config import ManagerSettings
from cloudify_shared.errors import NotFound, TransientError, UserError
from cloudify_shared.redaction import install_filter, register_secret

T = TypeVar("T")
EXECUTION_FIELDS = ["id", "workflow_id", "status", "created_at", "ended_at", "error"]


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


def map_error(error: CloudifyClientError, what: str) -> Exception:
    status = getattr(error, "status_code", -1)
    if status in (401, 403):
        return UserError(f"{what}: the manager refused the credentials ({status}): {error}")
    if status == 404:
        return NotFound(f"{what}: not found ({error})")
    if status == 429 or status >= 500 or status == -1:
        return TransientError(f"{what}: the manager answered {status}: {error}")
    return UserError(f"{what}: the manager answered {status}: {error}")


def call(what: str, func: Callable[[], T]) -> T:
    try:
        return func()
    except CloudifyClientError as error:
        raise map_error(error, what) from error
    except requests.exceptions.SSLError as error:
        raise UserError(f"{what}: TLS failed (check manager.ca_cert): {error}") from error
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
        raise TransientError(f"{what}: {type(error).__name__}: {error}") from error


class RestSource:
    def __init__(self, client: CloudifyClient, where: str) -> None:
        self.client, self.where = client, where

    @classmethod
    def from_settings(cls, settings: ManagerSettings) -> RestSource:
        port = settings.port or (443 if settings.protocol == "https" else 80)
        where = f"manager {settings.protocol}://{settings.host}:{port} (tenant {settings.tenant})"
        return cls(open_client(settings), where)

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
