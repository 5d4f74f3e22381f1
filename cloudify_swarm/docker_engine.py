"""Adapter for the Docker Engine API (docker-py). The only module of this plugin that imports
`docker`. It maps docker-py errors onto the suite's exceptions by status code and keeps the
cause; callers above it never see a docker-py exception.

The worker's own identity never travels (issue 24). The client (`EngineApiClient`) is given the
endpoint endpoint.reach checked, and nothing the worker's account holds besides:
- no ~/.docker/config.json (nor $DOCKER_CONFIG): docker-py would send its registry auths and
  credential helpers' answers as X-Registry-Auth with every service create and update, its
  HttpHeaders with every request, and inject its proxies into containers' environment. The
  plugin takes no registry credentials from a blueprint, so none are sent (an image from a
  private registry needs the Engine's own login). docker-py keeps that file in private
  attributes: how they are emptied is in one place below (`drop_ambient_config`, through
  cloudify_shared.internals, the suite's one door to docker-py's private attributes).
- no ~/.netrc: requests would add the worker's netrc password for the Engine's host as an
  Authorization header (`NoNetrc`).
- ssh:// endpoints: in the local profile (the user's own machine) the shell `ssh` client, with
  the user's own configuration, as before. On a manager never the shell client: docker-py's
  in-process paramiko transport (no process started for the connection; a host key that is
  not in known_hosts is refused). It still authenticates with the mgmtworker's identity (key
  files, agent, ~/.ssh/config), which is why endpoint.reach allows an ssh:// host on a manager
  only by an entry naming it exactly, and every operation warns that it uses that identity.
"""
from __future__ import annotations

import contextlib
import re
import ssl
import sys
from collections.abc import Iterator
from typing import Any

import requests.auth
import requests.exceptions

from cloudify_shared import internals
from cloudify_shared.errors import NotFound, TransientError, UserError
from cloudify_swarm.endpoint import Endpoint
from cloudify_swarm.engine_api import EngineRefused, object_name

SSH_TRANSPORT = "docker.transport.sshconn"


@contextlib.contextmanager
def without_ssh_transport() -> Iterator[None]:
    """docker-py imports its ssh transport, and with it paramiko and cryptography (0.3 s of
    CPU, most of `import docker`), whatever the endpoint. Every operation on a manager is a
    fresh process (issue 28), so the transport is left out while docker loads (docker-py 7.2.0
    tolerates its absence: docker/transport/__init__.py and docker/api/client.py import it
    under `except ImportError`) and loaded by ssh_transport() for an ssh:// endpoint only."""
    blocked = SSH_TRANSPORT not in sys.modules
    if blocked:
        sys.modules[SSH_TRANSPORT] = None  # type: ignore[assignment]  # makes its import fail
    try:
        yield
    finally:
        if blocked and sys.modules.get(SSH_TRANSPORT, 0) is None:
            del sys.modules[SSH_TRANSPORT]


with without_ssh_transport():
    import docker
    import docker.api.client
    import docker.auth
    import docker.constants
    import docker.errors
    import docker.tls
    import docker.transport
    import docker.utils
    from docker.utils.proxy import ProxyConfig


# statuses of an Engine (or a proxy before it) that cannot answer now: always worth a retry
OUTAGE_STATUS = {408, 425, 429, 502, 503, 504}
# A 500 is decided by what the Engine says: it passes swarmkit's gRPC answer on in the message
# ("rpc error: code = InvalidArgument desc = ..."), and swarmkit answers some of its own
# validation with code Unknown (HTTP 500: "constraint expected one operator from ==, !=").
REFUSAL_CODES = {"InvalidArgument", "FailedPrecondition", "AlreadyExists", "OutOfRange", "NotFound",
                 "PermissionDenied", "Unimplemented"}
OUTAGE_CODES = {"Unavailable", "DeadlineExceeded", "ResourceExhausted", "Aborted", "Canceled"}
_GRPC = re.compile(r"rpc error: code = (\w+) desc = (.*)", re.S)
# what a validation error says (and an outage never does), for a 500 with no telling gRPC code
_VALIDATION = re.compile(r"\binvalid\b|\bis not valid\b|\bexpected\b|\bmust\b|\bnot allowed\b|"
                         r"\bunsupported\b|\bcannot unmarshal\b|\bnot supported\b", re.I)


