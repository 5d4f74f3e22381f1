"""Which subnet the example's router VNF may route toward without taking the host's own traffic
(issue 25): the router runs with host networking, so its routes land in the host's routing table,
and a route to a subnet the host really talks to (its package mirrors, DNS servers, proxies, its
own networks) would capture that traffic until the chain is removed. On some machines the
documentation ranges (TEST-NET-1/2/3) are real: this one resolves its package registries into
203.0.113.0/24 and sits in 192.0.2.0/24.

`reached_networks()` lists what the host reaches (its addresses and routes, except the default
route, its name servers, the addresses /etc/hosts pins, the hosts its apt sources, pip indexes
and proxy variables name, resolved); `free_subnet()` picks the first candidate that holds none
of them; `check_subnet()` refuses a subnet that does, saying what it would capture.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 2544's benchmarking range first (never a destination on the Internet, rarely on a LAN),
# then the documentation ranges.
CANDIDATES = ("198.18.0.0/24", "198.19.0.0/24", "203.0.113.0/24", "192.0.2.0/24")
# the router's own link to its next hop (examples/blueprints/service/resources/router.yaml)
ROUTER_LINK = "198.51.100.0/30"
ROUTER_DEVICE = "vnf-rt0"
PACKAGE_HOSTS = ("deb.debian.org", "security.debian.org", "pypi.org", "files.pythonhosted.org",
                 "registry.npmjs.org")


class SubnetInUse(Exception):
    """The subnet holds something the host reaches."""


def _ip_json(*args: str) -> list[dict[str, object]]:
    proc = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=False)
    return list(json.loads(proc.stdout or "[]")) if proc.returncode == 0 else []


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _resolve(host: str) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except (OSError, UnicodeError):
        return []


def _source_hosts() -> Iterable[str]:
    """The hosts apt sources, pip indexes and proxy variables name."""
    texts = [p.read_text(errors="replace") for p in [*Path("/etc/apt").glob("sources.list*"),
                                                     *Path("/etc/apt/sources.list.d").glob("*"),
                                                     Path("/etc/pip.conf")] if p.is_file()]
    texts += [value for key, value in os.environ.items() if key.lower().endswith("_proxy")]
    for text in texts:
        for url in re.findall(r"[a-z][a-z0-9+.-]*://[^\s'\"]+", text):
            host = urlsplit(url).hostname
            if host:
                yield host


def _routes_and_addresses() -> dict[str, str]:
    reached: dict[str, str] = {}
    for route in _ip_json("route", "show", "table", "all"):
        dst, dev = str(route.get("dst", "")), str(route.get("dev", ""))
        if dst not in ("default", "") and dev != ROUTER_DEVICE and _network(dst):
            reached[dst] = f"a route of the host (dev {dev})"
    for link in _ip_json("addr", "show"):
        infos = link.get("addr_info")
        for info in (infos if isinstance(infos, list) and link.get("ifname") != ROUTER_DEVICE
                     else []):
            reached[f"{info.get('local')}/{info.get('prefixlen')}"] = (
                f"the network of {link.get('ifname')}")
    return reached


def _pinned_names() -> dict[str, str]:
    """Name servers (/etc/resolv.conf) and the addresses /etc/hosts pins."""
    reached: dict[str, str] = {}
    for path, keep in ((Path("/etc/resolv.conf"), "nameserver"), (Path("/etc/hosts"), None)):
        for line in path.read_text().splitlines() if path.exists() else []:
            words = line.split("#")[0].split()
            if keep and len(words) > 1 and words[0] == keep:
                reached[words[1]] = f"a name server ({path})"
            elif not keep and len(words) > 1:
                reached[words[0]] = f"{words[1]} ({path})"
    return reached


def reached_networks() -> dict[str, str]:
    """Each network or address the host reaches, and why (for the refusal)."""
    reached = {**_routes_and_addresses(), **_pinned_names()}
    for host in {*PACKAGE_HOSTS, *_source_hosts()}:
        for address in _resolve(host):
            reached[address] = f"{host} (a package source or proxy)"
    return reached


def conflicts(subnet: str, reached: dict[str, str] | None = None) -> list[str]:
    """What `subnet` would capture: 'ADDRESS-OR-NETWORK: why' for each overlap."""
    wanted = ipaddress.ip_network(subnet, strict=False)
    found = []
    for text, why in (reached if reached is not None else reached_networks()).items():
        network = _network(text)
        if network is not None and network.version == wanted.version and network.overlaps(wanted):
            found.append(f"{text}: {why}")
    return found


def check_subnet(subnet: str, reached: dict[str, str] | None = None) -> None:
    reached = reached if reached is not None else reached_networks()
    for name, wanted in (("backend subnet", subnet), ("router link", ROUTER_LINK)):
        found = conflicts(wanted, reached)
        if found:
            raise SubnetInUse(f"the {name} {wanted} holds what this host reaches, so the router's "
                              f"route would capture its traffic: {'; '.join(found[:5])}. Choose "
                              "another with DEMO_BACKEND_SUBNET=<cidr>")


def free_subnet(candidates: Iterable[str] = CANDIDATES) -> str:
    """The first candidate that holds nothing the host reaches (SubnetInUse if none)."""
    reached = reached_networks()
    tried = []
    for candidate in candidates:
        try:
            check_subnet(candidate, reached)
            return candidate
        except SubnetInUse as error:
            tried.append(str(error))
    raise SubnetInUse("no candidate subnet is free on this host: " + " | ".join(tried))


def package_sources_via_router() -> list[str]:
    """The package hosts whose traffic the host now routes through the router's device (it
    must be none while the example chain runs)."""
    captured = []
    for host in PACKAGE_HOSTS:
        for address in _resolve(host):
            for route in _ip_json("route", "get", address):
                if route.get("dev") == ROUTER_DEVICE:
                    captured.append(f"{host} ({address})")
    return captured


def package_download_works(folder: Path, attempts: int = 3) -> bool:
    """Whether apt can download a package from the host's own sources (retried with backoff:
    a registry may refuse connections for a minute)."""
    for attempt in range(attempts):
        proc = subprocess.run(["apt-get", "download", "-q", "hello"], cwd=folder,
                              capture_output=True, text=True, check=False, timeout=120)
        if proc.returncode == 0:
            return True
        time.sleep(10 * 2 ** attempt)
    return False
