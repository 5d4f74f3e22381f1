"""One compose service -> the Engine API settings `docker stack deploy` gives it.

Pure except reading the env_file files a service names, which it asks the compose file's
ComposeFiles for by their interpolated value (the path checked is the path opened). The core
(image, command, labels, replicas, placement, update config, ports) goes through the
Microservice/Container parsers a Microservice node uses (cloudify_swarm.spec); what only compose
has (env without a value, mounts with their options, healthcheck disable, extra_hosts, dns,
sysctls, ulimits, logging, pids, ...) is kept as raw Engine API fields in `StackService.extra`,
merged by engine_spec.stack_service_spec.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_swarm.compose import keys
from cloudify_swarm.compose.context import ServiceContext
from cloudify_swarm.compose.interpolation import parse_env_lines
from cloudify_swarm.compose.mounts import parse_mounts
from cloudify_swarm.compose.ports import parse_ports
from cloudify_swarm.compose.refs import network_driver_opts, parse_file_refs, service_networks
from cloudify_swarm.compose.strings import string_map
from cloudify_swarm.compose.values import (
    compose_duration,
    compose_str_list,
    integer,
    normalize_image,
    resources,
    restart_policy,
    update_config,
)
from cloudify_swarm.compose.versions import check_service_types
from cloudify_swarm.spec.container import ContainerSpec, parse_container
from cloudify_swarm.spec.microservice import Microservice, parse_microservice
from cloudify_swarm.spec.ports import PortSpec
from cloudify_swarm.spec.values import nanos


@dataclass(frozen=True)
class StackService:
    key: str
    settings: Microservice
    container: ContainerSpec
    ports: list[PortSpec]
    ignored: list[str] = field(default_factory=list)
    # raw Engine API fields: "container" -> ContainerSpec, "task" -> TaskTemplate, "service" -> spec
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)


def split_command(value: Any, path: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as error:
            raise UserError(f"{path}: {error}") from error
    return compose_str_list(value, path)


def capabilities(value: Any, path: str) -> list[str]:
    """cap_add / cap_drop as docker sends them: upper case, with the CAP_ prefix (ALL as it is)."""
    names = [name.upper() for name in compose_str_list(value or [], path)]
    return [name if name == "ALL" or name.startswith("CAP_") else f"CAP_{name}" for name in names]


def environment(service: dict[str, Any], c: ServiceContext, path: str) -> list[str]:
    """env_file entries (in order), then environment; a NAME without a value takes the
    variable of that name, or stays NAME alone; sorted, as docker sends them."""
    env: dict[str, str | None] = {}
    files = service.get("env_file") or []
    if not isinstance(files, (str, list)):
        raise UserError(f"{path}.env_file: expected a path or a list of paths")
    for index, name in enumerate([files] if isinstance(files, str) else files):
        field = f"{path}.env_file[{index}]"
        env.update(parse_env_lines(c.files.read_text(str(name), field), field, strip_quotes=False))
    env.update(string_map(service.get("environment"), f"{path}.environment", null_as=None))
    resolved = {k: (v if v is not None else c.variables.get(k)) for k, v in env.items()}
    return sorted(k if v is None else f"{k}={v}" for k, v in resolved.items())


def healthcheck(value: Any, path: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise UserError(f"{path}: expected a mapping")
    keys.check_keys(value, keys.HEALTHCHECK_KEYS, path, extensions=False)
    if value.get("disable"):
        if value.get("test"):
            raise UserError(f"{path}: test and disable can't be set at the same time")
        return {"Test": ["NONE"]}
    test = value.get("test")
    check: dict[str, Any] = {}
    if test is not None:
        check["Test"] = (["CMD-SHELL", test] if isinstance(test, str)
                         else compose_str_list(test, f"{path}.test"))
    for name, api in (("interval", "Interval"), ("timeout", "Timeout"),
                      ("start_period", "StartPeriod"), ("start_interval", "StartInterval")):
        if value.get(name) is not None:
            check[api] = nanos(compose_duration(value[name], f"{path}.{name}"))
    if value.get("retries") is not None:
        check["Retries"] = integer(value["retries"], f"{path}.retries")
    return check


def extra_hosts(value: Any, path: str) -> list[str]:
    """As docker's loader: a mapping (its null entries left out) sorted as HOST:IP, a list in
    order, each entry cut at its first `=`, else its first `:` (an entry with neither is left
    out, as docker leaves it); an IP's brackets taken off ([::1] -> ::1); sent as `IP HOST`."""
    if isinstance(value, dict):
        mapping = string_map(value, path, lists=False, null_as=None)
        pairs = sorted(f"{host}:{ip}" for host, ip in mapping.items() if ip is not None)
    else:
        pairs = []
        for item in compose_str_list(value or [], path):
            host, sep, ip = item.partition("=") if "=" in item else item.partition(":")
            if sep:
                pairs.append(f"{host}:{ip}")
    hosts = []
    for pair in pairs:
        host, _, ip = pair.partition(":")
        if len(ip) > 2 and ip[0] == "[" and ip[-1] == "]":
            ip = ip[1:-1]
        hosts.append(f"{ip} {host}")
    return hosts


