"""ClusterBackend through kubectl on a master reached over SSH (fabric/paramiko).

Manifests go over stdin (never a file left behind); every read uses `-o json`, so the same
readiness engine judges what comes back. Host keys are checked against known_hosts with
paramiko's RejectPolicy unless the user opts out (connection.warn_if_insecure logs that).
kubectl reports API failures as "Error from server (<StatusReason>)": the reason (the API's
machine-readable status field) decides the error class, never the free message text.
Adapter layer: no ctx.
"""
from __future__ import annotations

import io
import json
import os
import re
import shlex
from collections.abc import Mapping
from typing import Any

import fabric
import paramiko

from cloudify_kubernetes.backend import FIELD_MANAGER, ObjectRef, UnknownKind
from cloudify_kubernetes.connection import SshSettings
from cloudify_shared.errors import NotFound, TransientError, UserError
from cloudify_shared.redaction import register_secret

TRANSIENT_REASONS = {"InternalError", "ServiceUnavailable", "Timeout", "ServerTimeout",
                     "TooManyRequests"}
REASON = re.compile(r"Error from server \((\w+)\)")
COMMAND_TIMEOUT = 120


def map_kubectl_error(stderr: str, what: str) -> Exception:
    match = REASON.search(stderr)
    reason = match.group(1) if match else None
    text = f"{what}: kubectl failed: {stderr.strip()[-2000:]}"
    if reason == "NotFound":
        return NotFound(text)
    if reason in TRANSIENT_REASONS or (reason is None and "Unable to connect" in stderr):
        return TransientError(text)
    return UserError(text)


KEY_TYPES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


def key_arguments(settings: SshSettings) -> dict[str, Any]:
    """paramiko's arguments for the key: a file, or the key itself (private_key, registered
    for redaction: it may come from get_secret)."""
    if not settings.private_key:
        return {"key_filename": os.path.expanduser(settings.key_file)}
    register_secret(settings.private_key)
    return {"pkey": load_private_key(settings.private_key)}


def load_private_key(text: str) -> paramiko.PKey:
    for key_type in KEY_TYPES:
        try:
            return key_type.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise UserError("ssh.private_key: not an unencrypted Ed25519, ECDSA or RSA private key")


