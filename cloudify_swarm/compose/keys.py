"""The keys a compose 3.x file may use, as `docker stack deploy` takes them.

Pure. `SERVICE_IGNORED` are keys the docker CLI accepts and Swarm does not use: it prints them
as "Ignoring unsupported options" / "Ignoring deprecated options" (build, links, privileged,
container_name, expose, ...) or drops them without a word (depends_on, tmpfs, ...).
We accept them, never refuse them, and log every one by name. Any other key is a typo and
fails naming it, as docker's schema does. `x-` keys (extensions) are allowed at the top and
in services, networks, volumes, configs and secrets. `restart` (listed by docker as unsupported)
is used as docker uses it: the restart policy when deploy.restart_policy is not set.
"""
from __future__ import annotations

from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.validation import reject_unknown

TOP_KEYS = {"version", "services", "networks", "volumes", "configs", "secrets"}
SERVICE_USED = {
    "image", "command", "entrypoint", "environment", "env_file", "labels", "ports", "networks",
    "volumes", "configs", "secrets", "working_dir", "user", "hostname", "healthcheck",
    "stop_grace_period", "stop_signal", "cap_add", "cap_drop", "init", "tty", "stdin_open",
    "read_only", "deploy", "extra_hosts", "dns", "dns_search", "sysctls", "ulimits", "logging",
    "isolation", "credential_spec", "restart",
}
# printed by docker as unsupported (the CLI's loader list) or deprecated, or silently unused
SERVICE_IGNORED = {
    "build", "cgroupns_mode", "cgroup_parent", "devices", "domainname", "external_links", "ipc",
    "links", "mac_address", "network_mode", "pid", "privileged", "security_opt",
    "shm_size", "userns_mode", "container_name", "expose", "depends_on", "tmpfs",
}
DEPLOY_KEYS = {"mode", "replicas", "labels", "placement", "resources", "restart_policy",
               "update_config", "rollback_config", "endpoint_mode"}
PLACEMENT_KEYS = {"constraints", "preferences", "max_replicas_per_node"}
RESOURCE_KEYS = {"limits": {"cpus", "memory"},
                 "reservations": {"cpus", "memory", "generic_resources"}}
RESTART_KEYS = {"condition", "delay", "max_attempts", "window"}
UPDATE_KEYS = {"parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order"}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval",
                    "disable"}
LOGGING_KEYS = {"driver", "options"}
PORT_KEYS = {"target", "published", "protocol", "mode"}
MOUNT_KEYS = {"type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs"}
FILE_REF_KEYS = {"source", "target", "uid", "gid", "mode"}
SERVICE_NETWORK_KEYS = {"aliases", "ipv4_address", "ipv6_address", "driver_opts"}
NETWORK_KEYS = {"driver", "driver_opts", "ipam", "external", "internal", "attachable", "labels",
                "name"}
VOLUME_KEYS = {"driver", "driver_opts", "external", "labels", "name"}
FILE_KEYS = {"file", "external", "labels", "name", "template_driver", "driver", "driver_opts"}


def check_keys(data: dict[str, Any], known: set[str], path: str, extensions: bool = True) -> None:
    """A mapping whose every key is known (or an x- extension); else a UserError naming the
    first unknown key."""
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping, got {type(data).__name__}")
    keys = {k: None for k in data if not (extensions and str(k).startswith("x-"))}
    reject_unknown(keys, dict.fromkeys(known), path)


def ignored_keys(service: dict[str, Any]) -> list[str]:
    return sorted(k for k in service if k in SERVICE_IGNORED)
