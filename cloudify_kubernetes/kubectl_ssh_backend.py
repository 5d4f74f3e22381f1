"""ClusterBackend through kubectl on a master reached over SSH (fabric/paramiko).

Manifests go over stdin (never a file left behind); every read uses `-o json`, so the same
readiness engine judges what comes back. Host keys are checked against known_hosts with
paramiko's RejectPolicy unless the user opts out (connection.warn_if_insecure logs that).
kubectl reports API failures as "Error from server (<StatusReason>)": the reason (the API's
machine-readable status field) decides the error class, never the free message text.

The command line (issue 24): fabric sends one command string that the master's shell splits,
so it is `shlex.join` of an argument list (every argument quoted), never text built from a
blueprint's values. Every option takes its value in the same argument (`--namespace=NS`), and
positional arguments (resource type, object name) follow `--`, so a value can never be read as
an option; names, namespaces and apiVersions are checked (naming.check_name) before they reach
kubectl. A delete is `kubectl delete --raw` of the object's API path with DeleteOptions carrying
the recorded uid as a precondition (kubectl 1.20 has no precondition flag): a Conflict then
means the object is not ours (NotOurs). Adapter layer: no ctx.
"""
from __future__ import annotations

import io
import json
import os
import re
import shlex
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import fabric
import paramiko

from cloudify_kubernetes.backend import (
    FIELD_MANAGER,
    FOREGROUND,
    MAX_SCHEMA_BYTES,
    NotOurs,
    ObjectRef,
    UnknownKind,
    delete_options,
)
from cloudify_kubernetes.connection import SshSettings
from cloudify_kubernetes.naming import check_api_version, check_dns_label, check_name
from cloudify_shared.errors import NotFound, TransientError, UserError, described
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
    if reason == "Conflict":
        return Conflict(text)
    return UserError(text)


class Conflict(UserError):
    """kubectl said Conflict (409): on a delete with a uid precondition, not our object."""


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


def api_path(api_version: str) -> str:
    """The API path of a (checked) apiVersion: /api/v1, /apis/apps/v1."""
    return f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"


