"""The whole Engine API ServiceSpec of a Swarm service: a Microservice's settings joined with its
Container's, its ports and the ownership labels, in the raw shape docker-py's low-level API sends
(the compose parser adds what only compose has: compose.engine_spec). Pure: no I/O, no ctx."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from cloudify_swarm.spec.container import ContainerSpec, container_api
from cloudify_swarm.spec.microservice import Microservice, SecretRef
from cloudify_swarm.spec.ports import PortSpec, check_ports, host_ports_held


def placement(service: Microservice) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if service.constraints:
        found["Constraints"] = list(service.constraints)
    if service.preferences:
        found["Preferences"] = [{"Spread": {"SpreadDescriptor": p.split("=", 1)[-1]}}
                                for p in service.preferences]
    return found


def file_refs(kind: str, refs: Iterable[tuple[str, dict[str, Any]]],
              ids: Mapping[str, str]) -> list[dict[str, Any]]:
    """The Secrets or Configs entries of a ContainerSpec (`kind`: 'Secret' or 'Config'): each
    object by its engine name, with the file it is mounted as (`refs`: (name, File) pairs) and
    its id, '' when it is not made yet (a stack's drift check of an object that is missing)."""
    return [{f"{kind}ID": ids.get(name, ""), f"{kind}Name": name, "File": file}
            for name, file in refs]


def mounted_file(ref: SecretRef) -> dict[str, Any]:
    """The file a Microservice's secret or config is mounted as: root's, read only."""
    return {"Name": ref.target or ref.name, "UID": "0", "GID": "0", "Mode": 0o444}


def update_config(service: Microservice, ports: list[PortSpec], keep_up: bool) -> dict[str, Any]:
    """The UpdateConfig to send. With `keep_up` (a Microservice, not a compose service, which
    keeps docker stack deploy's default), an update the user did not order starts each new task
    before it stops the old one, so the service never drops to zero running tasks (issue 25);
    Swarm's own default (stop-first) stays where host-mode ports make start-first impossible."""
    if not keep_up or "Order" in service.update_config or host_ports_held(ports):
        return dict(service.update_config)
    return {**service.update_config, "Order": "start-first"}


def note_update_order(logger: logging.Logger, service: Microservice, ports: list[PortSpec],
                      name: str) -> None:
    """Say so when an in-place update of the service cannot keep a task running."""
    held = host_ports_held(ports)
    if held and "Order" not in service.update_config:
        logger.info("service %s publishes host-mode port(s) %s: an in-place update stops each old "
                    "task before its new one starts (a host port is held by one task at a time)",
                    name, ", ".join(map(str, held)))


def build_service_spec(service: Microservice, name: str, container: ContainerSpec,
                       ports: list[PortSpec], labels: dict[str, str],
                       object_ids: dict[str, dict[str, str]] | None = None,
                       keep_up: bool = False) -> dict[str, Any]:
    """The Engine API ServiceSpec. `object_ids` maps kind ('Secret', 'Config') -> name -> id;
    `keep_up`: see update_config."""
    check_ports(ports, service.endpoint_mode, "ports")
    ids = object_ids or {}
    spec_container = container_api(container, labels)
    for kind, refs in (("Secret", service.secrets), ("Config", service.configs)):
        if refs:
            spec_container[f"{kind}s"] = file_refs(
                kind, [(r.name, mounted_file(r)) for r in refs], ids.get(kind, {}))
    task: dict[str, Any] = {"ContainerSpec": spec_container}
    optional = {"Placement": placement(service), "Resources": service.resources,
                "RestartPolicy": service.restart_policy}
    task.update({k: v for k, v in optional.items() if v})
    if service.networks:
        task["Networks"] = [{"Target": n.name, **({"Aliases": n.aliases} if n.aliases else {})}
                            for n in service.networks]
    spec: dict[str, Any] = {
        "Name": name,
        "Labels": {**service.labels, **labels},
        "TaskTemplate": task,
        "Mode": ({"Global": {}} if service.mode == "global"
                 else {"Replicated": {"Replicas": service.replicas}}),
        "EndpointSpec": {"Mode": service.endpoint_mode, "Ports": [p.api() for p in ports]},
    }
    update = update_config(service, ports, keep_up)
    if update:
        spec["UpdateConfig"] = update
    if service.rollback_config:
        spec["RollbackConfig"] = service.rollback_config
    return spec