def ulimits(value: Any, path: str) -> list[dict[str, Any]]:
    result = []
    if not isinstance(value, dict):
        raise UserError(f"{path}: expected a mapping of name -> limit or {{soft, hard}}")
    for name, limit in sorted(value.items()):
        if isinstance(limit, dict):
            keys.check_keys(limit, {"soft", "hard"}, f"{path}.{name}", extensions=False)
            result.append({"Name": name, "Hard": integer(limit.get("hard"), f"{path}.{name}.hard"),
                           "Soft": integer(limit.get("soft"), f"{path}.{name}.soft")})
        else:
            result.append({"Name": name, "Hard": integer(limit, f"{path}.{name}"),
                           "Soft": integer(limit, f"{path}.{name}")})
    return result


def credential_spec(value: Any, path: str) -> dict[str, str] | None:
    """file or registry (Windows gMSA); a config reference needs the config's id and is refused."""
    if not value:
        return None
    keys.check_keys(value, {"config", "file", "registry"}, path, extensions=False)
    if value.get("config"):
        raise UserError(f"{path}.config: not supported here (use file or registry)")
    return {api: str(value[k]) for k, api in (("file", "File"), ("registry", "Registry"))
            if value.get(k)}


def container_extra(service: dict[str, Any], c: ServiceContext, path: str) -> dict[str, Any]:
    # DNSConfig and Privileges as the docker CLI always sends them, empty when not set
    credentials = credential_spec(service.get("credential_spec"), f"{path}.credential_spec")
    extra: dict[str, Any] = {"Env": environment(service, c, path), "DNSConfig": {},
                             "Privileges": {"CredentialSpec": credentials,
                                            "SELinuxContext": None}}
    mounts = parse_mounts(service.get("volumes"), c, f"{path}.volumes")
    if mounts:
        extra["Mounts"] = mounts
    check = healthcheck(service.get("healthcheck"), f"{path}.healthcheck")
    if check is not None:
        extra["HealthCheck"] = check
    if service.get("extra_hosts"):
        extra["Hosts"] = extra_hosts(service["extra_hosts"], f"{path}.extra_hosts")
    for name, api in (("dns", "Nameservers"), ("dns_search", "Search")):
        if service.get(name):
            extra["DNSConfig"][api] = compose_str_list(service[name], f"{path}.{name}")
    if service.get("sysctls"):
        extra["Sysctls"] = string_map(service["sysctls"], f"{path}.sysctls")
    if service.get("ulimits"):
        extra["Ulimits"] = ulimits(service["ulimits"], f"{path}.ulimits")
    if service.get("stdin_open"):
        extra["OpenStdin"] = True
    if service.get("isolation"):
        extra["Isolation"] = str(service["isolation"])
    return extra


