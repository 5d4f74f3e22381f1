"""An Engine refusal of a stack's service, named with where it came from: the compose file, the
service and the key path the refused value most likely came from (issue 27).

The Engine names no compose key (it sees a ServiceSpec), so the key is read off the API field
or the word its message names, by the table below; when none matches, the refusal names the file
and the service only. The Engine's own words are kept whole after it. Pure: no I/O, no ctx.
"""
from __future__ import annotations

import re

from cloudify_shared.errors import UserError
from cloudify_swarm.engine_api import EngineRefused

# (what the Engine's message says, the compose key under services.<name>), first match wins
ENGINE_WORDS: tuple[tuple[str, str], ...] = (
    (r"constraint", "deploy.placement.constraints"),
    (r"placement preference|spread", "deploy.placement.preferences"),
    (r"max ?replicas", "deploy.placement.max_replicas_per_node"),
    (r"rollback ?config", "deploy.rollback_config"),
    (r"update ?config|parallelism|failure ?action|monitor", "deploy.update_config"),
    (r"restart ?policy", "deploy.restart_policy"),
    (r"memory|nanocpu|\bcpus?\b|generic resource|\bresources\b", "deploy.resources"),
    (r"mount|volume|\bbind\b|tmpfs|DriverConfig", "volumes"),
    (r"secret", "secrets"),
    (r"\bconfigs?\b", "configs"),
    (r"health ?check", "healthcheck"),
    (r"\bports?\b|endpoint ?spec", "ports"),
    (r"network|alias", "networks"),
    (r"replicas|\bmode\b", "deploy"),
    (r"sysctl", "sysctls"),
    (r"ulimit", "ulimits"),
    (r"log ?driver|logging", "logging"),
    (r"\bdns\b|nameserver", "dns"),
    (r"\bhosts?\b", "extra_hosts"),
    (r"capabilit", "cap_add"),
    (r"\benv", "environment"),
    (r"label", "labels"),
    (r"image|reference", "image"),
)


def refused_key(message: str) -> str | None:
    """The compose key (under the service) the Engine's message most likely points at."""
    for words, key in ENGINE_WORDS:
        if re.search(words, message, re.I):
            return key
    return None


def name_refusal(error: UserError, where: str, service: str) -> UserError:
    """`error` (an Engine refusal of the service) as a UserError naming the file, the service
    and the key path: `compose (stack.yml).services.web.deploy.placement.constraints: ...`."""
    key = refused_key(error.said if isinstance(error, EngineRefused) and error.said else str(error))
    path = f"{where}.services.{service}" + (f".{key}" if key else "")
    return UserError(f"{path}: the Docker Engine refused the service"
                     f"{'' if key else ' (the key is not known)'}: {error}")
