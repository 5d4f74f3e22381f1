"""Parsing a DeploymentProxy's properties and operation inputs into frozen settings.

Service layer: plain Python, no ctx, no I/O. Every problem is a UserError naming the field by
its dotted path (`properties.wait_for.conditions[0].equals`); the tasks layer prefixes the node.
Credentials of the `manager` setting are registered as secrets the moment they are read.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.limits import duration
from cloudify_shared.redaction import register_secret
from cloudify_shared.validation import Field, parse_mapping, reject_unknown, type_name

# Runtime properties the proxy writes besides the copied outputs and capabilities.
RESERVED = ("deployment_id", "outputs_copied_at", "copied_outputs", "copied_capabilities")
# cloudify-utilities-plugin defines a type of the same name; a blueprint importing both plugins
# gets the one imported last, silently (dsl_parser lets any `cloudify.` type be redefined).
UTILITIES_HINT = (" (a node written for cloudify-utilities-plugin's cloudify.nodes.DeploymentProxy "
                  "(resource_config, client) gets this suite's type of the same name when "
                  "plugin:cloudify-vnf-suite is imported after that plugin)")
OPERATORS = ("equals", "not_equals", "contains", "not_contains", "greater_than",
             "greater_or_equal", "less_than", "less_or_equal", "length_at_least")
MISSING_DEPLOYMENT = ("fail", "wait")
# A Cloudify resource id, as the REST service checks a deployment id it creates
# (manager_rest.rest.rest_utils.validate_inputs: 1 to 256 characters, "only letters, digits and
# the characters '-', '.' and '_'"). It goes into REST paths (/deployments/<id>) and the local
# profile's storage paths as it is, so '.' alone and '..' anywhere are refused too.
RESOURCE_ID = re.compile(r"[A-Za-z0-9._-]{1,256}", re.ASCII)
MAX_ID_LENGTH = 256


@dataclass(frozen=True)
class Kind:
    """What the proxy copies: outputs or capabilities (the words its messages use)."""

    name: str       # output | capability
    plural: str     # outputs | capabilities
    setting: str    # the property that selects them
    record: str     # the runtime property listing what was copied

    def name_with_article(self) -> str:
        return f"an {self.name}" if self.name[0] in "aeiou" else f"a {self.name}"


OUTPUT = Kind("output", "outputs", "inherit_outputs", "copied_outputs")
CAPABILITY = Kind("capability", "capabilities", "inherit_capabilities", "copied_capabilities")


@dataclass(frozen=True)
class Condition:
    """A declarative comparison on one output (or a value inside it, by key path)."""

    output: str
    operator: str
    value: Any
    path: tuple[str | int, ...] = ()

    def describe(self) -> str:
        where = self.output + "".join(f"[{p!r}]" for p in self.path)
        return f"{where} {self.operator} {self.value!r}"


@dataclass(frozen=True)
class WaitFor:
    """What 'ready' means; every part that is set must hold."""

    install: bool = True                 # the upstream's latest install terminated
    outputs: tuple[str, ...] = ()        # these outputs exist and are not empty
    conditions: tuple[Condition, ...] = ()
    missing_deployment: str = "fail"     # or "wait": a deployment that does not exist yet

    def describe(self) -> str:
        parts = ["its install to finish"] if self.install else []
        if self.outputs:
            parts.append("outputs " + ", ".join(self.outputs) + " to be set")
        parts += [c.describe() for c in self.conditions]
        return " and ".join(parts) or "it to exist"


@dataclass(frozen=True)
class ManagerSettings:
    """How to reach a Cloudify manager's REST API. `public()` is safe to log."""

    host: str
    port: int | None = None
    protocol: str = "https"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    tenant: str = "default_tenant"
    ca_cert: str | None = None
    verify: bool = True
    request_timeout: float = 10.0

    def public(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "protocol": self.protocol,
                "tenant": self.tenant, "username": self.username, "ca_cert": self.ca_cert,
                "verify": self.verify}

    def base_url(self) -> str:
        """The URL the REST client calls, as cloudify_rest_client builds it
        (`{protocol}://{host}:{port}`, an IPv6 address in brackets, the protocol's port when
        none is given)."""
        port = self.port or (443 if self.protocol == "https" else 80)
        host = f"[{self.host}]" if _is_ipv6(self.host) else self.host
        return f"{self.protocol}://{host}:{port}"


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


