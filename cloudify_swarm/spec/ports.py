"""A Port's settings (a Port node's properties, a Microservice's `ports`, a compose service's
ports once parsed) and their Engine API shape. Pure: no I/O, no ctx."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.validation import Field, parse_mapping


def _port_number(value: int, path: str) -> int:
    if not 1 <= value <= 65535:
        raise UserError(f"{path}: {value} is not a port number (1-65535)")
    return value


PORT_FIELDS = {
    "target": Field((int,), required=True, check=_port_number),
    "published": Field((int,), check=_port_number),
    "protocol": Field((str,), default="tcp", choices=("tcp", "udp", "sctp")),
    "mode": Field((str,), default="ingress", choices=("ingress", "host")),
}


@dataclass(frozen=True)
class PortSpec:
    target: int
    published: int | None = None
    protocol: str = "tcp"
    mode: str = "ingress"

    def api(self) -> dict[str, Any]:
        port: dict[str, Any] = {"TargetPort": self.target, "Protocol": self.protocol,
                                "PublishMode": self.mode}
        if self.published is not None:
            port["PublishedPort"] = self.published
        return port


def parse_port(data: Any, path: str) -> PortSpec:
    return PortSpec(**parse_mapping(data, PORT_FIELDS, path))


def parse_ports(data: Any, path: str) -> list[PortSpec]:
    if not isinstance(data, list):
        raise UserError(f"{path}: expected a list of ports")
    return [parse_port(item, f"{path}[{i}]") for i, item in enumerate(data)]


def check_ports(ports: list[PortSpec], endpoint_mode: str, path: str) -> None:
    seen: set[tuple[int, str]] = set()
    for port in ports:
        if port.published is not None:
            key = (port.published, port.protocol)
            if key in seen:
                raise UserError(f"{path}: published port {port.published}/{port.protocol} "
                                "is used twice")
            seen.add(key)
        if endpoint_mode == "dnsrr" and port.mode == "ingress":
            raise UserError(f"{path}: port {port.target} uses ingress publishing, which "
                            "endpoint_mode 'dnsrr' does not allow (use mode: host)")


def host_ports_held(ports: list[PortSpec]) -> list[int]:
    """The published ports in host mode: a host port is held by one task at a time, so an
    update there must stop the old task before it starts the new one."""
    return sorted(p.published for p in ports if p.mode == "host" and p.published)
