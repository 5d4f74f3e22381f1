"""Compose `ports` (short and long syntax, ranges) -> PortSpecs, sorted by published port as
the docker CLI sends them. Pure: no I/O, no ctx.

Bounds before work (issue 24, class 3): a range is measured from its two ends before a single
port of it is made, and one service publishes at most MAX_PORTS ports over all its entries
(docker takes `1-65535:1-65535`; a tenant's blueprint on a shared worker may not make it build
65535 specs, nor a list of such ranges). A port number has at most 5 digits."""
from __future__ import annotations

import logging
import re
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_swarm.compose import keys
from cloudify_swarm.spec.ports import PortSpec, parse_port

_SHORT = re.compile(r"^(?:(?:(?P<ip>[^:]*|\[[^\]]*\]):)?(?P<published>\d{1,5}(?:-\d{1,5})?)?:)?"
                    r"(?P<target>\d{1,5}(?:-\d{1,5})?)(?:/(?P<protocol>tcp|udp|sctp))?$")
LOGGER = logging.getLogger(__name__)
MAX_PORTS = 1000  # ports one compose service publishes, over all its `ports` entries


def _bounds(text: str, path: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    low, high = int(first), int(last or first)
    if high < low:
        raise UserError(f"{path}: the range {text!r} ends before it starts")
    return low, high


def short_ports(text: str, path: str, room: int = MAX_PORTS) -> list[dict[str, Any]]:
    """One short-syntax entry; its ranges are measured (at most `room` ports) before any port
    of them is made."""
    match = _SHORT.match(text)
    if not match:
        raise UserError(f"{path}: {text!r} is not [[IP:]PUBLISHED:]TARGET[/PROTOCOL]")
    low, high = _bounds(match.group("target"), path)
    first = None
    if match.group("published"):
        first, last = _bounds(match.group("published"), path)
        if last - first != high - low:
            raise UserError(f"{path}: {text!r}: the published and target ranges differ in size")
    if high - low + 1 > room:
        raise UserError(f"{path}: {text!r} publishes {high - low + 1} ports: a service publishes "
                        f"at most {MAX_PORTS} ports in all")
    protocol = match.group("protocol") or "tcp"
    if match.group("ip"):  # the address is not logged: it may come from a compose variable
        LOGGER.warning("%s: ignoring the host IP address: the service listens on 0.0.0.0", path)
    if first is None:
        return [{"target": t, "protocol": protocol} for t in range(low, high + 1)]
    return [{"target": t, "published": first + t - low, "protocol": protocol}
            for t in range(low, high + 1)]


def long_port(value: dict[str, Any], path: str) -> dict[str, Any]:
    keys.check_keys(value, keys.PORT_KEYS, path)
    port = {k: v for k, v in value.items() if not str(k).startswith("x-") and v is not None}
    for name in ("target", "published"):
        if isinstance(port.get(name), str) and port[name].isdigit():
            port[name] = int(port[name])
    return port


def parse_ports(value: Any, path: str) -> list[PortSpec]:
    if value is not None and not isinstance(value, list):
        raise UserError(f"{path}: expected a list")
    ports: list[PortSpec] = []
    for index, item in enumerate(value or []):
        where = f"{path}[{index}]"
        room = MAX_PORTS - len(ports)
        if room < 1:
            raise UserError(f"{where}: a service publishes at most {MAX_PORTS} ports in all")
        raw = ([long_port(item, where)] if isinstance(item, dict)
               else short_ports(str(item), where, room))
        ports.extend(parse_port(p, where) for p in raw)
    return sorted(ports, key=lambda p: p.published or 0)