@dataclass(frozen=True)
class ProxyConfig:
    deployment_id: str
    selection: tuple[tuple[str, str], ...] | None   # (output, runtime property); None = all
    capabilities: tuple[tuple[str, str], ...] | None  # the same for capabilities; () = none
    wait_for: WaitFor
    timeout: float
    poll_interval: float
    manager: ManagerSettings | None
    storage_dir: str | None
    log_values_of: tuple[str, ...] = ()  # outputs/capabilities whose values logs may show

    def shows(self, name: str) -> bool:
        """Whether logs may show the value of this output or capability (never by default:
        copied values may be secrets whose names do not look like one)."""
        return name in self.log_values_of

    @property
    def wants_capabilities(self) -> bool:
        return self.capabilities != ()


def _poll(value: float, path: str) -> float:
    duration(value, path)
    if not 0.05 <= value <= 60:
        raise UserError(f"{path}: must be between 0.05 and 60 seconds, got {value!r}")
    return value


def resource_id(value: str, path: str) -> str:
    """`value` if it is a Cloudify resource id (see RESOURCE_ID); else a UserError naming `path`."""
    if len(value) > MAX_ID_LENGTH:
        raise UserError(f"{path}: a deployment id is at most {MAX_ID_LENGTH} characters, got "
                        f"{len(value)}")
    if not RESOURCE_ID.fullmatch(value) or ".." in value or value == ".":
        raise UserError(f"{path}: {value!r} is not a Cloudify deployment id: only letters, digits "
                        f"and '-', '_', '.' (not '.' or '..' alone or together)")
    return value


PROXY_FIELDS = {
    "deployment_id": Field((str,), required=True),
    "inherit_outputs": Field((list, dict), default=[]),
    "inherit_capabilities": Field((list, dict), default=None),
    "wait_for": Field((dict,), default={}),
    "timeout": Field((float,), default=300.0, check=duration),
    "poll_interval": Field((float,), default=0.5, check=_poll),
    "manager": Field((dict,), default={}),
    "storage_dir": Field((str,), default=""),
    "log_values_of": Field((list,), default=[]),
}

WAIT_FOR_FIELDS = {
    "install": Field((bool,), default=True),
    "outputs": Field((list,), default=[]),
    "conditions": Field((list,), default=[]),
    "missing_deployment": Field((str,), default="fail", choices=MISSING_DEPLOYMENT),
}

MANAGER_FIELDS = {
    "host": Field((str,), required=True),
    "port": Field((int,)),
    "protocol": Field((str,), default="https", choices=("http", "https")),
    "username": Field((str,)),
    "password": Field((str,)),
    "token": Field((str,)),
    "tenant": Field((str,), default="default_tenant"),
    "ca_cert": Field((str,)),
    "verify": Field((bool,), default=True),
    "request_timeout": Field((float,), default=10.0, check=duration),
}


def parse_names(value: Any, path: str, kind: Kind = OUTPUT) -> tuple[str, ...]:
    names = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise UserError(f"{path}[{index}]: expected {kind.name_with_article()} name, "
                            f"got {type_name(item)}")
        names.append(item)
    return tuple(names)


def parse_selection(value: Any, path: str,
                    kind: Kind = OUTPUT) -> tuple[tuple[str, str], ...] | None:
    """A list of names, or a mapping name -> runtime property name; empty = all."""
    if not value:
        return None
    if isinstance(value, Mapping):
        pairs = []
        for name, prop in value.items():
            if not isinstance(prop, str) or not prop:
                raise UserError(f"{path}.{name}: expected a runtime property name, "
                                f"got {type_name(prop)}")
            pairs.append((str(name), prop))
    elif isinstance(value, list):
        pairs = [(name, name) for name in parse_names(value, path, kind)]
    else:
        raise UserError(f"{path}: expected a list of {kind.name} names or a mapping, "
                        f"got {type_name(value)}")
    check_targets([prop for _, prop in pairs], path, kind)
    return tuple(pairs)


def parse_capabilities(value: Any, path: str) -> tuple[tuple[str, str], ...] | None:
    """inherit_capabilities: null (the default) = none, i.e. (); [] or {} = all (None); else
    as inherit_outputs."""
    if value is None:
        return ()
    return parse_selection(value, path, CAPABILITY)


