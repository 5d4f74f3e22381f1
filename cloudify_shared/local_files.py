"""The local-file policy (issue 17): how every operation of the three plugins reads a file that a
blueprint names (a token, CA, certificate or key file, a Swarm secret or config file, a compose
file, a descriptor).

- A relative path is a blueprint resource, fetched through the operation context (the tasks
  layer passes the fetching function).
- An absolute path (`~` expanded) is a file of the host that runs the operation. In the local
  profile (the operator's own machine) it is read as it is. On a manager the mgmtworker runs
  every tenant's operations as one OS user that can read the manager's own files, so there it is
  refused unless, after resolving symlinks and `..`, it lies under a directory the manager's
  administrator lists in the mgmtworker's environment variable CLOUDIFY_VNF_ALLOWED_DIRS
  (os.pathsep-separated absolute directories). A blueprint cannot change that setting.

Files that a client library opens itself (the Kubernetes client's CA and client certificate,
docker-py's TLS files, paramiko's key and known_hosts) go through `local_path`: the same check,
and a relative path becomes a private copy of the resource, removed by `close()`. Material given
inline (PEM text from get_secret) that such a library wants as a file goes through
`private_file`, removed the same way.
No ctx here: the tasks layer says whether the operation runs on a manager.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

from cloudify_shared.errors import UserError
from cloudify_shared.limits import MAX_FILE_BYTES, bound, check_size
from cloudify_shared.private_dirs import FILES_PREFIX, make, remove

ALLOWED_DIRS_ENV = "CLOUDIFY_VNF_ALLOWED_DIRS"
GetResource = Callable[[str], bytes]


def allowed_dirs_from(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """The directories CLOUDIFY_VNF_ALLOWED_DIRS lists, symlinks resolved; relative or empty
    entries are ignored (they would depend on the worker's current directory)."""
    entries = (environ.get(ALLOWED_DIRS_ENV) or "").split(os.pathsep)
    return tuple(os.path.realpath(entry) for entry in entries if os.path.isabs(entry))


def is_host_path(path: str) -> bool:
    """True for a path of the operation's host (absolute or ~), False for a blueprint resource."""
    return os.path.isabs(os.path.expanduser(path))


def check_host_path(path: str, field: str, on_manager: bool, allowed_dirs: Sequence[str]) -> str:
    """The host path to open for `path` (absolute or ~): as it is in the local profile; on a
    manager its real path, if under one of `allowed_dirs`, else a UserError naming `field`."""
    expanded = os.path.expanduser(path)
    if not on_manager:
        return expanded
    real = os.path.realpath(expanded)
    if any(os.path.commonpath([real, allowed]) == allowed for allowed in allowed_dirs):
        return real
    resolved = f" (resolves to {real})" if real != expanded else ""
    allowed_text = ", ".join(allowed_dirs) if allowed_dirs else "none"
    raise UserError(
        f"{field}: {path!r}{resolved} is a file of the manager's own host, outside the blueprint; "
        "on a manager, files come from the blueprint's resources (a path relative to the "
        "blueprint) or from Cloudify secrets (get_secret). A manager administrator can allow a "
        f"directory by listing it in {ALLOWED_DIRS_ENV} in the mgmtworker's environment "
        f"(os.pathsep-separated; allowed now: {allowed_text})")


class LocalFiles:
    """The files one operation reads, under the policy above."""

    def __init__(self, on_manager: bool, get_resource: GetResource,
                 allowed_dirs: Sequence[str] = ()) -> None:
        self.on_manager = on_manager
        self.allowed_dirs = tuple(allowed_dirs)
        self._get_resource = get_resource
        self._folder: str | None = None
        self._made = 0

    def host_path(self, path: str, field: str) -> str:
        return check_host_path(path, field, self.on_manager, self.allowed_dirs)

    def read_bytes(self, path: str, field: str) -> bytes:
        if not is_host_path(path):
            return self._get_resource(path)
        host = self.host_path(path, field)
        try:
            with open(host, "rb") as handle:
                check_size(os.fstat(handle.fileno()).st_size, f"{field}: {path}")
                return handle.read(bound(MAX_FILE_BYTES) + 1)
        except OSError as error:
            raise UserError(f"{field}: cannot read {path}: {error.strerror}") from None

    def read_text(self, path: str, field: str) -> str:
        data = self.read_bytes(path, field)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UserError(f"{field}: {path} is not UTF-8 text ({error.reason})") from None

    def local_path(self, path: str, field: str) -> str:
        """A path a library may open: the checked host path, or a private copy of the resource."""
        if is_host_path(path):
            return self.host_path(path, field)
        return self.private_file(self._get_resource(path), os.path.basename(path))

    def private_file(self, data: bytes, name: str) -> str:
        """A file only this user can read (mode 600, in a mode-700 folder) holding `data`, for a
        library that wants a path (docker-py's TLS files given inline); removed by close(), or
        by a later operation's sweep if this process is killed (cloudify_shared.private_dirs)."""
        if self._folder is None:
            self._folder = make(FILES_PREFIX)  # mode 700
        target = os.path.join(self._folder, f"{self._made}-{os.path.basename(name)}")
        self._made += 1
        with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            handle.write(data)
        return target

    def close(self) -> None:
        if self._folder is not None:
            remove(self._folder)
            self._folder = None

    def __enter__(self) -> LocalFiles:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