def refused_for_its_content(status: int, message: str) -> bool:
    """Whether the Engine refused the request for a value in it (a user error: retrying cannot
    help), rather than for its own state (an outage: retried). 4xx but 408/425/429: refused;
    502/503/504, 408/425/429 and no status: an outage; a 500: its gRPC code when it has a
    telling one, else whether the message only repeats a validation error."""
    if status == 0 or status in OUTAGE_STATUS:
        return False
    if status < 500:
        return True
    if status != 500:
        return False
    match = _GRPC.search(message)
    code, said = (match.group(1), match.group(2)) if match else ("", message)
    if code in REFUSAL_CODES or code in OUTAGE_CODES:
        return code in REFUSAL_CODES
    return bool(_VALIDATION.search(said))


@contextlib.contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Translate docker-py and transport errors raised while doing `action`."""
    try:
        yield
    except docker.errors.NotFound as error:
        raise NotFound(f"{action}: {error.explanation or error}") from error
    except docker.errors.APIError as error:
        status = error.status_code or 0
        said = str(error.explanation or error)
        text = f"{action}: {said} (HTTP {status})"
        if not refused_for_its_content(status, said):
            raise TransientError(text) from error
        raise EngineRefused(text, said) from error
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
        if tls_failure(error):
            raise UserError(f"{action}: {TLS_FAILED}: {error}") from error
        raise TransientError(f"{action}: cannot reach the Docker Engine: {error}") from error
    except docker.errors.TLSParameterError as error:
        raise UserError(f"{action}: bad TLS settings: {error}") from error
    except docker.errors.DockerException as error:
        # docker-py wraps transport failures seen while negotiating the API version here.
        if tls_failure(error):
            raise UserError(f"{action}: {TLS_FAILED}: {error}") from error
        raise TransientError(f"{action}: cannot reach the Docker Engine: {error}") from error


TLS_FAILED = ("the TLS handshake failed (the Engine's certificate is not signed by the CA of "
              "tls.ca_cert / ca_cert_pem, or it did not accept the client certificate)")


def check_tls_files(endpoint: Endpoint) -> None:
    """Load the CA and the client certificate with its key as the handshake will, so that a
    file that is not what its field says fails naming the field, not as a handshake failure."""
    tls = endpoint.tls
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        if tls.ca_cert:
            context.load_verify_locations(tls.ca_cert)
    except (ssl.SSLError, OSError) as error:
        raise UserError(f"tls.ca_cert / ca_cert_pem: not a CA certificate in PEM ({error})"
                        ) from None
    try:
        if tls.client_cert:
            context.load_cert_chain(tls.client_cert, tls.client_key)
    except (ssl.SSLError, OSError) as error:
        raise UserError("tls.client_cert / client_cert_pem and tls.client_key / client_key_pem: "
                        f"not a PEM certificate and its private key ({error})") from None


def tls_failure(error: BaseException) -> bool:
    """Whether a TLS handshake failure (by type: ssl.SSLError, but not SSLEOFError, a connection
    cut while talking, which may pass) is in the chain of causes: a settings problem that
    retrying does not cure. urllib3 keeps the cause of a MaxRetryError in `reason`."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) and not isinstance(current, ssl.SSLEOFError):
            return True
        linked = (current.__cause__, current.__context__, getattr(current, "reason", None),
                  *current.args)
        pending += [e for e in linked if isinstance(e, BaseException)]
    return False


def open_client(endpoint: Endpoint, on_manager: bool = False) -> docker.DockerClient:
    """A client for the endpoint (as endpoint.reach rebuilt it), API version negotiated with the
    server. Inline TLS material must have been written to files first (docker-py takes paths
    only). `on_manager`: an ssh:// endpoint goes through paramiko, never the shell client."""
    if endpoint.tls.pem_items() or endpoint.tls.missing_material():
        raise ValueError("inline TLS material reached open_client: write it to files first")
    tls: Any = False
    tls_asked = endpoint.tls.ca_cert or endpoint.tls.client_cert or not endpoint.tls.verify
    if endpoint.docker_host.startswith("tcp://") and tls_asked:
        check_tls_files(endpoint)
        client_cert = ((endpoint.tls.client_cert, endpoint.tls.client_key)
                       if endpoint.tls.client_cert else None)
        with engine_errors(f"TLS settings for {endpoint.docker_host}"):
            tls = docker.tls.TLSConfig(
                client_cert=client_cert,
                ca_cert=endpoint.tls.ca_cert,
                verify=endpoint.tls.ca_cert if endpoint.tls.verify and endpoint.tls.ca_cert
                else endpoint.tls.verify,
            )
    shell_ssh = endpoint.docker_host.startswith("ssh://") and not on_manager
    if endpoint.docker_host.startswith("ssh://"):
        ssh_transport()
    with engine_errors(f"connecting to {endpoint.docker_host}"):
        api = EngineApiClient(base_url=endpoint.docker_host, tls=tls, timeout=endpoint.timeout,
                              version="auto", use_ssh_client=shell_ssh)
        client: docker.DockerClient = internals.client_around(docker.DockerClient, api)
        return client


