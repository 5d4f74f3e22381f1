"""What a Helm release is made of, as plain data: its settings (node properties), its name, its
values (the `set` entries as a mapping, never a command line), the secret values to mask, the
kubeconfig helm gets, and the objects of its manifest. Pure: no ctx, no I/O, no subprocess.
"""
from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cloudify_kubernetes.helm_oci import (
    Credentials,
    check_version,
    is_oci,
    parse_credentials,
    registry_of,
)
from cloudify_shared import limits
from cloudify_shared.errors import UserError
from cloudify_shared.redaction import is_secret_key, register_secret
from cloudify_shared.validation import Field, parse_mapping

HELM_FIELDS = {
    "release_name": Field((str,), default=""),
    "namespace": Field((str,), default="default"),
    "chart": Field((str,), required=True),
    "repository": Field((str,), default=""),
    "chart_version": Field((str,), default=""),
    "values": Field((dict,), default={}),
    "values_files": Field((list,), default=[]),
    "set": Field((dict,), default={}),
    "timeout": Field((int, float), default=300, check=limits.duration),
    "helm": Field((str,), default=""),
    "registry_credentials": Field((dict,), default={}),
    "repository_credentials": Field((dict,), default={}),
    "plain_http": Field((bool,), default=False),
    "keep_volume_claims": Field((bool,), default=False),
}
CREDENTIALS = ("registry_credentials", "repository_credentials")
RELEASE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
CHART_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
MAX_RELEASE_NAME = 53  # helm's own bound (a release's Secret and labels are derived from it)
HASH_LENGTH = 8


@dataclass(frozen=True)
class HelmSettings:
    release_name: str
    namespace: str
    chart: str
    repository: str
    chart_version: str
    values: dict[str, Any]
    values_files: list[Any]
    set: dict[str, Any]
    timeout: float
    helm: str
    registry_credentials: Credentials | None
    repository_credentials: Credentials | None
    plain_http: bool
    keep_volume_claims: bool


def parse_settings(properties: Mapping[str, Any], path: str = "properties") -> HelmSettings:
    """A HelmRelease's properties, checked (UserError naming the field, never a value)."""
    # (a node's properties also hold cloudify.nodes.Root's, e.g. use_external_resource; the
    # DSL parser refuses unknown ones at upload)
    _mask_passwords(properties)
    values = parse_mapping({k: v for k, v in properties.items() if k in HELM_FIELDS},
                           HELM_FIELDS, path)
    if values["release_name"]:
        check_release_name(values["release_name"], f"{path}.release_name")
    if not NAMESPACE.fullmatch(values["namespace"]) or len(values["namespace"]) > 63:
        raise UserError(f"{path}.namespace: {values['namespace']!r} is not a Kubernetes namespace "
                        "name (lower-case letters, digits and '-', at most 63)")
    if not values["chart"].strip():
        raise UserError(f"{path}.chart: required but empty")
    _check_source(values, path)
    if values["repository"] and not CHART_NAME.fullmatch(values["chart"]):
        raise UserError(f"{path}.chart: {values['chart']!r}: with a repository, the chart's name "
                        "in its index (letters, digits, '-', '_' and '.')")
    for index, item in enumerate(values["values_files"]):
        if not isinstance(item, str) or not item:
            raise UserError(f"{path}.values_files[{index}]: expected a file path (a blueprint "
                            "resource, or a host path under the local-file policy)")
    for key in values["set"]:
        parse_key(str(key), f"{path}.set")
    for name in CREDENTIALS:
        values[name] = parse_credentials(values[name], f"{path}.{name}")
    return HelmSettings(**values)


def _mask_passwords(properties: Mapping[str, Any]) -> None:
    """The credentials' passwords, masked before any message could show them."""
    for name in CREDENTIALS:
        given = properties.get(name)
        if isinstance(given, Mapping):
            password = given.get("password")
            register_secret(password if isinstance(password, str) else None)


