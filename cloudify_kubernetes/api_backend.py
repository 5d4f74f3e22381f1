"""ClusterBackend over the Kubernetes API: the client's dynamic (discovery-based) API gives the
same verbs for every kind, CRD-defined ones included. Errors are mapped once, by HTTP status:
404 -> NotFound, 401/403/400/409/422 and other 4xx -> UserError, 429/5xx and connection
failures -> TransientError. An error names the status and, only when the body is a Kubernetes
Status, its message cut to MESSAGE_CHARS: never the body of another kind of server (issue 24).
The client is opened only for an API server the reach policy allows: the server checked is the
one the client's configuration holds once the kubeconfig is loaded. Deletes carry the recorded
uid as a precondition. Adapter layer: no ctx.
"""
from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import urllib3

from cloudify_kubernetes.backend import (
    FIELD_MANAGER,
    FOREGROUND,
    MAX_SCHEMA_BYTES,
    NotOurs,
    ObjectRef,
    UnknownKind,
    delete_options,
)
from cloudify_kubernetes.connection import ApiSettings, kubeconfig_server_field, load_kubeconfig
from cloudify_kubernetes.kube_client import (
    ApiException,
    DynamicClient,
    ResourceNotFoundError,
    kubernetes,
)
from cloudify_shared import limits
from cloudify_shared.errors import NotFound, TransientError, UserError
from cloudify_shared.reach import KUBERNETES, LOCAL, ReachPolicy
from cloudify_shared.redaction import register_secret

T = TypeVar("T")
_TEMP_CA_FILES: set[str] = set()  # CA PEMs written for the client; removed on close
STATUS_MEANING = {401: "unauthorized (bad or missing token/certificate)",
                  403: "forbidden (the credentials lack permission)"}
MESSAGE_CHARS = 500  # of a Kubernetes Status message in an error
REASON_CHARS = 80    # of an HTTP reason phrase (the server chooses it)
MAX_VERSION_BYTES = 65536  # of GET /version (a few hundred bytes from a real server)


def cut(text: str, limit: int) -> str:
    return (text if len(text) <= limit
            else text[:limit] + f"... ({len(text) - limit} more characters)")


def map_api_error(error: ApiException, what: str) -> Exception:
    status = int(error.status or 0)
    reason = STATUS_MEANING.get(status, cut(str(error.reason or ""), REASON_CHARS))
    detail = _message(error)
    text = f"{what}: HTTP {status} {reason}{': ' + detail if detail else ''}"
    if status == 404:
        return NotFound(text)
    if status == 429 or status >= 500 or status == 0:
        retry = (error.headers or {}).get("Retry-After") if error.headers else None
        return TransientError(text, retry_after=float(retry) if retry and retry.isdigit() else None)
    return UserError(text)


def _message(error: ApiException) -> str:
    """The message of a Kubernetes Status body (cut); '' for any other body."""
    import json
    try:
        body = json.loads(error.body)
    except (TypeError, ValueError):
        return ""
    if not isinstance(body, dict) or body.get("kind") != "Status" or body.get("apiVersion") != "v1":
        return ""
    return cut(str(body.get("message") or ""), MESSAGE_CHARS)


def scrub(error: ApiException) -> ApiException:
    """The exception without its response body and headers: its str() (which a traceback of
    the error it causes prints) holds them otherwise, whatever server sent them."""
    error.body = None
    error.headers = None
    return error


