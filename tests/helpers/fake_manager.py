"""A small stand-in for a Cloudify 7 manager's REST API (v3.1), for the deployment proxy's
manager-mode tests: no manager can be installed on this machine.

It serves, over HTTP or HTTPS on 127.0.0.1 only, the three endpoints the proxy calls, with the
response shapes the REST service returns (cloudify-manager rest-service and the REST docs):
  GET /api/v3.1/deployments/<id>          a Deployment resource (honours `_include`)
  GET /api/v3.1/deployments/<id>/outputs  {"deployment_id": ..., "outputs": {...}}
  GET /api/v3.1/executions                {"items": [...], "metadata": {"pagination": {...}}}
                                          filtered by deployment_id / workflow_id / status,
                                          `_include`, `_sort` (-field for descending),
                                          `_size`, `_offset`
Errors come back as {"message", "error_code", "server_traceback"} with the status codes the
REST service uses: 401 unauthorized_error (no or wrong `Authentication-Token` / basic auth),
403 forbidden_error (unknown `Tenant`), 404 not_found_error. Tests script it: deployments and
executions they change while a proxy waits, and injected failures (`fail_next`).
"""
from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

API = "/api/v3.1"
STATUS_DISPLAY = {"terminated": "completed"}


def timestamp() -> str:
    """Cloudify 7 renders times as ISO 8601 UTC with milliseconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 0


@dataclass
class FakeManager:
    token: str = "fake-manager-token-0123456789"
    tenant: str = "default_tenant"
    basic_auth: tuple[str, str] | None = None
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    executions: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    failures: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- scripting -----------------------------------------------------------------------
    def add_deployment(self, deployment_id: str, outputs: dict[str, Any]) -> None:
        now = timestamp()
        with self.lock:
            self.deployments[deployment_id] = {
                "id": deployment_id, "blueprint_id": deployment_id, "display_name": deployment_id,
                "created_at": now, "updated_at": now, "created_by": "admin",
                "tenant_name": self.tenant, "visibility": "tenant", "private_resource": False,
                "resource_availability": "tenant", "description": None, "inputs": {},
                "outputs": {name: {"value": None} for name in outputs}, "capabilities": {},
                "workflows": [{"name": "install"}, {"name": "uninstall"}], "labels": [],
                "installation_status": "inactive", "deployment_status": "in_progress",
                "latest_execution_status": None, "site_name": None,
            }
            self.outputs[deployment_id] = dict(outputs)

    def start_execution(self, deployment_id: str, workflow: str = "install",
                        status: str = "started") -> str:
        now = timestamp()
        execution: dict[str, Any] = {
            "id": str(uuid.uuid4()), "workflow_id": workflow, "deployment_id": deployment_id,
            "blueprint_id": deployment_id, "status": status,
            "status_display": STATUS_DISPLAY.get(status, status), "error": "",
            "created_at": now, "started_at": now, "ended_at": None, "parameters": {},
            "is_system_workflow": False, "is_dry_run": False, "created_by": "admin",
            "tenant_name": self.tenant, "visibility": "tenant", "private_resource": False,
            "resource_availability": "tenant", "scheduled_for": None,
            "total_operations": 4, "finished_operations": 0, "execution_group_id": None,
        }
        with self.lock:
            self.executions.append(execution)
        return str(execution["id"])

    def end_execution(self, execution_id: str, status: str = "terminated",
                      error: str = "") -> str:
        """Mark an execution ended; returns its ended_at."""
        ended = timestamp()
        with self.lock:
            for execution in self.executions:
                if execution["id"] == execution_id:
                    execution.update(status=status, error=error, ended_at=ended,
                                     status_display=STATUS_DISPLAY.get(status, status))
                    deployment = self.deployments.get(execution["deployment_id"])
                    if deployment and status == "terminated":
                        deployment["installation_status"] = "active"
                        deployment["deployment_status"] = "good"
        return ended

    def fail_next(self, path_part: str, status: int, times: int = 1) -> None:
        """The next `times` requests whose path contains `path_part` answer `status`."""
        with self.lock:
            self.failures += [(path_part, status)] * times

    def served(self, path_part: str = "") -> list[Request]:
        with self.lock:
            return [r for r in self.requests if path_part in r.path]

    # --- serving -------------------------------------------------------------------------
    def authorized(self, headers: dict[str, str]) -> bool:
        if headers.get("Authentication-Token") == self.token:
            return True
        if self.basic_auth and headers.get("Authorization", "").startswith("Basic "):
            decoded = base64.b64decode(headers["Authorization"][6:]).decode()
            return tuple(decoded.split(":", 1)) == self.basic_auth
        return False

    def injected_failure(self, path: str) -> int | None:
        with self.lock:
            for index, (part, status) in enumerate(self.failures):
                if part in path:
                    del self.failures[index]
                    return status
        return None

    def respond(self, request: Request) -> tuple[int, Any]:
        if not self.authorized(request.headers):
            return error(401, "unauthorized_error", "User unauthorized: No authentication "
                         "info provided")
        if request.headers.get("Tenant") != self.tenant:
            return error(403, "forbidden_error", f"User `admin` is not permitted to perform "
                         f"the action in the tenant `{request.headers.get('Tenant')}`")
        failure = self.injected_failure(request.path)
        if failure:
            return error(failure, "internal_server_error" if failure >= 500 else "error",
                         f"injected failure {failure}")
        return self.route(request)

    def route(self, request: Request) -> tuple[int, Any]:
        parts = request.path[len(API):].strip("/").split("/")
        with self.lock:
            if parts[0] == "executions" and len(parts) == 1:
                return 200, self.list_executions(request.query)
            if parts[0] == "deployments" and len(parts) in (2, 3):
                deployment = self.deployments.get(parts[1])
                if deployment is None:
                    return error(404, "not_found_error",
                                 f"Requested `Deployment` with ID `{parts[1]}` was not found")
                if len(parts) == 2:
                    return 200, include(deployment, request.query)
                if parts[2] == "outputs":
                    return 200, {"deployment_id": parts[1], "outputs": self.outputs[parts[1]]}
        return error(404, "not_found_error", f"no such endpoint: {request.path}")

    def list_executions(self, query: dict[str, list[str]]) -> dict[str, Any]:
        items = [e for e in self.executions
                 if all(str(e.get(key)) == values[0] for key, values in query.items()
                        if key in ("deployment_id", "workflow_id", "status", "id"))]
        sort = query.get("_sort", [""])[0]
        if sort:
            items.sort(key=lambda e: str(e.get(sort.lstrip("-"))), reverse=sort.startswith("-"))
        offset = int(query.get("_offset", ["0"])[0])
        size = int(query.get("_size", ["1000"])[0])
        page = [include(e, query) for e in items[offset:offset + size]]
        return {"items": page, "metadata": {
            "pagination": {"total": len(items), "size": size, "offset": offset},
            "filtered": None}}


def error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"message": message, "error_code": code, "server_traceback": None}


def include(resource: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
    fields = query.get("_include", [""])[0]
    if not fields:
        return dict(resource)
    return {key: resource.get(key) for key in fields.split(",")}


def handler_for(manager: FakeManager) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nginx"
        sys_version = ""

        def do_GET(self) -> None:
            url = urlparse(self.path)
            request = Request("GET", url.path, parse_qs(url.query), dict(self.headers.items()))
            if not url.path.startswith(API + "/"):
                status, body = error(404, "not_found_error", f"no such endpoint: {url.path}")
            else:
                status, body = manager.respond(request)
            request.status = status
            with manager.lock:
                manager.requests.append(request)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextmanager
def serving(manager: FakeManager, tls: tuple[Path, Path] | None = None,
            port: int = 0) -> Iterator[int]:
    """Serve `manager` on 127.0.0.1 (`port`, or a free one; yielded) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(manager))
    server.daemon_threads = True
    if tls is not None:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    """A port nothing listens on right now (for 'connection refused' tests)."""
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A fresh self-signed certificate for 127.0.0.1 / localhost (cert path, key path)."""
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-cloudify-manager")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "manager.crt", folder / "manager.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