class KubectlSshBackend:
    validate = True  # kubectl's own validation of apply / replace (see _validation)

    def __init__(self, settings: SshSettings, validate: bool = True) -> None:
        self.settings = settings
        self.validate = validate
        self._discovery: dict[str, dict[str, dict[str, Any]]] = {}  # apiVersion -> kind -> resource
        self._session_worked = False
        self.conn = fabric.Connection(
            settings.host, user=settings.user, port=settings.port,
            connect_timeout=settings.connect_timeout,
            connect_kwargs={**key_arguments(settings), "look_for_keys": False,
                            "allow_agent": False})
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
        command = self.command(args)
        try:
            result = self.conn.run(command, hide=True, warn=True, timeout=COMMAND_TIMEOUT,
                                   in_stream=io.StringIO(stdin) if stdin is not None else False)
        except paramiko.BadHostKeyException as error:
            raise UserError(f"{what}: host key of {self.settings.host} does not match "
                            f"{self.settings.known_hosts}: {error}") from error
        except paramiko.AuthenticationException as error:
            raise UserError(f"{what}: SSH login as {self.settings.user} refused: "
                            f"{error}") from error
        except paramiko.SSHException as error:
            if not self._session_worked:  # setup failed (key format, negotiation): user's to fix
                raise UserError(f"{what}: SSH to {self.settings.host}:{self.settings.port} "
                                f"failed: {error}") from error
            self.conn.close()  # the session dropped: the next command opens a new one
            raise TransientError(f"{what}: SSH session to {self.settings.endpoint} "
                                 f"lost: {error}") from error
        except (OSError, EOFError) as error:
            self.conn.close()
            raise self._unreachable(what, error) from error
        if result.exited == -1:  # the channel closed without an exit status: the session died
            self.conn.close()
            raise TransientError(f"{what}: SSH session to {self.settings.endpoint} closed "
                                 "before kubectl finished")
        self._session_worked = True
        if result.exited != 0:
            raise map_kubectl_error(result.stderr, what)
        return str(result.stdout)

    def _unreachable(self, what: str, error: OSError | EOFError) -> TransientError:
        """A connection that closed or reset once a session had worked is that session lost
        (the master was there a moment ago); anything else is the master not reached."""
        cause = described(error) if str(error) else f"{type(error).__name__}: the connection closed"
        dropped = isinstance(error, (EOFError, ConnectionResetError, BrokenPipeError))
        if dropped and self._session_worked:
            return TransientError(f"{what}: SSH session to {self.settings.endpoint} lost: {cause}")
        return TransientError(f"{what}: cannot reach {self.settings.endpoint}: {cause}")

    def command(self, args: list[str]) -> str:
        """The command line the master's shell runs: kubectl and `args`, every one quoted."""
        base = [self.settings.kubectl] + ([f"--kubeconfig={self.settings.kubeconfig}"]
                                          if self.settings.kubeconfig else [])
        return shlex.join(base + args)

    def _json(self, args: list[str], what: str, stdin: str | None = None) -> Any:
        """kubectl `args` (options, then `--` and the positional arguments) with `-o json`."""
        if "--" in args:
            at = args.index("--")
            args = args[:at] + ["--output=json"] + args[at:]
        else:
            args = args + ["--output=json"]
        text = self._run(args, what, stdin)
        return json.loads(text) if text.strip() else None

    def _resource(self, api_version: str, kind: str) -> dict[str, Any]:
        check_api_version(api_version, f"{kind} apiVersion")
        if api_version not in self._discovery:
            path = api_path(api_version)
            try:
                listing = json.loads(self._run(["get", f"--raw={path}"],
                                               f"discovering {api_version}"))
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
        if not namespace:
            return []
        return [f"--namespace={check_name('Namespace', namespace, 'metadata.namespace')}"]

    def _name(self, ref: ObjectRef) -> str:
        return check_name(ref.kind, ref.name, f"{ref.kind} metadata.name")

    def namespaced(self, api_version: str, kind: str) -> bool:
        return bool(self._resource(api_version, kind)["namespaced"])

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        args = ["get", "--ignore-not-found", *self._scope(ref.namespace), "--",
                self._type(ref.api_version, ref.kind), self._name(ref)]
        try:
            result = self._json(args, f"reading {ref}")
        except NotFound:
            return None
        return result if isinstance(result, dict) else None

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        ref = ObjectRef.of(obj)
        self._resource(ref.api_version, ref.kind)
        self._name(ref)
        self._scope(ref.namespace)
        result = self._json(["apply", f"--field-manager={FIELD_MANAGER}",
                             *self._validation(), "--filename=-"],
                            f"applying {ref}", stdin=json.dumps(dict(obj)))
        return dict(result or {})

    def replace(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        ref = ObjectRef.of(obj)
        self._resource(ref.api_version, ref.kind)
        self._name(ref)
        self._scope(ref.namespace)
        result = self._json(["replace", *self._validation(), "--filename=-"], f"replacing {ref}",
                            stdin=json.dumps(dict(obj)))
        return dict(result or {})

    def delete(self, ref: ObjectRef, mode: str = FOREGROUND) -> None:
        """DELETE of the object's API path with delete_options (the body goes over stdin);
        gone is fine."""
        options = delete_options(ref, mode)
        try:
            self._run(["delete", f"--raw={self._path(ref)}", "--filename=-"], f"deleting {ref}",
                      stdin=json.dumps(options))
        except NotFound:
            pass
        except Conflict as error:
            if not ref.uid:
                raise
            raise NotOurs(f"{ref}: not the object recorded (uid {ref.uid}): it was deleted "
                          "and made again by someone else") from error

    def _path(self, ref: ObjectRef) -> str:
        """The object's API path (/api/v1/namespaces/NS/configmaps/NAME), every part checked."""
        plural = quote(str(self._resource(ref.api_version, ref.kind)["name"]), safe="")
        name = quote(self._name(ref), safe="")
        if not ref.namespace:
            return f"{api_path(ref.api_version)}/{plural}/{name}"
        namespace = check_name("Namespace", ref.namespace, "metadata.namespace")
        return f"{api_path(ref.api_version)}/namespaces/{namespace}/{plural}/{name}"

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
                     label_selector: str) -> list[dict[str, Any]]:
        scope = self._scope(namespace) or ["--all-namespaces"]
        result = self._json(["get", f"--selector={label_selector}", *scope, "--",
                             self._type(api_version, kind)], f"listing {kind}")
        return list((result or {}).get("items") or [])

    def events(self, ref: ObjectRef) -> list[dict[str, Any]]:
        selector = f"involvedObject.name={ref.name},involvedObject.kind={ref.kind}"
        if ref.uid:  # not the events of an earlier object of the same name
            selector += f",involvedObject.uid={ref.uid}"
        result = self._json(["get", f"--field-selector={selector}", *self._scope(ref.namespace),
                             "--", "events"], f"events of {ref}")
        return list((result or {}).get("items") or [])

    def logs(self, namespace: str, pod: str, container: str | None, tail: int) -> str:
        args = ["logs", *self._scope(namespace), f"--tail={int(tail)}",
                *([f"--container={check_dns_label(container, 'container name')}"]
                  if container else []),
                "--", check_name("Pod", pod, "pod name")]
        try:
            return self._run(args, f"logs of pod {namespace}/{pod}")
        except (NotFound, UserError):
            return ""

    def watch(self, ref: ObjectRef, version: str, timeout: float) -> None:
        """Sleeps: a `kubectl get --watch` over SSH would hold a channel open per wait."""
        time.sleep(timeout)

    def _validation(self) -> list[str]:
        """kubectl validates against the server's schema by default (and refuses a field it
        lacks, one object at a time): off when the user asked to apply such fields anyway
        (engine.check_fields has named them for every object, before the first was applied)."""
        return [] if self.validate else ["--validate=false"]

    def server_endpoint(self) -> str:
        where = f"ssh://{self.settings.user}@{self.settings.endpoint}"
        return where + (f"?kubeconfig={self.settings.kubeconfig}"
                        if self.settings.kubeconfig else "")

    def server_version(self) -> str:
        info = json.loads(self._run(["get", "--raw=/version"], "reading the API server's version"))
        return str(info.get("gitVersion") or "")

    def openapi_v2(self, etag: str | None) -> tuple[bytes | None, str | None]:
        """The whole document every time: `kubectl get --raw` cannot send If-None-Match."""
        body = self._run(["get", "--raw=/openapi/v2"],
                         "reading the API server's OpenAPI schema").encode()
        if len(body) > MAX_SCHEMA_BYTES:  # read whole by fabric: bounded after the fact
            raise UserError(f"the API server's /openapi/v2 is larger than {MAX_SCHEMA_BYTES} bytes")
        return body, None

    def close(self) -> None:
        self.conn.close()