def ssh_transport() -> None:
    """docker-py's ssh transport, which without_ssh_transport() left out, put where docker-py
    7.2.0 looks for it (the names its modules bind under `except ImportError`). Without
    paramiko it stays absent and docker-py says so itself ('Install paramiko package')."""
    if hasattr(docker.api.client, "SSHHTTPAdapter"):
        return
    try:
        from docker.transport.sshconn import SSHHTTPAdapter  # here: paramiko, for ssh:// only
    except ImportError:
        return
    for module in (docker.transport, docker.api.client):
        module.SSHHTTPAdapter = SSHHTTPAdapter


class NoNetrc(requests.auth.AuthBase):
    """A session-wide auth that adds nothing: with it set, requests never looks the Engine's
    host up in the worker's ~/.netrc (Session.prepare_request reads netrc only without one)."""

    def __call__(self, request: Any) -> Any:
        return request


class EngineApiClient(docker.APIClient):  # type: ignore[misc]  # (docker-py ships no types)
    """docker-py's API client (a requests Session) without the worker's ambient settings:
    its Docker config file dropped before the first request (drop_ambient_config), no netrc,
    and the CA it was given kept: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the
    environment replace a session's `verify` (psf/requests#3829), so tls.ca_cert would be
    ignored wherever they are set. A request's own verify is still honoured; without a CA
    file the session's True (system CAs, and so the environment's bundle) stays as it was."""

    def __init__(self, *, version: str | None = "auto", **kwargs: Any) -> None:
        # a fixed version: docker-py's __init__ sends no request (the "auto" probe would carry
        # the config file's HttpHeaders); the version is negotiated below, once dropped
        super().__init__(version=docker.constants.DEFAULT_DOCKER_API_VERSION, **kwargs)
        self.auth = NoNetrc()
        drop_ambient_config(self)
        if version is None or version == "auto":
            negotiate_version(self)
        else:
            set_version(self, version)

    def merge_environment_settings(self, url: str, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> Any:
        return super().merge_environment_settings(url, proxies, stream,
                                                  self.verify if verify is None else verify, cert)


# ----------------------------------------------------------------------------- docker-py internals
# docker-py's private attributes are reached through cloudify_shared.internals only (written
# against docker-py 7.2.0, what breaks if they change is said there): APIClient.__init__ loads
# the worker's Docker config file into three of them, dropped here, and keeps the API version in
# a fourth. tests/unit/shared/test_internals.py pins each one on docker-py's own clients and
# tests/unit/swarm/test_engine_client.py shows the client sending nothing of the worker's.
class NoAmbientAuth(docker.auth.AuthConfig):  # type: ignore[misc]  # (docker-py ships no types)
    """Registry credentials: none (the plugin takes none from a blueprint, and the worker's own
    never travel). Never empty, so docker-py does not load the config file in its place."""

    @property
    def is_empty(self) -> bool:
        return False

    def resolve_authconfig(self, registry: Any = None) -> None:
        return None

    def get_all_credentials(self) -> dict[str, Any]:
        return {}


def drop_ambient_config(api: docker.APIClient) -> None:
    """Forget what docker-py read from the worker's Docker config file."""
    internals.drop_ambient_config(api, NoAmbientAuth({}), ProxyConfig())


def set_version(api: docker.APIClient, version: str) -> None:
    if docker.utils.version_lt(version, docker.constants.MINIMUM_DOCKER_API_VERSION):
        minimum = docker.constants.MINIMUM_DOCKER_API_VERSION
        raise docker.errors.InvalidVersion(f"API versions below {minimum} "
                                           "are no longer supported by this library.")
    internals.set_api_version(api, version)


def negotiate_version(api: docker.APIClient) -> None:
    """The server's API version, as docker-py's version="auto" asks for it."""
    set_version(api, internals.server_api_version(api))


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


# Collections that share docker-py's create/list/get/remove shape, by the kind names used above.
COLLECTIONS = {"network": "networks", "secret": "secrets", "config": "configs", "volume": "volumes"}


def label_filters(labels: dict[str, str]) -> dict[str, Any]:
    return {"label": [f"{key}={value}" for key, value in labels.items()]}


class Engine:
    """The Engine API verbs the Swarm services need, in raw API payloads (dicts).

    Every call maps docker-py errors through `engine_errors`; NotFound means the object is gone.
    """

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client

    @classmethod
    def connect(cls, endpoint: Endpoint, on_manager: bool = False) -> Engine:
        return cls(open_client(endpoint, on_manager))

    def close(self) -> None:
        self.client.close()

    # -- services and tasks
    def find_services(self, labels: dict[str, str],
                      name: str | None = None) -> list[dict[str, Any]]:
        filters = label_filters(labels)
        if name:
            filters["name"] = name
        with engine_errors("listing services"):
            found = self.client.api.services(filters=filters)
        # the name filter matches prefixes: keep exact matches only
        return [s for s in found if not name or s["Spec"]["Name"] == name]

    def service_by_name(self, name: str) -> dict[str, Any] | None:
        with engine_errors(f"looking up service {name}"):
            found = self.client.api.services(filters={"name": name})
        return next((s for s in found if s["Spec"]["Name"] == name), None)

    def inspect_service(self, service_id: str) -> dict[str, Any]:
        with engine_errors(f"inspecting service {service_id}"):
            result: dict[str, Any] = self.client.api.inspect_service(service_id)
            return result

    def create_service(self, spec: dict[str, Any]) -> str:
        with engine_errors(f"creating service {spec['Name']}"):
            result = self.client.api.create_service(
                spec["TaskTemplate"], name=spec["Name"], labels=spec.get("Labels"),
                mode=spec.get("Mode"), update_config=spec.get("UpdateConfig"),
                rollback_config=spec.get("RollbackConfig"), endpoint_spec=spec.get("EndpointSpec"))
        return str(result["ID"])

    def update_service(self, service_id: str, version: int, spec: dict[str, Any]) -> None:
        with engine_errors(f"updating service {spec['Name']}"):
            self.client.api.update_service(
                service_id, version, task_template=spec["TaskTemplate"], name=spec["Name"],
                labels=spec.get("Labels"), mode=spec.get("Mode"),
                update_config=spec.get("UpdateConfig"), rollback_config=spec.get("RollbackConfig"),
                endpoint_spec=spec.get("EndpointSpec"), fetch_current_spec=False)

    def remove_service(self, service_id: str) -> None:
        with engine_errors(f"removing service {service_id}"):
            self.client.api.remove_service(service_id)

    def service_tasks(self, service_id: str) -> list[dict[str, Any]]:
        with engine_errors(f"listing tasks of service {service_id}"):
            tasks: list[dict[str, Any]] = self.client.api.tasks(filters={"service": service_id})
            return tasks

    def containers(self, labels: dict[str, str]) -> list[dict[str, Any]]:
        with engine_errors("listing containers"):
            found: list[dict[str, Any]] = self.client.api.containers(
                all=True, filters=label_filters(labels))
            return found

    def container_logs(self, container_id: str, tail: int) -> str:
        """The last `tail` lines a container wrote (stdout and stderr)."""
        with engine_errors(f"logs of container {container_id[:12]}"):
            data = self.client.api.logs(container_id, stdout=True, stderr=True, tail=tail)
        return bytes(data).decode("utf-8", errors="replace")

    def node_names(self) -> dict[str, str]:
        with engine_errors("listing swarm nodes"):
            nodes = self.client.api.nodes()
        return {n["ID"]: (n.get("Description") or {}).get("Hostname", n["ID"]) for n in nodes}

    # -- networks, secrets, configs, volumes (one generic path)
    def find_objects(self, kind: str, labels: dict[str, str] | None = None,
                     name: str | None = None) -> list[dict[str, Any]]:
        filters = label_filters(labels or {})
        if name:
            filters["name"] = name
        with engine_errors(f"listing {kind}s"):
            items = getattr(self.client, COLLECTIONS[kind]).list(filters=filters)
        return [i.attrs for i in items if not name or object_name(i.attrs) == name]

    def create_object(self, kind: str, name: str, labels: dict[str, str], **options: Any) -> str:
        with engine_errors(f"creating {kind} {name}"):
            collection = getattr(self.client, COLLECTIONS[kind])
            item = collection.create(name=name, labels=labels, **options)
        return str(item.id)

    def remove_object(self, kind: str, object_id: str) -> None:
        with engine_errors(f"removing {kind} {object_id}"):
            getattr(self.client, COLLECTIONS[kind]).get(object_id).remove()

