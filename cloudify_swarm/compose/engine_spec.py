"""A parsed stack service -> the Engine API ServiceSpec `docker stack deploy` makes of it: the
Microservice path's spec (spec.service.build_service_spec) with what only compose has merged
in (StackService.extra), named and labelled as docker names them (`STACK_service`, label
com.docker.stack.namespace=STACK), plus our ownership labels. Pure: no I/O, no ctx."""
from __future__ import annotations

from typing import Any

from cloudify_swarm.compose.service import StackService
from cloudify_swarm.spec.service import build_service_spec, file_refs

NAMESPACE = "com.docker.stack.namespace"


def label_volumes(spec: dict[str, Any], labels: dict[str, str]) -> None:
    """Volumes the engine creates for the tasks carry the stack's and our labels; an anonymous
    one carries ours only (docker gives it none; ours let uninstall and the leak check find
    it); an external one is left as it is."""
    ours = {k: v for k, v in labels.items() if k != NAMESPACE}
    for item in spec["TaskTemplate"]["ContainerSpec"].get("Mounts") or []:
        if item["Type"] != "volume":
            continue
        options = item.get("VolumeOptions")
        if not item.get("Source"):
            item["VolumeOptions"] = {**(options or {}), "Labels": ours}
        elif options is not None and "Labels" in options:
            options["Labels"] = {**options["Labels"], **labels}


def stack_service_spec(stack_name: str, service: StackService, labels: dict[str, str],
                       ids: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The Engine API ServiceSpec `docker stack deploy` makes for the service, plus our labels."""
    spec = build_service_spec(service.settings, f"{stack_name}_{service.key}", service.container,
                              service.ports, labels, ids)
    spec["Labels"].update(service.extra.get("labels", {}))
    task = spec["TaskTemplate"]
    for network in task.get("Networks") or []:
        if network["Target"] in service.extra.get("network_opts", {}):
            network["DriverOpts"] = service.extra["network_opts"][network["Target"]]
    container = task["ContainerSpec"]
    container.update(service.extra.get("container", {}))
    for kind in ("Secret", "Config"):
        refs = service.extra.get("refs", {}).get(f"{kind}s")
        if refs:
            pairs = sorted(((r["name"], r["File"]) for r in refs), key=lambda pair: str(pair[0]))
            container[f"{kind}s"] = file_refs(kind, pairs, ids.get(kind, {}))
    extra_task = dict(service.extra.get("task", {}))
    if "Placement" in extra_task:
        task["Placement"] = {**task.get("Placement", {}), **extra_task.pop("Placement")}
    task.pop("Resources", None)
    task.pop("RestartPolicy", None)
    task.update(extra_task)
    spec.update(service.extra.get("service", {}))
    label_volumes(spec, labels)
    return spec
