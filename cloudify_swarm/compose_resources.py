"""A compose file and the files it names, read under the local-file policy: a local copy of a
blueprint resource (and the config/secret/env files and the .env beside it), or a checked host
path; and the variables the stack parser takes (compose_options). Part of the
tasks layer (it reads the ctx it is handed); the compose parser (yaml) loads only when used.
"""
from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.local_files import is_host_path
from cloudify_shared.tasks import local_files, on_manager, resource_getter


def compose_options(ctx: Any, service: Any) -> dict[str, Any]:
    """The stack parser's variables and bind rule for this operation: the blueprint's
    compose_variables over, in the local profile only, the operation's environment (on a
    manager never the manager's own); relative bind sources only for a compose file on the host."""
    variables = {} if on_manager(ctx) else dict(os.environ)
    variables.update(service.compose_variables)
    return {"variables": variables, "relative_binds": is_host_path(service.compose_file)}


def copy_dotenv(ctx: Any, compose_file: str, folder: str) -> None:
    """The `.env` beside a blueprint-resource compose file, when the blueprint has one."""
    try:
        data = resource_getter(ctx)(posixpath.join(posixpath.dirname(compose_file), ".env"))
    except UserError:  # not in the blueprint
        return
    with open(os.path.join(folder, ".env"), "wb") as file:
        file.write(data)


@contextlib.contextmanager
def compose_copy(ctx: Any, compose_file: str) -> Iterator[str]:
    """A local copy of the compose file and the config/secret files it names beside it
    (blueprint resources), removed afterwards. A compose file given by absolute path is a host
    file under the local-file policy and is used where it is; every file a compose file names
    by absolute path, or beside a host compose file, is checked by the same policy."""
    from cloudify_swarm import stacks
    files = local_files(ctx)
    field = "properties.compose_file"
    if is_host_path(compose_file):
        path = files.host_path(compose_file, field)
        dotenv = os.path.join(os.path.dirname(path), ".env")
        for named in stacks.referenced_files(path) + ([".env"] if os.path.exists(dotenv) else []):
            files.host_path(os.path.join(os.path.dirname(path), named), f"{field} ({path}): file {named}")
        yield path
        return
    folder = tempfile.mkdtemp(prefix="vnf-compose-")
    try:
        target = os.path.join(folder, os.path.basename(compose_file))
        shutil.copyfile(ctx.download_resource(compose_file), target)
        copy_dotenv(ctx, compose_file, folder)
        for named in stacks.referenced_files(target):
            if os.path.isabs(named):
                files.host_path(named, f"{field} ({compose_file}): file {named}")
                continue
            local = os.path.normpath(os.path.join(folder, named))
            if not local.startswith(folder + os.sep):
                raise UserError(f"{field}: {named!r} points outside the blueprint")
            os.makedirs(os.path.dirname(local), exist_ok=True)
            source = posixpath.normpath(posixpath.join(posixpath.dirname(compose_file), named))
            shutil.copyfile(ctx.download_resource(source), local)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)