def _check_source(values: Mapping[str, Any], path: str) -> None:
    """chart_version goes with a repository or an oci:// chart; registry settings only with
    an oci:// chart."""
    oci = is_oci(values["chart"])
    if oci and values["repository"]:
        raise UserError(f"{path}.repository: not with an oci:// chart (the registry is in the "
                        "reference); leave it empty")
    if (values["repository"] or oci) and not values["chart_version"]:
        raise UserError(f"{path}.chart_version: required with a repository or an oci:// chart "
                        "(the exact version of the chart, as the repository lists it or as it "
                        "was pushed)")
    if values["chart_version"] and not (values["repository"] or oci):
        raise UserError(f"{path}.chart_version: only for a chart of a repository or an oci:// "
                        "chart (the version of a packaged chart is its own)")
    if oci:
        registry_of(values["chart"], f"{path}.chart")
        check_version(values["chart_version"], f"{path}.chart_version")
    if values["repository_credentials"] and not values["repository"]:
        raise UserError(f"{path}.repository_credentials: only with a repository")
    if not oci and (values["registry_credentials"] or values["plain_http"]):
        name = "registry_credentials" if values["registry_credentials"] else "plain_http"
        raise UserError(f"{path}.{name}: only for an oci:// chart")


def check_release_name(name: str, field: str) -> str:
    if len(name) > MAX_RELEASE_NAME or not RELEASE_NAME.fullmatch(name):
        raise UserError(f"{field}: {name!r} is not a Helm release name (lower-case letters, "
                        f"digits, '-' and '.', starting and ending alphanumeric, at most "
                        f"{MAX_RELEASE_NAME} characters)")
    return name


def release_name_for(instance_id: str, given: str = "", suffix: str = "") -> str:
    """The release of one node instance: `given` (with `suffix`, '-<random part of the
    instance id>', when the node has several instances), else the instance id made a release
    name ('web_x8u01s' -> 'web-x8u01s'); too long, a readable prefix and a hash of the id."""
    if given:
        name = given + suffix
        if len(name) > MAX_RELEASE_NAME:
            digest = hashlib.sha256(name.encode()).hexdigest()[:HASH_LENGTH]
            name = f"{given[:MAX_RELEASE_NAME - HASH_LENGTH - 1].rstrip('-.')}-{digest}"
        return check_release_name(name, "properties.release_name")
    name = re.sub(r"[^a-z0-9-]", "-", instance_id.lower()).strip("-") or "release"
    if name != instance_id.replace("_", "-") or len(name) > MAX_RELEASE_NAME:
        # changed beyond '_' -> '-' (upper case, other characters) or too long: a hash of the
        # whole id keeps two instances apart
        digest = hashlib.sha256(instance_id.encode()).hexdigest()[:HASH_LENGTH]
        name = f"{name[:MAX_RELEASE_NAME - HASH_LENGTH - 1].rstrip('-.')}-{digest}"
    return check_release_name(name, "the node instance id")


# ---- set: 'a.b[0].c' keys as Helm reads them, turned into a values mapping ---------------------

KEY_PART = re.compile(r"((?:[^.\[\]\\]|\\.)+)((?:\[\d+\])*)")


def parse_key(key: str, field: str) -> list[str | int]:
    """The path of a `set` key: dotted names (a literal dot escaped as '\\.'), list indexes in
    brackets, as `helm --set` reads it: 'a.b[0].c' -> ['a', 'b', 0, 'c']."""
    path: list[str | int] = []
    position = 0
    while True:
        match = KEY_PART.match(key, position)
        if match is None:
            raise UserError(f"{field}: the key {key!r} is not a value path (names separated by "
                            "'.', a literal dot as '\\.', list indexes as [N])")
        path.append(re.sub(r"\\(.)", r"\1", match.group(1)))
        path.extend(int(index) for index in re.findall(r"\[(\d+)\]", match.group(2)))
        position = match.end()
        if position == len(key):
            return path
        if key[position] != ".":
            raise UserError(f"{field}: the key {key!r} is not a value path")
        position += 1


def set_values(entries: Mapping[str, Any], field: str = "properties.set") -> dict[str, Any]:
    """The `set` entries as one values mapping (each value as it is: a string stays a string,
    a number a number). A list index may extend a list by one at most."""
    result: dict[str, Any] = {}
    for key, value in entries.items():
        path = parse_key(str(key), field)
        _put(result, path, value, f"{field}.{key}")
    return result


def _put(container: Any, path: list[str | int], value: Any, field: str) -> None:
    for step, following in zip(path, [*path[1:], None], strict=True):
        fresh: Any = {} if isinstance(following, str) else [] if following is not None else value
        if isinstance(step, int):
            if not isinstance(container, list) or step > len(container):
                raise UserError(f"{field}: index [{step}] skips list items (or is not a list)")
            if step == len(container):
                container.append(fresh)
            elif following is None:
                container[step] = value
            container = container[step]
        else:
            if not isinstance(container, dict):
                raise UserError(f"{field}: {step!r} is set below a value that is not a mapping")
            if following is None or step not in container:
                container[step] = fresh
            container = container[step]


