"""The helm command line as an adapter: an argument list (never a shell), a bounded time, an
environment of its own (HOME and every HELM_* folder in a private temporary folder, so helm
reads no repository, registry credential or plugin of the worker's user; KUBECONFIG a private
file), output parsed as JSON.

helm gives no status code, only exit 1 and a message: this is the one place that reads its
message text, to tell a cluster that cannot be reached right now (TransientError, retried) from
everything else (UserError: a chart, values or schema helm refuses). A message is cut to
MESSAGE_CHARS. Values and credentials reach helm only through files (`-f`, KUBECONFIG,
--registry-config).
Adapter layer: no ctx.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from cloudify_shared.errors import TransientError, UserError
from cloudify_shared.private_dirs import HELM_PREFIX, make, remove

HELM_ENV = "CLOUDIFY_VNF_HELM"
_VERSIONS: dict[tuple[int, int, int, int], str] = {}  # binary_key -> what `helm version` said
MIN_VERSION = (3, 13, 0)  # release labels (--labels), JSON output of upgrade and history
MESSAGE_CHARS = 1500
MARGIN = 60  # seconds a helm command may take beyond the operation's timeout
UNREACHABLE = ("connection refused", "i/o timeout", "no such host", "tls handshake timeout",
               "connection reset", "network is unreachable", "the server is currently unable",
               "service unavailable", "too many requests", "etcdserver")
# helm 4 applies server-side: a field another manager (kubectl edit, scale, patch) changed since
# is a conflict that fails the upgrade or rollback unless forced; heal and update put the
# release's manifest back, so they force. Forcing needs server-side apply (a release made
# client-side, by helm 3 or --server-side=false, is otherwise refused: "forceConflicts enabled
# when serverSideApply disabled"), so it is asked for too. helm 3 (three-way merge) has neither.
FORCE_CONFLICTS = ("--server-side=true", "--force-conflicts")
SERVER_SIDE_FROM = (4, 0, 0)
INSTALLED_BY = ("scripts/local-clusters up installs helm 4.1.4 (scripts/clusters/helm.sh)")


def find_helm(given: str, on_manager: bool, environ: Mapping[str, str] = os.environ,
              field: str = "properties.helm") -> str:
    """The helm binary: the property `given` (local profile only: on a manager a blueprint may
    not name a program the manager runs), else the administrator's CLOUDIFY_VNF_HELM, else
    `helm` on PATH. UserError saying where it looked when there is none."""
    if given and on_manager:
        raise UserError(f"{field}: on a manager the helm binary is the administrator's "
                        f"({HELM_ENV} in the mgmtworker's environment, else helm on its PATH): "
                        "a blueprint may not name a program the manager runs; leave it empty")
    candidate = given or environ.get(HELM_ENV, "") or shutil.which("helm") or ""
    origin = field if given else HELM_ENV if environ.get(HELM_ENV) else "PATH"
    if not candidate:
        raise UserError(f"no helm binary: set {HELM_ENV} (or {field} in the local profile) or "
                        f"put helm on PATH; {INSTALLED_BY}")
    path = os.path.expanduser(candidate)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise UserError(f"helm binary {candidate!r} (from {origin}) is not an executable file; "
                        f"{INSTALLED_BY}")
    return path


def parse_version(text: str) -> tuple[int, int, int]:
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
    if match is None:
        raise UserError(f"helm version: cannot read {text.strip()[:80]!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def upgrade_args(release: str, chart: str, namespace: str, values_files: Sequence[str],
                 labels: Mapping[str, str], timeout: float,
                 force_conflicts: bool = False) -> list[str]:
    """`helm upgrade --install` without --wait (the suite waits itself; helm still waits for
    hooks), values only as files, the ownership labels on the release (no value of theirs is
    secret); `force_conflicts` (helm 4's server-side apply) takes back fields changed out of
    band, which would otherwise fail the upgrade."""
    args = ["upgrade", "--install", release, chart, "--namespace", namespace,
            "--timeout", f"{int(timeout)}s", "--history-max", "10", "--output", "json"]
    if force_conflicts:
        args += FORCE_CONFLICTS
    for path in values_files:
        args += ["--values", path]
    if labels:
        args += ["--labels", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))]
    return args


def error_for(command: str, stderr: str) -> Exception:
    """The project error for a failed helm command (by its message: helm has no codes)."""
    text = stderr.strip()
    text = text.removeprefix("Error: ")
    if len(text) > MESSAGE_CHARS:
        text = text[:MESSAGE_CHARS] + f"... ({len(text) - MESSAGE_CHARS} more characters)"
    lowered = text.lower()
    if any(word in lowered for word in UNREACHABLE):
        return TransientError(f"helm {command}: cannot reach the cluster: {text}")
    return UserError(f"helm {command}: {text}")


REFUSED = ("status code 401", "status code 403", "unauthorized", "denied")


def pull_error(reference: str, version: str, stderr: str) -> Exception:
    """The project error for a failed `helm pull` of an oci:// chart: credentials refused,
    the chart or version missing, the registry not answering (retried), else as error_for."""
    error = error_for("pull", stderr)
    lowered = stderr.lower()
    if isinstance(error, TransientError):
        return TransientError(f"helm pull {reference}: cannot reach the registry: "
                              f"{str(error).split(': ', 2)[-1]}")
    if isinstance(error, UserError) and any(word in lowered for word in REFUSED):
        return UserError(f"properties.registry_credentials: the registry of {reference} refused "
                         f"them (or their absence): {error}")
    if isinstance(error, UserError) and "not found" in lowered:
        return UserError(f"properties.chart_version: {version!r} of {reference}: not found in "
                         f"the registry (or no such chart): {error}")
    return error


@dataclass(frozen=True)
class Release:
    """What helm says of a release after an install or upgrade."""

    name: str
    namespace: str
    revision: int
    status: str
    chart: str
    chart_version: str
    app_version: str
    manifest: str = field(default="", repr=False)  # what upgrade printed ("" when unknown)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Release:
        meta = (data.get("chart") or {}).get("metadata") or {}
        return cls(str(data.get("name")), str(data.get("namespace")), int(data.get("version") or 0),
                   str((data.get("info") or {}).get("status")), str(meta.get("name")),
                   str(meta.get("version")), str(meta.get("appVersion") or ""),
                   str(data.get("manifest") or ""))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "namespace": self.namespace, "revision": self.revision,
                "status": self.status, "chart": self.chart, "chart_version": self.chart_version,
                "app_version": self.app_version}


def release_of(output: str, command: str) -> Release:
    try:
        return Release.from_json(json.loads(output))
    except (ValueError, TypeError, AttributeError):
        raise UserError(f"helm {command}: its output is not the release JSON") from None


def binary_key(path: str) -> tuple[int, int, int, int] | None:
    """The file a helm path names now (device, inode, mtime, size): a replaced or upgraded
    binary is another key; None when it cannot be read (then helm is asked, and fails clearly)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)