@contextmanager
def api_errors(what: str) -> Iterator[None]:
    try:
        yield
    except ApiException as error:
        mapped = map_api_error(error, what)
        raise mapped from scrub(error)
    except urllib3.exceptions.SSLError as error:
        raise UserError(f"{what}: TLS verification failed (wrong CA?): {error}") from error
    except urllib3.exceptions.MaxRetryError as error:
        if isinstance(error.reason, urllib3.exceptions.SSLError):
            raise UserError(f"{what}: TLS verification failed (wrong CA?): "
                            f"{error.reason}") from error
        raise TransientError(f"{what}: cannot reach the API server: {error.reason}") from error
    except (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as error:
        raise TransientError(f"{what}: cannot reach the API server: {error}") from error


def _configuration(settings: ApiSettings, read_file: Callable[[str], str]) -> Any:
    config = kubernetes.client.Configuration()
    config.host = settings.host
    config.verify_ssl = settings.verify_tls
    token = settings.token or (
        read_file(settings.token_file).strip() if settings.token_file else None)
    if token:
        register_secret(token)
        config.api_key = {"authorization": token}
        config.api_key_prefix = {"authorization": "Bearer"}
    if settings.ca_file:
        config.ssl_ca_cert = os.path.expanduser(settings.ca_file)
    elif settings.ca_pem:
        handle = tempfile.NamedTemporaryFile("w", suffix=".crt", delete=False)
        with handle:
            handle.write(settings.ca_pem)
        config.ssl_ca_cert = handle.name
        _TEMP_CA_FILES.add(handle.name)
    config.cert_file = settings.client_cert_file
    config.key_file = settings.client_key_file
    return config


def open_api_client(settings: ApiSettings, read_file: Callable[[str], str],
                    reach: ReachPolicy = LOCAL, where: str = "api") -> Any:
    """An ApiClient for the settings (kubeconfig file/content or explicit URL + credentials),
    for an API server `reach` allows (`where`: the settings' dotted path, for messages). The
    kubeconfig is loaded (no request is made) before the server it sets is checked."""
    client = _new_client(settings, read_file, where)
    try:
        check_server(client.configuration.host, settings, read_file, reach, where)
    except Exception:
        client.close()
        raise
    return client


def _new_client(settings: ApiSettings, read_file: Callable[[str], str], where: str) -> Any:
    try:
        if settings.kubeconfig:  # persist_config off: the client never writes the file back
            return kubernetes.config.new_client_from_config(
                config_file=os.path.expanduser(settings.kubeconfig), context=settings.context,
                persist_config=False)
        if settings.kubeconfig_content is not None:
            content = load_kubeconfig(settings.kubeconfig_content, f"{where}.kubeconfig_content")
            return kubernetes.config.new_client_from_config_dict(content, context=settings.context,
                                                                 persist_config=False)
    except (kubernetes.config.ConfigException, OSError, ValueError) as error:
        raise UserError(f"kubeconfig: {cut(str(error), MESSAGE_CHARS)}") from error
    return kubernetes.client.ApiClient(_configuration(settings, read_file))


def check_server(host: str, settings: ApiSettings, read_file: Callable[[str], str],
                 reach: ReachPolicy, where: str) -> None:
    """The API server the client will call (`host`, from its configuration) must be one the
    reach policy allows; a refusal names where it was written."""
    reach.check(KUBERNETES, str(host), server_field(settings, read_file, where, reach.on_manager))


def server_field(settings: ApiSettings, read_file: Callable[[str], str], where: str,
                 precise: bool = True) -> str:
    """The dotted path of the server setting the client loaded: `api.host`, or the `server` of
    the kubeconfig cluster its context names (`precise`: read a kubeconfig file to say which)."""
    if settings.host:
        return f"{where}.host"
    if settings.kubeconfig_content is not None:
        content = load_kubeconfig(settings.kubeconfig_content, f"{where}.kubeconfig_content")
        return f"{where}.kubeconfig_content.{kubeconfig_server_field(content, settings.context)}"
    inner = "server"
    if precise and settings.kubeconfig:
        try:
            content = limits.load_yaml(read_file(settings.kubeconfig), f"{where}.kubeconfig")
            inner = kubeconfig_server_field(content, settings.context)
        except (UserError, OSError):
            pass
    return f"{where}.kubeconfig.{inner}"


class ApiBackend:
    """ClusterBackend through the dynamic client of one ApiClient."""

    def __init__(self, api_client: Any, request_timeout: float = 30) -> None:
        self.api_client = api_client
        self.timeout = request_timeout
        with api_errors("API discovery"):
            self.dynamic = DynamicClient(api_client)

    def _resource(self, api_version: str, kind: str) -> Any:
        try:
            with api_errors(f"looking up {api_version} {kind}"):
                return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            raise UnknownKind(f"unknown kind: the cluster has no {kind} in {api_version}") from None

    def namespaced(self, api_version: str, kind: str) -> bool:
        return bool(self._resource(api_version, kind).namespaced)

    def _call(self, what: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with api_errors(what):
            return func(*args, _request_timeout=self.timeout, **kwargs)

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        resource = self._resource(ref.api_version, ref.kind)
        try:
            result = self._call(f"reading {ref}", resource.get, name=ref.name,
                                namespace=ref.namespace)
        except NotFound:
            return None
        found: dict[str, Any] = result.to_dict()
        return found

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create, or on 409 (already there) JSON-merge-patch. Server-side apply is not used:
        the 1.20 API server rejects valid objects with it (Service ports without protocol)."""
        ref = ObjectRef.of(obj)
        resource = self._resource(ref.api_version, ref.kind)
        try:
            with api_errors(f"creating {ref}"):
                try:
                    result = resource.create(body=dict(obj), namespace=ref.namespace,
                                             field_manager=FIELD_MANAGER,
                                             _request_timeout=self.timeout)
                except ApiException as error:
                    if error.status != 409:
                        raise
                    scrub(error)  # the context of an error the patch may raise
                    result = resource.patch(body=dict(obj), name=ref.name, namespace=ref.namespace,
                                            content_type="application/merge-patch+json",
                                            field_manager=FIELD_MANAGER,
                                            _request_timeout=self.timeout)
        except NotFound as error:
            raise UserError(str(error)) from error  # e.g. its namespace does not exist
        applied: dict[str, Any] = result.to_dict()
        return applied

    def replace(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        ref = ObjectRef.of(obj)
        resource = self._resource(ref.api_version, ref.kind)
        result = self._call(f"replacing {ref}", resource.replace, body=dict(obj), name=ref.name,
                            namespace=ref.namespace, field_manager=FIELD_MANAGER)
        return dict(result.to_dict())

    def delete(self, ref: ObjectRef, mode: str = FOREGROUND) -> None:
        resource = self._resource(ref.api_version, ref.kind)
        body = delete_options(ref, mode)
        try:
            with api_errors(f"deleting {ref}"):
                try:
                    resource.delete(name=ref.name, namespace=ref.namespace, body=body,
                                    _request_timeout=self.timeout)
                except ApiException as error:
                    if error.status == 409 and ref.uid:
                        raise NotOurs(f"{ref}: not the object recorded (uid {ref.uid}): it was "
                                      "deleted and made again by someone else") from scrub(error)
                    raise
        except NotFound:
            pass

    def list_objects(self, api_version: str, kind: str, namespace: str | None,
             label_selector: str) -> list[dict[str, Any]]:
        resource = self._resource(api_version, kind)
        result = self._call(f"listing {kind}", resource.get, namespace=namespace,
                            label_selector=label_selector)
        return [item.to_dict() for item in result.items]

    def watch(self, ref: ObjectRef, version: str, timeout: float) -> None:
        """One watch request on the object (by name) from `version`: it returns at the first
        byte of an event; the read times out after `timeout` (the server's own timeoutSeconds
        is whole seconds). Any failure sleeps out the rest: the next read says what is wrong."""
        start = time.monotonic()
        response = None
        try:
            resource = self._resource(ref.api_version, ref.kind)
            response = resource.get(namespace=ref.namespace,
                                    field_selector=f"metadata.name={ref.name}",
                                    resource_version=version, watch=True,
                                    timeout_seconds=max(1, math.ceil(timeout)), serialize=False,
                                    _request_timeout=(self.timeout, timeout))
            if response.read(1):
                return
        except (ApiException, UnknownKind, urllib3.exceptions.HTTPError, OSError):
            pass
        finally:
            if response is not None:  # a stream read in part cannot go back to the pool
                response.close()
                response.release_conn()
        time.sleep(max(0.0, timeout - (time.monotonic() - start)))

    def events(self, ref: ObjectRef) -> list[dict[str, Any]]:
        selector = f"involvedObject.name={ref.name},involvedObject.kind={ref.kind}"
        if ref.uid:  # not the events of an earlier object of the same name
            selector += f",involvedObject.uid={ref.uid}"
        resource = self._resource("v1", "Event")
        result = self._call(f"events of {ref}", resource.get, namespace=ref.namespace,
                            field_selector=selector)
        return [item.to_dict() for item in result.items]

    def logs(self, namespace: str, pod: str, container: str | None, tail: int) -> str:
        core = kubernetes.client.CoreV1Api(self.api_client)
        try:
            with api_errors(f"logs of pod {namespace}/{pod}"):
                return str(core.read_namespaced_pod_log(pod, namespace, container=container,
                                                        tail_lines=tail,
                                                        _request_timeout=self.timeout))
        except (NotFound, UserError):
            return ""

    def server_endpoint(self) -> str:
        return str(self.api_client.configuration.host)

    def server_version(self) -> str:
        """gitVersion of GET /version, read raw: VersionApi would load every model of the
        client library to deserialise it (kube_client)."""
        import json
        with api_errors("reading the API server's version"):
            response = self.api_client.call_api(
                "/version/", "GET", header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"], _preload_content=False,
                _return_http_data_only=True, _request_timeout=self.timeout)
            try:
                data = response.read(MAX_VERSION_BYTES + 1, decode_content=True)
            finally:
                response.release_conn()
        try:
            info = json.loads(data) if len(data) <= MAX_VERSION_BYTES else None
        except ValueError:
            info = None
        if not isinstance(info, dict) or not isinstance(info.get("gitVersion"), str):
            raise UserError("the API server's /version holds no gitVersion")
        return str(info["gitVersion"])

    def openapi_v2(self, etag: str | None) -> tuple[bytes | None, str | None]:
        """GET /openapi/v2 (If-None-Match `etag`): several MB, read raw (not deserialised),
        at most MAX_SCHEMA_BYTES."""
        headers = {"Accept": "application/json", **({"If-None-Match": etag} if etag else {})}
        try:
            with api_errors("reading the API server's OpenAPI schema"):
                try:
                    response = self.api_client.call_api(
                        "/openapi/v2", "GET", header_params=headers, auth_settings=["BearerToken"],
                        _preload_content=False, _return_http_data_only=True,
                        _request_timeout=self.timeout)
                except ApiException as error:
                    if error.status == 304:
                        return None, etag
                    raise
                try:
                    data = response.read(MAX_SCHEMA_BYTES + 1, decode_content=True)
                finally:
                    response.release_conn()
        except NotFound as error:
            raise UserError(str(error)) from error
        if len(data) > MAX_SCHEMA_BYTES:
            raise UserError(f"the API server's /openapi/v2 is larger than {MAX_SCHEMA_BYTES} bytes")
        return bytes(data), response.headers.get("ETag")

    def close(self) -> None:
        self.api_client.close()
        ca_file = getattr(self.api_client.configuration, "ssl_ca_cert", None)
        if ca_file in _TEMP_CA_FILES:
            _TEMP_CA_FILES.discard(ca_file)
            os.unlink(ca_file)