def task_extra(service: dict[str, Any], deploy: dict[str, Any], path: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    logging = service.get("logging")
    if logging is not None:
        keys.check_keys(logging, keys.LOGGING_KEYS, f"{path}.logging", extensions=False)
        options = (string_map(logging["options"], f"{path}.logging.options", lists=False)
                   if logging.get("options") else None)
        extra["LogDriver"] = {"Name": logging.get("driver") or "",
                              **({"Options": options} if options is not None else {})}
    policy = restart_policy(service.get("restart"), deploy.get("restart_policy"), path)
    if policy:
        extra["RestartPolicy"] = policy
    limits = resources(deploy.get("resources"), f"{path}.deploy.resources")
    if limits:
        extra["Resources"] = limits
    return extra


def preferences(value: Any, path: str) -> list[str]:
    result = []
    for index, item in enumerate(value or []):
        keys.check_keys(item, {"spread"}, f"{path}[{index}]", extensions=False)
        result.append(f"spread={item.get('spread')}")
    return result


def deploy_settings(deploy: dict[str, Any], path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Microservice settings from deploy, and the Placement the Microservice cannot say."""
    keys.check_keys(deploy, keys.DEPLOY_KEYS, path, extensions=False)
    placement = deploy.get("placement") or {}
    keys.check_keys(placement, keys.PLACEMENT_KEYS, f"{path}.placement", extensions=False)
    settings: dict[str, Any] = {
        "constraints": compose_str_list(placement.get("constraints") or [],
                                        f"{path}.placement.constraints"),
        "preferences": preferences(placement.get("preferences"), f"{path}.placement.preferences"),
        "labels": string_map(deploy.get("labels"), f"{path}.labels"),
    }
    for name in ("mode", "endpoint_mode"):
        if deploy.get(name) is not None:
            settings[name] = deploy[name]
    if deploy.get("replicas") is not None:
        settings["replicas"] = integer(deploy["replicas"], f"{path}.replicas")
    extra: dict[str, Any] = {}
    if placement.get("max_replicas_per_node") is not None:
        extra["MaxReplicas"] = integer(placement["max_replicas_per_node"],
                                       f"{path}.placement.max_replicas_per_node")
    return settings, extra


def container_settings(value: dict[str, Any], path: str) -> ContainerSpec:
    """The service's Container settings, through the parser a Container node's go through."""
    grace = value.get("stop_grace_period")
    return parse_container({
        "image": normalize_image(value.get("image"), f"{path}.image"),
        "entrypoint": split_command(value.get("entrypoint"), f"{path}.entrypoint"),
        "command": split_command(value.get("command"), f"{path}.command"),
        "labels": string_map(value.get("labels"), f"{path}.labels"),
        "workdir": value.get("working_dir"), "user": value.get("user"),
        "hostname": value.get("hostname"),
        "stop_grace_period": (compose_duration(grace, f"{path}.stop_grace_period")
                              if grace is not None else None),
        **{k: value.get(k) for k in ("stop_signal", "init") if value.get(k) is not None},
        **{k: capabilities(value.get(k), f"{path}.{k}") for k in ("cap_add", "cap_drop")},
        **{k: bool(value.get(k)) for k in ("tty", "read_only")},
    }, path)


def parse_service(key: str, value: Any, c: ServiceContext, path: str) -> StackService:
    if not isinstance(value, dict):
        raise UserError(f"{path}: expected a mapping")
    keys.check_keys(value, keys.SERVICE_USED | keys.SERVICE_IGNORED, path)
    check_service_types(value, path)
    deploy = value.get("deploy") or {}
    settings, placement = deploy_settings(deploy, f"{path}.deploy")
    settings["networks"] = service_networks(value.get("networks"), key, c.names, f"{path}.networks")
    microservice = parse_microservice(settings, f"{path}.deploy")
    container = container_settings(value, path)
    task = task_extra(value, deploy, path)
    if placement:
        task["Placement"] = placement
    service_extra = {name: update_config(deploy[key_], f"{path}.deploy.{key_}")
                     for key_, name in (("update_config", "UpdateConfig"),
                                        ("rollback_config", "RollbackConfig"))
                     if deploy.get(key_) is not None}
    extra = {"container": container_extra(value, c, path), "task": task, "service": service_extra,
             "labels": {"com.docker.stack.image": str(value.get("image") or "")},
             "network_opts": network_driver_opts(value.get("networks"), c.names,
                                                 f"{path}.networks"),
             "refs": {f"{kind.title()}s": parse_file_refs(value.get(f"{kind}s"), kind, c.names,
                                                          f"{path}.{kind}s")
                      for kind in ("secret", "config")}}
    ports = parse_ports(value.get("ports"), f"{path}.ports")
    return StackService(key, microservice, container, ports, keys.ignored_keys(value), extra)