def register_secret_values(data: Any, secret_path: bool = False) -> None:
    """Every string under a key that looks like a secret's (password, token, key, ...) is
    registered for redaction, at any depth; values are never logged in any case."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            register_secret_values(value, secret_path or is_secret_key(str(key)))
    elif isinstance(data, list):
        for value in data:
            register_secret_values(value, secret_path)
    elif secret_path and isinstance(data, (str, int, float)) and not isinstance(data, bool):
        register_secret(str(data))


def load_values_file(text: str, where: str) -> dict[str, Any]:
    """A values file (a blueprint's): one YAML mapping, under the YAML bounds."""
    data = limits.load_yaml(text, where)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{where}: a values file holds one mapping, got {type(data).__name__}")
    return data


# ---- the kubeconfig helm reads (from the connection the suite's client already checked) -----

def kubeconfig_for(server: str, token: str | None, ca_pem: bytes | None,
                   client_cert: bytes | None, client_key: bytes | None,
                   verify_tls: bool, tls_server_name: str | None = None) -> dict[str, Any]:
    """A one-context kubeconfig for helm: the server the reach policy allowed, and the
    credentials inline (helm gets no other file of the host)."""
    cluster: dict[str, Any] = {"server": server}
    if not verify_tls:
        cluster["insecure-skip-tls-verify"] = True
    elif ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    if tls_server_name:
        cluster["tls-server-name"] = tls_server_name
    user: dict[str, Any] = {}
    if token:
        user["token"] = token
    if client_cert and client_key:
        user["client-certificate-data"] = base64.b64encode(client_cert).decode()
        user["client-key-data"] = base64.b64encode(client_key).decode()
    return {"apiVersion": "v1", "kind": "Config", "current-context": "release",
            "clusters": [{"name": "cluster", "cluster": cluster}],
            "users": [{"name": "user", "user": user}],
            "contexts": [{"name": "release", "context": {"cluster": "cluster", "user": "user"}}]}


# ---- the release's manifest -------------------------------------------------------------------

def manifest_objects(text: str, where: str) -> list[dict[str, Any]]:
    """The objects of a release manifest (`helm get manifest`), under the YAML and count
    bounds; empty documents dropped, a List's items taken one by one."""
    objects: list[dict[str, Any]] = []
    for document in limits.load_yaml_documents(text, where):
        if not document:
            continue
        if not isinstance(document, dict) or "kind" not in document or "apiVersion" not in document:
            raise UserError(f"{where}: a document that is not a Kubernetes object")
        if document["kind"].endswith("List") and isinstance(document.get("items"), list):
            objects.extend(item for item in document["items"] if isinstance(item, dict))
        else:
            objects.append(document)
    limits.check_count(len(objects), where)
    return objects


def placed_ref_fields(obj: Mapping[str, Any], namespaced: Callable[[str, str], bool],
                      namespace: str) -> tuple[str, str, str, str | None]:
    """(apiVersion, kind, name, namespace) of a manifest object as it lives in the cluster:
    helm puts a namespaced object without one in the release's namespace."""
    meta = obj.get("metadata") or {}
    api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
    where = (meta.get("namespace") or namespace) if namespaced(api_version, kind) else None
    return api_version, kind, str(meta.get("name")), where


def merge_values(layers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The values files as helm merges them (`--values` a, b: b's mappings merged into a's,
    anything else replaced): what helm keeps as the release's user-supplied values."""
    result: dict[str, Any] = {}
    for layer in layers:
        result = _merged(result, layer)
    return result


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def differing_paths(wanted: Any, given: Any, path: str = "", limit: int = 20) -> list[str]:
    """The dotted paths where two values trees differ (never the values: they may be secret)."""
    if isinstance(wanted, Mapping) and isinstance(given, Mapping):
        found: list[str] = []
        for key in sorted(set(wanted) | set(given), key=str):
            found += differing_paths(wanted.get(key), given.get(key),
                                     f"{path}.{key}" if path else str(key), limit)
            if len(found) >= limit:
                return found[:limit]
        return found
    return [] if wanted == given else [path or "(all)"]
