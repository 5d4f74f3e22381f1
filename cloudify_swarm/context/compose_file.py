"""A compose file and the files it names for one operation, read under the local-file policy
(compose_files.ComposeFiles: each file checked by its final, interpolated value, where it is
opened), and the variables the stack parser takes (compose_options). Part of the tasks layer
(it reads the ctx it is handed); the compose parser (yaml) loads only when used.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from cloudify_shared.ctx_protocol import Ctx
from cloudify_shared.local_files import is_host_path
from cloudify_shared.redaction import register_secret
from cloudify_shared.tasks import local_files, on_manager
from cloudify_swarm.compose.files import ComposeFiles


def compose_options(ctx: Ctx, service: Any) -> dict[str, Any]:
    """The stack parser's variables and bind rule for this operation: the blueprint's
    compose_variables over, in the local profile only, the operation's environment (on a
    manager never the manager's own); relative bind sources only for a compose file on the host.
    Every compose_variables value is registered for redaction here, before the parser can log
    or raise (a value may come from get_secret; the parser's errors name variables, not values)."""
    for value in service.compose_variables.values():
        register_secret(value)
    variables = {} if on_manager(ctx) else dict(os.environ)
    variables.update(service.compose_variables)
    return {"variables": variables, "relative_binds": is_host_path(service.compose_file)}


@contextlib.contextmanager
def compose_copy(ctx: Ctx, compose_file: str) -> Iterator[ComposeFiles]:
    """The compose file `compose_file` names (a blueprint resource, or a host file under the
    local-file policy, checked here) and the files it names, each read when the parser opens it,
    by its interpolated value. (The name is older than this: nothing is copied any more; the
    files are read where they are, and nothing is left to remove.)"""
    yield ComposeFiles(compose_file, local_files(ctx))
