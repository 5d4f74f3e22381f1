"""Names of what one node instance owns, when a node has several instances. Pure: no I/O, no ctx.

The rule (decided once, when the instance first creates, and recorded in its runtime property
`name_suffix` for its whole life, across reinstall and heal):
- an instance that is its node's only instance when it first creates keeps today's names:
  the service `properties.name` (or `<node>-<deployment>`), the stack `properties.stack_name`,
  and the networks/secrets/configs it creates under their own names;
- otherwise (`instances: {deploy: N}` with N > 1, or an instance added by the scale workflow)
  every name it creates gets `-<suffix>` (cloudify_shared.naming), the random part of its id
  (`app_x7k2p9` -> `app-dep-x7k2p9`, network `front-x7k2p9`). Objects it only refers to
  (`create: false`, external ones) are shared and keep their names.
A published port cannot be shared by two instances (each is a service of its own): with a
suffix, a port with `published` set is a UserError naming the node and the field.
"""
from __future__ import annotations

import dataclasses

from cloudify_shared.errors import UserError
from cloudify_swarm.spec.microservice import Microservice, SecretRef
from cloudify_swarm.spec.ports import PortSpec

MAX_NAME = 63


def suffixed(name: str, suffix: str) -> str:
    """`name` + `suffix`, the name shortened so the whole stays within 63 characters."""
    if not suffix:
        return name
    return name[:MAX_NAME - len(suffix)].rstrip("-_.") + suffix


def _rename(refs: list[SecretRef], suffix: str) -> list[SecretRef]:
    # the file a secret/config is mounted as keeps its name: the container sees no difference
    return [dataclasses.replace(r, name=suffixed(r.name, suffix), target=r.target or r.name)
            if r.create else r for r in refs]


def for_instance(service: Microservice, suffix: str) -> Microservice:
    """The Microservice settings with this instance's names for what it creates."""
    if not suffix:
        return service
    networks = [dataclasses.replace(n, name=suffixed(n.name, suffix)) if n.create else n
                for n in service.networks]
    return dataclasses.replace(
        service, name=suffixed(service.name, suffix) if service.name else "",
        stack_name=suffixed(service.stack_name, suffix) if service.stack_name else "",
        networks=networks, secrets=_rename(service.secrets, suffix),
        configs=_rename(service.configs, suffix))


def check_shared_ports(ports: list[tuple[PortSpec, str]], suffix: str) -> None:
    """With several instances, no instance may publish a fixed port (two services cannot).
    `ports`: each port with the path it came from (e.g. 'properties.ports[0]')."""
    if not suffix:
        return
    for port, path in ports:
        if port.published is not None:
            raise UserError(
                f"{path}.published: port {port.published}/{port.protocol} "
                f"({port.mode} mode) cannot be published by several instances of this node "
                "(each instance is a service of its own): leave published unset or deploy "
                "one instance")
