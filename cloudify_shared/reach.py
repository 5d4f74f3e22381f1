"""What a blueprint may reach (issue 24): the manager administrator's allowlists of endpoints.

On a manager, the mgmtworker runs every tenant's operations as one OS user of the manager host,
so an endpoint a blueprint names (a Docker Engine, a Kubernetes API server, an SSH host, another
Cloudify manager, a chart repository or registry) is used with the manager host's own network
position. There every endpoint must match an entry of the setting of its kind, an environment
variable of the mgmtworker (a setting of the manager host: no blueprint, input or tenant can
change it). Unset or empty means nothing is allowed. In the local profile (the operator's own
machine) everything is allowed, as before.

An entry is `[SCHEME://]HOST[:PORT]` or `unix:///PATH`, entries separated by spaces or commas:
- HOST is a name (`k8s.example.net`, compared without case), an IP address, a network
  (`10.20.0.0/16`), a wildcard domain (`*.example.net`) or `*` (any host);
- without SCHEME the entry allows every scheme of the kind, without PORT every port;
- `unix:///PATH` allows a Unix socket by its real path (symlinks resolved on both sides).
The manager's own host (a Unix socket, a loopback or unspecified address, an address of one of
the host's own interfaces, or a name that resolves to one) is reached only through an entry that
names it: a socket path, the address, a network that holds it, or the exact name. `*` and
`*.domain` never reach it. The check runs on the value that is used (the server of the kubeconfig
context the client loads, the URL the REST client calls), and on every address a name resolves
to; a name resolved again by the client later may answer otherwise (DNS rebinding is not
stopped here: allow names whose DNS you trust, or addresses).

Plain Python: no ctx. The tasks layer says whether the operation runs on a manager.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from cloudify_shared.errors import UserError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Kind:
    """One kind of endpoint: what it is called in messages, its setting and default port."""

    noun: str
    setting: str
    schemes: tuple[str, ...]
    default_ports: Mapping[str, int]


DOCKER = Kind("Docker Engine", "CLOUDIFY_VNF_ALLOWED_DOCKER_HOSTS", ("unix", "tcp", "ssh"),
              {"tcp": 2375, "ssh": 22})
KUBERNETES = Kind("Kubernetes API server", "CLOUDIFY_VNF_ALLOWED_KUBERNETES_APIS", ("https",),
                  {"https": 443})
SSH = Kind("SSH host", "CLOUDIFY_VNF_ALLOWED_SSH_HOSTS", ("ssh",), {"ssh": 22})
MANAGER = Kind("Cloudify manager", "CLOUDIFY_VNF_ALLOWED_MANAGERS", ("https", "http"),
               {"https": 443, "http": 80})
CHARTS = Kind("chart repository or registry", "CLOUDIFY_VNF_ALLOWED_CHART_SOURCES",
              ("https", "http", "oci"), {"https": 443, "http": 80, "oci": 443})
KINDS = (DOCKER, KUBERNETES, SSH, MANAGER, CHARTS)


@dataclass(frozen=True)
class Target:
    """An endpoint as it will be used: scheme, host and port, or a Unix socket's path."""

    scheme: str
    host: str = ""
    port: int = 0
    path: str = ""

    def describe(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class Entry:
    """One allowlist entry (see the module docstring)."""

    text: str
    scheme: str | None
    host: str          # a name, an address, a network, '*.domain' or '*' ('' for unix)
    port: int | None
    path: str = ""     # unix sockets: the real path

    def matches(self, target: Target, addresses: tuple[Address, ...], own_host: bool) -> bool:
        if self.scheme is not None and self.scheme != target.scheme:
            return False
        if target.scheme == "unix":
            return bool(self.path) and self.path == os.path.realpath(target.path)
        if self.path or (self.port is not None and self.port != target.port):
            return False
        return self._host_matches(target.host.lower(), addresses, own_host)

    def _host_matches(self, host: str, addresses: tuple[Address, ...], own_host: bool) -> bool:
        if self.host == "*":
            return not own_host
        if self.host.startswith("*."):
            return not own_host and host.endswith(self.host[1:])
        network = _network(self.host)
        if network is not None:
            return bool(addresses) and all(a in network for a in addresses)
        return host == self.host


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        return None


def parse_target(value: str, kind: Kind, default_scheme: str | None = None) -> Target:
    """The endpoint `value` names (`scheme://host:port/...`, or `host[:port]` with the kind's
    default scheme); a ValueError when it names none."""
    if "://" not in value:
        if default_scheme is None:
            raise ValueError("no scheme")
        value = f"{default_scheme}://{value}"
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme == "unix":
        if not parts.path.startswith("/"):
            raise ValueError("a unix socket needs an absolute path")
        return Target("unix", path=parts.path)
    host = parts.hostname or ""
    if not host:
        raise ValueError("no host")
    port = parts.port or kind.default_ports.get(scheme, 0)
    return Target(scheme, host.lower(), port)


def parse_entry(text: str) -> Entry:
    """An allowlist entry; a ValueError for one that is not of the documented form."""
    scheme: str | None = None
    rest = text
    if "://" in text:
        scheme, rest = text.split("://", 1)
        scheme = scheme.lower()
        if scheme == "unix":
            if not rest.startswith("/"):
                raise ValueError("a unix entry needs an absolute path")
            return Entry(text, "unix", "", None, os.path.realpath(rest))
    rest = rest.rstrip("/")
    host, port = rest, None
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = int(tail[1:]) if tail.startswith(":") else None
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
        port = None if port_text in ("", "*") else int(port_text)
    if not host or "/" in host and _network(host) is None:
        raise ValueError("no host")
    return Entry(text, scheme, host.lower(), port)


def parse_entries(text: str) -> tuple[tuple[Entry, ...], tuple[str, ...]]:
    """The entries of a setting's value, and the words that are not entries (ignored, named
    in a refusal so that an administrator sees a typo)."""
    entries: list[Entry] = []
    bad: list[str] = []
    for word in text.replace(",", " ").split():
        try:
            entries.append(parse_entry(word))
        except ValueError:
            bad.append(word)
    return tuple(entries), tuple(bad)


def resolve(host: str) -> tuple[Address, ...]:
    """Every address `host` names (itself, if it is one); () when it does not resolve."""
    try:
        return (ipaddress.ip_address(host.strip("[]")),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()
    found = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return tuple(sorted(found, key=str))


def is_own_address(address: Address) -> bool:
    """Whether `address` reaches this host: loopback, unspecified, or bound to one of its
    interfaces (a socket can bind to exactly the host's own addresses)."""
    if address.is_loopback or address.is_unspecified:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_own_address(address.ipv4_mapped)
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(address), 0))
        return True
    except OSError:
        return False