def check_targets(props: list[str], path: str, kind: Kind = OUTPUT) -> None:
    clashes = sorted(set(props) & set(RESERVED))
    if clashes:
        raise UserError(f"{path}: '{clashes[0]}' is reserved for the proxy's own runtime "
                        f"properties ({', '.join(RESERVED)}); map that {kind.name} to another "
                        f"name")
    duplicates = sorted({p for p in props if props.count(p) > 1})
    if duplicates:
        raise UserError(f"{path}: two {kind.plural} would land in runtime property "
                        f"'{duplicates[0]}'")


def parse_condition(data: Any, path: str) -> Condition:
    if not isinstance(data, Mapping):
        raise UserError(f"{path}: expected a mapping like {{output: ips, contains: 10.0.0.2}}, "
                        f"got {type_name(data)}")
    fields = {"output": Field((str,), required=True), "path": Field((list,), default=[])}
    reject_unknown(data, {**fields, **dict.fromkeys(OPERATORS)}, path)
    operators = [op for op in OPERATORS if op in data]
    values = parse_mapping({k: v for k, v in data.items() if k in fields}, fields, path)
    if len(operators) != 1:
        raise UserError(f"{path}: give exactly one comparison of {', '.join(OPERATORS)}; "
                        f"got {', '.join(operators) or 'none'}")
    for index, step in enumerate(values["path"]):
        if not isinstance(step, (str, int)) or isinstance(step, bool):
            raise UserError(f"{path}.path[{index}]: expected a key or an index, got {step!r}")
    op = operators[0]
    return Condition(values["output"], op, data[op], tuple(values["path"]))


def parse_wait_for(data: Any, path: str) -> WaitFor:
    values = parse_mapping(data, WAIT_FOR_FIELDS, path)
    conditions = tuple(parse_condition(item, f"{path}.conditions[{index}]")
                       for index, item in enumerate(values["conditions"]))
    return WaitFor(values["install"], parse_names(values["outputs"], f"{path}.outputs"),
                   conditions, values["missing_deployment"])


def parse_manager(data: Any, path: str) -> ManagerSettings | None:
    if not data:
        return None
    if isinstance(data, Mapping):
        for key in ("password", "token"):
            register_secret(data.get(key))
    values = parse_mapping(data, MANAGER_FIELDS, path)
    if values["token"] and (values["username"] or values["password"]):
        raise UserError(f"{path}: give either token or username/password, not both")
    if bool(values["username"]) != bool(values["password"]):
        raise UserError(f"{path}: username and password go together")
    return ManagerSettings(**values)


def is_unset(value: Any) -> bool:
    """An operation input left at its empty default does not override the property."""
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def parse_proxy(properties: Mapping[str, Any], inputs: Mapping[str, Any],
                path: str = "properties") -> ProxyConfig:
    """Node properties, with operation inputs (same names) taking precedence when set."""
    merged = {key: value for key, value in properties.items() if key in PROXY_FIELDS}
    merged.update({key: value for key, value in inputs.items()
                   if key in PROXY_FIELDS and not is_unset(value)})
    values = parse_mapping(merged, PROXY_FIELDS, path)
    if not values["deployment_id"].strip():
        raise UserError(f"{path}.deployment_id: required but empty{UTILITIES_HINT}")
    # create's deployment_id input (an alias of the property) is named as what it is
    id_path = ("inputs.deployment_id" if not is_unset(inputs.get("deployment_id"))
               else f"{path}.deployment_id")
    return ProxyConfig(
        deployment_id=resource_id(values["deployment_id"], id_path),
        selection=parse_selection(values["inherit_outputs"], f"{path}.inherit_outputs"),
        capabilities=parse_capabilities(values["inherit_capabilities"],
                                        f"{path}.inherit_capabilities"),
        wait_for=parse_wait_for(values["wait_for"], f"{path}.wait_for"),
        timeout=values["timeout"],
        poll_interval=values["poll_interval"],
        manager=parse_manager(values["manager"], f"{path}.manager"),
        storage_dir=values["storage_dir"] or None,
        log_values_of=parse_names(values["log_values_of"], f"{path}.log_values_of"),
    )