class HelmCli:
    """One helm binary with one private kubeconfig, for one operation; close() removes its
    private folder (a later operation's sweep does if this process is killed:
    cloudify_shared.private_dirs)."""

    def __init__(self, binary: str, kubeconfig: str) -> None:
        self.binary = binary
        self.server_side = False  # helm 4 or later, known once version() ran
        self.home = make(HELM_PREFIX)  # mode 700
        self.env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": self.home, "LANG": "C",
            "KUBECONFIG": kubeconfig, "HELM_DRIVER": "secret",
            "HELM_CONFIG_HOME": os.path.join(self.home, "config"),
            "HELM_CACHE_HOME": os.path.join(self.home, "cache"),
            "HELM_DATA_HOME": os.path.join(self.home, "data"),
            "HELM_PLUGINS": os.path.join(self.home, "plugins"),
        }

    def pull(self, reference: str, version: str, registry_config: str, plain_http: bool,
             timeout: float) -> str:
        """The chart `reference` at exactly `version`, pulled into this helm's private folder
        with the credentials of `registry_config` only (no ~/.config/helm, no Docker
        credential store); its path."""
        target = tempfile.mkdtemp(prefix="chart-", dir=self.home)
        args = ["pull", reference, "--version", version, "--destination", target,
                "--registry-config", registry_config, *(["--plain-http"] if plain_http else [])]
        self.run(args, timeout, "pull", lambda stderr: pull_error(reference, version, stderr))
        names = os.listdir(target)
        if len(names) != 1 or not names[0].endswith(".tgz"):
            raise UserError(f"helm pull {reference} {version}: not one chart file came")
        return os.path.join(target, names[0])

    def run(self, args: Sequence[str], timeout: float, command: str,
            on_error: Callable[[str], Exception] | None = None) -> str:
        try:
            done = subprocess.run([self.binary, *args], env=self.env, cwd=self.home,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise TransientError(f"helm {command}: no answer within {timeout:g}s (a retry "
                                 "recovers the release)") from None
        except OSError as error:
            raise UserError(f"cannot run helm {self.binary}: {error.strerror}") from None
        if done.returncode != 0:
            raise (on_error or partial(error_for, command))(done.stderr)
        return done.stdout

    def version(self) -> str:
        """helm's version (too old: UserError). Asked once per binary file and process: an
        install's create and start, in one process offline, ask it once."""
        key = binary_key(self.binary)
        text = _VERSIONS.get(key) if key else None
        if text is None:
            text = self.run(["version", "--template", "{{.Version}}"], 30, "version").strip()
            if key:
                _VERSIONS[key] = text
        self.server_side = parse_version(text) >= SERVER_SIDE_FROM
        if parse_version(text) < MIN_VERSION:
            raise UserError(f"helm {self.binary} is {text}: too old, at least "
                            f"v{'.'.join(map(str, MIN_VERSION))} is needed; {INSTALLED_BY}")
        return text

    def upgrade_install(self, release: str, chart: str, namespace: str,
                        values_files: Sequence[str], labels: Mapping[str, str],
                        timeout: float) -> Release:
        out = self.run(upgrade_args(release, chart, namespace, values_files, labels, timeout,
                                    self.server_side),
                       timeout + MARGIN, "upgrade --install")
        return release_of(out, "upgrade --install")

    def status(self, release: str, namespace: str) -> Release:
        """The latest revision's metadata (`helm get metadata`: helm 4's `status` lists every
        object of the release and no longer names the chart)."""
        out = self.run(["get", "metadata", release, "--namespace", namespace, "--output", "json"],
                       MARGIN, "get metadata")
        try:
            data = json.loads(out)
            return Release(str(data["name"]), str(data["namespace"]), int(data["revision"]),
                           str(data["status"]), str(data["chart"]), str(data["version"]),
                           str(data.get("appVersion") or ""))
        except (ValueError, TypeError, KeyError):
            raise UserError("helm get metadata: its output is not the release's metadata") from None

    def manifest(self, release: str, namespace: str) -> str:
        return self.run(["get", "manifest", release, "--namespace", namespace], MARGIN,
                        "get manifest")

    def values(self, release: str, namespace: str) -> dict[str, Any]:
        """The user-supplied values of the release's latest revision (never logged)."""
        out = self.run(["get", "values", release, "--namespace", namespace, "--output", "json"],
                       MARGIN, "get values")
        try:
            data = json.loads(out)
        except ValueError:
            raise UserError("helm get values: its output is not JSON") from None
        return dict(data) if isinstance(data, dict) else {}

    def uninstall(self, release: str, namespace: str, timeout: float) -> None:
        self.run(["uninstall", release, "--namespace", namespace, "--ignore-not-found",
                  "--timeout", f"{int(timeout)}s"], timeout + MARGIN, "uninstall")

    def rollback(self, release: str, revision: int, namespace: str, timeout: float) -> None:
        self.run(["rollback", release, str(revision), "--namespace", namespace,
                  "--timeout", f"{int(timeout)}s", *(FORCE_CONFLICTS if self.server_side else ())],
                 timeout + MARGIN, "rollback")

    def close(self) -> None:
        remove(self.home)
