"""Compose `ports` (short and long syntax, ranges) -> PortSpecs, sorted by published port as
the docker CLI sends them. Pure: no I/O, no ctx."""
from __future__ import annotations

import logging
import re
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_swarm import compose_keys as keys
from cloudify_swarm.spec import PortSpec, parse_port

_SHORT = re.compile(r"^(?:(?:(?P<ip>[^:]*|\[[^\]]*\]):)?(?P<published>\d+(?:-\d+)?)?:)?"
                    r"(?P<target>\d+(?:-\d+)?)(?:/(?P<protocol>tcp|udp|sctp))?$")
LOGGER = logging.getLogger(__name__)


def _range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def short_ports(text: str, path: str) -> list[dict[str, Any]]:
    match = _SHORT.match(text)
    if not match:
        raise UserError(f"{path}: {text!r} is not [[IP:]PUBLISHED:]TARGET[/PROTOCOL]")
    targets = _range(match.group("target"))
    protocol = match.group("protocol") or "tcp"
    if match.group("ip"):
        LOGGER.warning("%s: ignoring IP-address (%s): the service listens on 0.0.0.0", path, text)
    if not match.group("published"):
        return [{"target": t, "protocol": protocol} for t in targets]
    published = _range(match.group("published"))
    if len(published) != len(targets):
        raise UserError(f"{path}: {text!r}: the published and target ranges differ in size")
    return [{"target": t, "published": p, "protocol": protocol} for t, p in zip(targets, published, strict=True)]


def long_port(value: dict[str, Any], path: str) -> dict[str, Any]:
    keys.check_keys(value, keys.PORT_KEYS, path)
    port = {k: v for k, v in value.items() if not str(k).startswith("x-") and v is not None}
    for name in ("target", "published"):
        if isinstance(port.get(name), str) and port[name].isdigit():
            port[name] = int(port[name])
    return port


def parse_ports(value: Any, path: str) -> list[PortSpec]:
    ports: list[PortSpec] = []
    for index, item in enumerate(value or []):
        where = f"{path}[{index}]"
        raw = [long_port(item, where)] if isinstance(item, dict) else short_ports(str(item), where)
        ports.extend(parse_port(p, where) for p in raw)
    return sorted(ports, key=lambda p: p.published or 0)