class KubectlSshBackend:
    def __init__(self, settings: SshSettings) -> None:
        self.settings = settings
        self._discovery: dict[str, dict[str, Any]] = {}
        self._session_worked = False
        self.conn = fabric.Connection(
            settings.host, user=settings.user, port=settings.port,
            connect_timeout=settings.connect_timeout,
            connect_kwargs={**key_arguments(settings), "look_for_keys": False, "allow_agent": False})
        client = self.conn.client
        if settings.check_host_key:
            try:
                client.load_host_keys(os.path.expanduser(settings.known_hosts))
            except OSError as error:
                raise UserError(f"ssh.known_hosts: cannot read {settings.known_hosts}: "
                                f"{error.strerror}") from None
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
        else:
            client.set_missing_host_key_policy(paramiko.WarningPolicy())

    def _run(self, args: list[str], what: str, stdin: str | None = None) -> str:
        base = [self.settings.kubectl] + (["--kubeconfig", self.settings.kubeconfig]
                                          if self.settings.kubeconfig else [])
        command = shlex.join(base + args)
        try:
            result = self.conn.run(command, hide=True, warn=True, timeout=COMMAND_TIMEOUT,
                                   in_stream=io.StringIO(stdin) if stdin is not None else False)
        except paramiko.BadHostKeyException as error:
            raise UserError(f"{what}: host key of {self.settings.host} does not match "
                            f"{self.settings.known_hosts}: {error}") from error
        except paramiko.AuthenticationException as error:
            raise UserError(f"{what}: SSH login as {self.settings.user} refused: {error}") from error
        except paramiko.SSHException as error:
            if not self._session_worked:  # setup failed (key format, negotiation): user's to fix
                raise UserError(f"{what}: SSH to {self.settings.host}:{self.settings.port} "
                                f"failed: {error}") from error
            self.conn.close()  # the session dropped: the next command opens a new one
            raise TransientError(f"{what}: SSH session to {self.settings.endpoint} "
                                 f"lost: {error}") from error
        except (OSError, EOFError) as error:
            self.conn.close()
            raise TransientError(f"{what}: cannot reach {self.settings.endpoint}: "
                                 f"{type(error).__name__}: {error}") from error
        if result.exited == -1:  # the channel closed without an exit status: the session died
            self.conn.close()
            raise TransientError(f"{what}: SSH session to {self.settings.endpoint} closed "
                                 "before kubectl finished")
        self._session_worked = True
        if result.exited != 0:
            raise map_kubectl_error(result.stderr, what)
        return str(result.stdout)

    def _json(self, args: list[str], what: str, stdin: str | None = None) -> Any:
        text = self._run(args + ["-o", "json"], what, stdin)
        return json.loads(text) if text.strip() else None

    def _resource(self, api_version: str, kind: str) -> dict[str, Any]:
        if api_version not in self._discovery:
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            try:
                listing = json.loads(self._run(["get", "--raw", path], f"discovering {api_version}"))
            except NotFound:
                listing = {"resources": []}
            self._discovery[api_version] = {r["kind"]: r for r in listing.get("resources", [])
                                            if "/" not in r["name"]}
        resource = self._discovery[api_version].get(kind)
        if resource is None:
            self._discovery.pop(api_version)  # a CRD may define it soon: look again next time
            raise UnknownKind(f"unknown kind: the cluster has no {kind} in {api_version}")
        return resource

    def _type(self, api_version: str, kind: str) -> str:
        name = self._resource(api_version, kind)["name"]
        group, _, version = api_version.rpartition("/")
        return f"{name}.{version}.{group}" if group else str(name)

    def _scope(self, namespace: str | None) -> list[str]:
        return ["-n", namespace] if namespace else []

    def namespaced(self, api_version: str, kind: str) -> bool:
        return bool(self._resource(api_version, kind)["namespaced"])

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        args = ["get", self._type(ref.api_version, ref.kind), ref.name, "--ignore-not-found"]
        try:
            result = self._json(args + self._scope(ref.namespace), f"reading {ref}")
        except NotFound:
            return None
        return result if isinstance(result, dict) else None

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        ref = ObjectRef.of(obj)
        self._resource(ref.api_version, ref.kind)
        result = self._json(["apply", "--field-manager", FIELD_MANAGER, "-f", "-"],
                            f"applying {ref}", stdin=json.dumps(dict(obj)))
        return dict(result or {})

    def replace(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        ref = ObjectRef.of(obj)
        self._resource(ref.api_version, ref.kind)
        result = self._json(["replace", "-f", "-"], f"replacing {ref}", stdin=json.dumps(dict(obj)))
        return dict(result or {})

    def delete(self, ref: ObjectRef) -> None:
        args = ["delete", self._type(ref.api_version, ref.kind), ref.name, "--ignore-not-found",
                "--cascade=foreground", "--wait=false"]
        try:
            self._run(args + self._scope(ref.namespace), f"deleting {ref}")
        except NotFound:
            pass

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
                     label_selector: str) -> list[dict[str, Any]]:
        scope = self._scope(namespace) or ["--all-namespaces"]
        result = self._json(["get", self._type(api_version, kind), "-l", label_selector, *scope],
                            f"listing {kind}")
        return list((result or {}).get("items") or [])

    def events(self, ref: ObjectRef) -> list[dict[str, Any]]:
        selector = f"involvedObject.name={ref.name},involvedObject.kind={ref.kind}"
        if ref.uid:  # not the events of an earlier object of the same name
            selector += f",involvedObject.uid={ref.uid}"
        result = self._json(["get", "events", "--field-selector", selector, *self._scope(ref.namespace)],
                            f"events of {ref}")
        return list((result or {}).get("items") or [])

    def logs(self, namespace: str, pod: str, container: str | None, tail: int) -> str:
        args = ["logs", pod, "-n", namespace, "--tail", str(tail)] + (["-c", container] if container else [])
        try:
            return self._run(args, f"logs of pod {namespace}/{pod}")
        except (NotFound, UserError):
            return ""

    def close(self) -> None:
        self.conn.close()