Resolver = Callable[[str], tuple[Address, ...]]
OwnAddress = Callable[[Address], bool]


@dataclass(frozen=True)
class ReachPolicy:
    """The allowlists one operation runs under (`for_operation`), checked by `check`."""

    on_manager: bool
    entries: Mapping[str, tuple[Entry, ...]]
    ignored: Mapping[str, tuple[str, ...]]
    resolver: Resolver = resolve
    own_address: OwnAddress = is_own_address

    @classmethod
    def for_operation(cls, on_manager: bool,
                      environ: Mapping[str, str] = os.environ) -> ReachPolicy:
        entries: dict[str, tuple[Entry, ...]] = {}
        ignored: dict[str, tuple[str, ...]] = {}
        for kind in KINDS:
            entries[kind.setting], ignored[kind.setting] = parse_entries(
                environ.get(kind.setting, ""))
        return cls(on_manager, entries, ignored)

    def check(self, kind: Kind, value: str, field: str,
              default_scheme: str | None = None) -> Target:
        """The target `value` names, if the policy allows it; else a UserError naming the
        field, the value and the setting. Nothing is checked in the local profile (but the
        value must still name an endpoint)."""
        try:
            target = parse_target(value, kind, default_scheme)
        except ValueError as error:
            raise UserError(f"{field}: {value!r} does not name a {kind.noun} ({error})") from None
        if not self.on_manager:
            return target
        if target.scheme not in kind.schemes:
            raise UserError(f"{field}: {value!r}: the scheme {target.scheme}:// is not one a "
                            f"{kind.noun} is reached by ({', '.join(kind.schemes)})")
        addresses = () if target.scheme == "unix" else self.resolver(target.host)
        own_host = target.scheme == "unix" or any(self.own_address(a) for a in addresses)
        if any(entry.matches(target, addresses, own_host)
               for entry in self.entries.get(kind.setting, ())):
            return target
        raise UserError(self._refusal(kind, value, target, field, own_host))

    def _refusal(self, kind: Kind, value: str, target: Target, field: str, own_host: bool) -> str:
        allowed = " ".join(e.text for e in self.entries.get(kind.setting, ())) or "none"
        bad = self.ignored.get(kind.setting, ())
        ignored = f"; entries not understood and ignored: {' '.join(bad)}" if bad else ""
        where = (" (the manager's own host: only an entry that names it exactly allows it, "
                 "never '*')") if own_host else ""
        return (f"{field}: {value!r} ({target.describe()}) is a {kind.noun} that this manager "
                f"does not allow blueprints to reach{where}. A manager administrator allows "
                f"{kind.noun}s by listing them in {kind.setting} in the mgmtworker's "
                f"environment (allowed now: {allowed}{ignored})")


LOCAL = ReachPolicy(False, {}, {})


def describe_settings(environ: Mapping[str, str] = os.environ) -> Iterable[str]:
    """One line per setting with its value, for the harness's status output."""
    for kind in KINDS:
        yield f"{kind.setting}={environ.get(kind.setting, '')}"
