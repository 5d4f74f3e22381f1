"""Adapter for the Docker Engine API (docker-py). The only module of this plugin that imports
`docker`. It maps docker-py errors onto the suite's exceptions by status code and keeps the
cause; callers above it never see a docker-py exception.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import docker.tls
import requests.exceptions

from cloudify_shared.errors import NotFound, TransientError, UserError
from cloudify_swarm.endpoint import Endpoint

TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}


@contextlib.contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Translate docker-py and transport errors raised while doing `action`."""
    try:
        yield
    except docker.errors.NotFound as error:
        raise NotFound(f"{action}: {error.explanation or error}") from error
    except docker.errors.APIError as error:
        status = error.status_code or 0
        text = f"{action}: {error.explanation or error} (HTTP {status})"
        if status in TRANSIENT_STATUS or status == 0:
            raise TransientError(text) from error
        raise UserError(text) from error
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
        raise TransientError(f"{action}: cannot reach the Docker Engine: {error}") from error
    except docker.errors.TLSParameterError as error:
        raise UserError(f"{action}: bad TLS settings: {error}") from error
    except docker.errors.DockerException as error:
        # docker-py wraps transport failures seen while negotiating the API version here.
        raise TransientError(f"{action}: cannot reach the Docker Engine: {error}") from error


def open_client(endpoint: Endpoint) -> docker.DockerClient:
    """A client for the endpoint, API version negotiated with the server."""
    tls: Any = False
    if endpoint.docker_host.startswith("tcp://") and (endpoint.tls.ca_cert or endpoint.tls.client_cert
                                                     or not endpoint.tls.verify):
        client_cert = ((endpoint.tls.client_cert, endpoint.tls.client_key)
                       if endpoint.tls.client_cert else None)
        with engine_errors(f"TLS settings for {endpoint.docker_host}"):
            tls = docker.tls.TLSConfig(
                client_cert=client_cert,
                ca_cert=endpoint.tls.ca_cert,
                verify=endpoint.tls.ca_cert if endpoint.tls.verify and endpoint.tls.ca_cert
                else endpoint.tls.verify,
            )
    with engine_errors(f"connecting to {endpoint.docker_host}"):
        return docker.DockerClient(base_url=endpoint.docker_host, tls=tls,
                                   timeout=endpoint.timeout, version="auto",
                                   use_ssh_client=endpoint.docker_host.startswith("ssh://"))


def swarm_facts(client: docker.DockerClient) -> dict[str, Any]:
    """Swarm id, node and manager addresses; raises UserError when the engine is not in a swarm.

    Join tokens are part of the API's answer and are deliberately dropped here.
    """
    with engine_errors("reading swarm state"):
        info = client.info()
    swarm = info.get("Swarm") or {}
    if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
        raise UserError(
            f"the engine at {client.api.base_url} is not a swarm manager "
            f"(LocalNodeState={swarm.get('LocalNodeState')!r}, "
            f"ControlAvailable={swarm.get('ControlAvailable')!r})"
        )
    return {
        "swarm_id": (swarm.get("Cluster") or {}).get("ID"),
        "node_id": swarm.get("NodeID"),
        "managers": [m.get("Addr") for m in swarm.get("RemoteManagers") or []],
        "nodes": swarm.get("Nodes"),
        "engine_version": info.get("ServerVersion"),
    }
