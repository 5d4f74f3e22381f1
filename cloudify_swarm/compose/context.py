"""What a compose service refers to beyond itself (the stack's objects, the compose file's
folder, the variables, where the files it names are read): ServiceContext, which the stack
parser (stack.py) makes once and the service, mount and reference parsers read. Pure."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudify_swarm.compose.files import ComposeFiles


@dataclass(frozen=True)
class ServiceContext:
    """What a service refers to: the stack, the compose file's folder, engine names of the
    declared objects ((kind, key) -> name), declared volumes' options, the variables; whether
    a relative bind source may be resolved (not for a compose file that is a blueprint
    resource); where the files it names are read, under the local-file policy."""

    stack: str
    base: Path
    names: dict[tuple[str, str], str]
    volumes: dict[str, dict[str, Any]]
    variables: Mapping[str, str]
    files: ComposeFiles
    relative_binds: bool = True
