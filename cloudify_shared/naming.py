"""How an instance of a node with several instances names what it makes: one rule for the
Kubernetes Microservice's objects, the HelmRelease's release name and the Swarm services,
networks, secrets and configs. Pure: no I/O, no ctx.
"""
from __future__ import annotations

import re

_INVALID = re.compile(r"[^a-z0-9]")


def instance_suffix(instance_id: str, number_of_instances: int) -> str:
    """'' for a node's only instance; else '-' + the random part of the instance id, lower-case
    and DNS-safe (instance 'web_x8u01s' -> '-x8u01s'), so that no two instances' names collide
    and each is a valid Kubernetes and Docker name."""
    if number_of_instances <= 1:
        return ""
    random_part = _INVALID.sub("", instance_id.rsplit("_", 1)[-1].lower())
    return f"-{random_part or _INVALID.sub('', instance_id.lower())[-8:]}"
