"""Where a compose file and the files it names are read from, under the local-file policy
(cloudify_shared.local_files), checked on the path that is actually opened (issue 24, class 2).

The parser (stack.py) interpolates the whole file first (`${VAR}`, from compose_variables, the
`.env` beside the file and, offline, the operation's environment) and only then asks this module
for a file, by its final value; this module expands `~` and hands that path to the policy. So a
`configs.x.file: ${DIR}/rest-security.conf` with DIR=/opt/manager is checked (and refused on a
manager) as `/opt/manager/rest-security.conf`, the file that would be opened. Nothing reads a file
a compose file names before it is interpolated.

- The compose file itself: an absolute (or `~`) path is a host file under the policy; a relative
  one is a blueprint resource. Its `.env` is read beside it the same way.
- A file it names (`configs[].file`, `secrets[].file`, `env_file`), after interpolation:
  absolute or `~` -> a host file under the policy, wherever the compose file is; relative ->
  beside the compose file: a host file under the policy (its real path, so `..` and symlinks out
  of an allowed directory are refused) when the compose file is on the host, else a blueprint
  resource (refused when it points outside the blueprint).
- Compose 3 for `docker stack deploy` has no `extends` or `include`: both are unknown keys and
  refused (keys.py), so no other compose file is ever opened.
- Bind mount sources are not files the worker opens: the Engine mounts them from its own host,
  which is not the manager's unless the Swarm endpoint is the manager's own Engine. So the file
  policy (a rule about the manager's files) does not apply to them; what a blueprint may mount is
  decided by which Engines it may reach at all (the endpoint allowlist,
  CLOUDIFY_VNF_ALLOWED_DOCKER_HOSTS): an administrator who allows the manager's own Engine allows
  everything that Engine can mount. A bind source is resolved as the docker CLI resolves it
  (`~` expanded, relative to the compose file's folder) and sent as it is; a relative one in a
  compose file that is a blueprint resource is refused (mounts.py). Likewise
  `credential_spec.file` names a file on the Engine's (Windows) host.

Plain Python: no ctx (the tasks layer hands in its LocalFiles), no YAML.
"""
from __future__ import annotations

import os
import posixpath
from pathlib import Path

from cloudify_shared.errors import UserError
from cloudify_shared.local_files import LocalFiles, is_host_path

COMPOSE_FIELD = "properties.compose_file"


def _no_resource(path: str) -> bytes:
    raise UserError(f"{path!r}: a relative path with no blueprint to read it from")


class ComposeFiles:
    """One compose file and the files it names, read under `files`' policy."""

    def __init__(self, compose_file: str, files: LocalFiles, field: str = COMPOSE_FIELD) -> None:
        self.field = field
        self.files = files
        self.on_host = is_host_path(compose_file)
        if self.on_host:
            self.path = files.host_path(compose_file, field)  # the compose file itself, checked
            self.folder = os.path.dirname(self.path)
            # relative bind sources join the folder as named, symlinks not resolved (docker's
            # filepath.Abs); the policy's real path is for the files the worker opens
            self.named_folder = os.path.dirname(os.path.abspath(os.path.expanduser(compose_file)))
        else:
            self.path = blueprint_path("", compose_file, field)
            self.folder = self.named_folder = posixpath.dirname(self.path)

    @classmethod
    def local(cls, path: str) -> ComposeFiles:
        """A compose file on this machine read as the local profile reads it (no manager
        policy): for tests and tools that call the parser directly."""
        return cls(os.path.abspath(os.path.expanduser(path)), LocalFiles(False, _no_resource))

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def base(self) -> Path:
        """The folder relative bind sources resolve against (meaningful on the host only): the
        compose file's folder as named, as docker resolves it."""
        return Path(self.named_folder)

    def compose_text(self) -> bytes:
        return self.files.read_bytes(self.path, self.field)

    def dotenv_text(self) -> str | None:
        """The `.env` beside the compose file, None when there is none."""
        if self.on_host:
            path = os.path.join(self.folder, ".env")
            if not os.path.isfile(path):
                return None
            return self.files.read_text(path, f"{self.field} ({self.name}): .env")
        try:
            return self.files.read_text(posixpath.join(self.folder, ".env"), ".env")
        except UserError:  # not in the blueprint
            return None

    def read_text(self, named: str, field: str) -> str:
        """A file the compose file names, by its final value (interpolated; `~` is expanded
        here): the path checked is the path opened."""
        if not named:
            raise UserError(f"{field}: an empty path")
        if is_host_path(named):
            return self.files.read_text(named, field)
        if self.on_host:
            return self.files.read_text(os.path.join(self.folder, named), field)
        return self.files.read_text(blueprint_path(self.folder, named, field), field)


def blueprint_path(folder: str, named: str, field: str) -> str:
    """`named` relative to `folder` inside the blueprint; refused when it leaves the blueprint."""
    path = posixpath.normpath(posixpath.join(folder, named))
    if path == ".." or path.startswith("../"):
        raise UserError(f"{field}: {named!r} points outside the blueprint")
    return path

