"""Engine-level operations on Swarm services: deploy (create or adopt) and wait for convergence,
scale, update, remove and wait until gone, and the facts runtime properties show. The networks,
secrets and configs a Microservice owns are objects.py's.

Plain Python over the Engine protocol (engine_api.EngineApi; its adapter: docker_engine): no
ctx here. Everything created carries the ownership labels; lookups go by name + labels so a
re-run adopts instead of duplicating, and removal never touches a service without our labels;
a service of the same name that is another deployment's is refused, naming its owner.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cloudify_shared.errors import NotFound, TransientError, UserError, WaitTimeout, WorkloadFailed
from cloudify_shared.ownership import foreign_owner
from cloudify_shared.waiting import Backoff, Verdict, wait_until
from cloudify_swarm.convergence import (
    StableFor,
    failed_tasks,
    service_converged,
    service_gone,
    task_container,
    update_marker,
)
from cloudify_swarm.engine_api import EngineApi
from cloudify_swarm.objects import owned
from cloudify_swarm.spec.microservice import Convergence
from cloudify_swarm.spec.ports import PortSpec, parse_ports

POLL = Backoff(first=0.1, factor=1.5, cap=0.5)
GONE_TIMEOUT = 120.0


def is_subset(wanted: Any, actual: Any) -> bool:
    """True when every key we set is present with the same value (the engine adds defaults)."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(is_subset(v, actual.get(k))
                                                for k, v in wanted.items())
    return bool(wanted == actual)


# ----------------------------------------------------------------------------- waiting

OUTPUT_LINES = 10


def last_output(engine: EngineApi, failed: list[dict[str, Any]]) -> str:
    """The last lines of output of the first failed task's container, as text to append to the
    failure ('' when it had none, or its container is gone)."""
    for task in failed:
        container = task_container(task)
        if container is None:
            continue
        try:
            text = engine.container_logs(container, OUTPUT_LINES).rstrip()
        except (NotFound, TransientError, UserError):
            return ""
        if text:
            lines = text.replace("\n", "\n  ")
            return f"\n  last output lines of container {container[:12]}:\n  {lines}"
        return ""
    return ""


def wait_converged(engine: EngineApi, service_id: str, name: str, settings: Convergence,
                   logger: logging.Logger, baseline: frozenset[str] = frozenset(),
                   expect_update: bool = False, previous_update: str | None = None) -> Verdict:
    seen: set[str] = set()
    survivors: set[str] = set()  # tasks that lived through an engine outage

    def check() -> Verdict:
        try:
            service = engine.inspect_service(service_id)
            tasks = engine.service_tasks(service_id)
        except NotFound:
            return Verdict.failed(f"service {name} disappeared")
        except TransientError:
            # The engine went away (dockerd restarting): the tasks it had are killed with it and
            # may come back rejected (their old container still holds the name). Their failure
            # is the outage's, not the workload's; the engine replaces them per restart policy.
            survivors.update(seen)
            raise
        seen.update(str(t.get("ID")) for t in tasks)
        verdict = service_converged(service, tasks, baseline | survivors, expect_update,
                                    previous_update)
        if verdict.is_failed:
            output = last_output(engine, failed_tasks(tasks, frozenset(baseline | survivors)))
            return Verdict.failed(verdict.message + output) if output else verdict
        return verdict

    return wait_until(StableFor(check, settings.stability_seconds),
                      f"service {name} to converge", settings.timeout, logger, backoff=POLL)


def remove_services(engine: EngineApi, owner: dict[str, str], logger: logging.Logger,
                    name: str | None = None, timeout: float = GONE_TIMEOUT,
                    wait: bool = True) -> list[str]:
    """Remove our services (all of the owner's, or the one named) and, unless `wait` is
    False, wait until their containers are gone (wait_services_gone). A missing service is
    not an error. Returns the names removed."""
    services = [s for s in engine.find_services(owner, name)
                if owned(s["Spec"].get("Labels") or {}, owner)]  # checked again before removal
    for service in services:
        try:
            engine.remove_service(service["ID"])
        except NotFound:
            pass
    names = [s["Spec"]["Name"] for s in services]
    if wait:
        wait_services_gone(engine, owner, logger, names, name, timeout)
    elif names:
        logger.info("removed service(s) %s", ", ".join(names))
    return names


def wait_services_gone(engine: EngineApi, owner: dict[str, str], logger: logging.Logger,
                       names: list[str] | None = None, name: str | None = None,
                       timeout: float = GONE_TIMEOUT) -> None:
    """Wait until the owner's services (or the one named) are no longer listed and the
    owner's containers are gone: the engine stops a removed service's containers after
    the remove call returns, each within its stop grace period."""
    what = f"service(s) {', '.join(names or []) or name or 'of this node'} to be removed"

    def check() -> Verdict:
        return service_gone(bool(engine.find_services(owner, name)), engine.containers(owner))

    try:
        wait_until(check, what, timeout, logger, backoff=POLL)
    except WaitTimeout as slow:  # removal was asked and goes on: worth a retry (as Kubernetes')
        raise TransientError(f"{slow}; the removal goes on, a retry waits again") from slow


# ----------------------------------------------------------------------------- deploy

@dataclass(frozen=True)
class Rollout:
    """A service we just created or changed, and what its convergence wait must know.

    `created`: this run made it (a failure removes it). `previous`: the service as it was
    before this run changed it (a failure puts that spec back); None when unchanged or new.
    `baseline`: tasks that existed before this run, whose old failures are history."""

    service_id: str
    name: str
    baseline: frozenset[str] = frozenset()
    expect_update: bool = False
    previous_update: str | None = None
    created: bool = False
    previous: dict[str, Any] | None = None


def apply_service(engine: EngineApi, spec: dict[str, Any], owner: dict[str, str],
                  logger: logging.Logger) -> Rollout:
    """Create the service, or adopt ours of the same name (updating it if its spec differs)."""
    name = spec["Name"]
    existing = engine.service_by_name(name)
    if existing is None:
        service_id = engine.create_service(spec)
        logger.info("created service %s (%s)", name, service_id[:12])
        return Rollout(service_id, name, created=True)
    labels = existing["Spec"].get("Labels") or {}
    if not owned(labels, owner):
        other = foreign_owner(labels, owner)
        raise UserError(f"a service named {name!r} already exists and is not this node's "
                        f"({f'it belongs to {other}' if other else 'its ownership labels differ'})"
                        ": choose another name")
    return adopt(engine, existing, spec, logger)


def wait_rollout(engine: EngineApi, rollout: Rollout, settings: Convergence,
                 logger: logging.Logger) -> Verdict:
    return wait_converged(engine, rollout.service_id, rollout.name, settings, logger,
                          rollout.baseline, rollout.expect_update, rollout.previous_update)


def undo_rollout(engine: EngineApi, rollout: Rollout, owner: dict[str, str], settings: Convergence,
                 logger: logging.Logger) -> str:
    """After a failed wait: remove the service if this run created it, put the previous spec
    back if this run changed it, leave it alone otherwise. Says what it did."""
    if rollout.created:
        logger.info("removing service %s after the failed rollout", rollout.name)
        remove_services(engine, owner, logger, rollout.name)
        return f"service {rollout.name} removed (this run created it)"
    if rollout.previous is not None:
        return restore_spec(engine, rollout.service_id, rollout.name, rollout.previous, settings,
                            logger)
    return f"service {rollout.name} left as it was (it existed before and was not changed)"


def restore_spec(engine: EngineApi, service_id: str, name: str, previous: dict[str, Any],
                 settings: Convergence, logger: logging.Logger) -> str:
    """Update the service back to `previous` (its spec before the operation) and wait for it.
    Never removes the service. Returns what happened, for the error message."""
    try:
        current = engine.inspect_service(service_id)
        if current["Spec"] == previous:
            return f"service {name} is back on its previous spec"
        baseline = frozenset(t["ID"] for t in engine.service_tasks(service_id))
        engine.update_service(service_id, current["Version"]["Index"], previous)
        logger.info("restoring the previous spec of service %s", name)
        wait_converged(engine, service_id, name, settings, logger, baseline)
    except (NotFound, TransientError, UserError, WorkloadFailed, WaitTimeout) as error:
        logger.warning("restoring the previous spec of service %s: %s", name, error)
        return f"restoring the previous spec of service {name} failed too: {error}"
    return f"service {name} restored to its previous spec"


def rollout_or_undo(engine: EngineApi, rollout: Rollout, owner: dict[str, str],
                    settings: Convergence, logger: logging.Logger) -> str:
    """Wait for the rollout; on failure undo it (see undo_rollout) and raise with both stories."""
    try:
        wait_rollout(engine, rollout, settings, logger)
    except (WorkloadFailed, WaitTimeout) as error:
        undone = undo_rollout(engine, rollout, owner, settings, logger)
        raise type(error)(f"{error}; {undone}") from error
    return rollout.service_id


def deploy_service(engine: EngineApi, spec: dict[str, Any], owner: dict[str, str],
                   settings: Convergence, logger: logging.Logger) -> str:
    """Apply the spec and wait for convergence. On failure, what this run made is removed,
    what it changed is put back, and a service it found and left alone stays (a re-run or
    resumed start never removes a service that was there before it)."""
    rollout = apply_service(engine, spec, owner, logger)
    return rollout_or_undo(engine, rollout, owner, settings, logger)


def adopt(engine: EngineApi, existing: dict[str, Any], spec: dict[str, Any],
          logger: logging.Logger) -> Rollout:
    """Ours from an earlier (or interrupted) run: its tasks so far are history either way."""
    name, service_id = spec["Name"], existing["ID"]
    baseline = frozenset(t["ID"] for t in engine.service_tasks(service_id))
    if is_subset(spec, existing["Spec"]):
        logger.info("found service %s (%s) from an earlier run: adopting it", name, service_id[:12])
        return Rollout(service_id, name, baseline)
    engine.update_service(service_id, existing["Version"]["Index"], spec)
    logger.info("found service %s (%s) from an earlier run with another spec: updated it",
                name, service_id[:12])
    return Rollout(service_id, name, baseline, True, update_marker(existing),
                   previous=existing["Spec"])


def change_service(engine: EngineApi, service: dict[str, Any], spec: dict[str, Any],
                   owner: dict[str, str], settings: Convergence, logger: logging.Logger,
                   what: str, expect_update: bool = True) -> str:
    """Update an existing service of ours in place and wait; a failure restores its spec.
    `expect_update`: the change starts an engine rolling update (not so for a replica count)."""
    name = service["Spec"]["Name"]
    if spec == service["Spec"]:
        logger.info("service %s already has these settings", name)
        return str(service["ID"])
    baseline = frozenset(t["ID"] for t in engine.service_tasks(service["ID"]))
    engine.update_service(service["ID"], service["Version"]["Index"], spec)
    logger.info("service %s: %s", name, what)
    rollout = Rollout(str(service["ID"]), name, baseline, expect_update, update_marker(service),
                      previous=service["Spec"])
    return rollout_or_undo(engine, rollout, owner, settings, logger)


# ----------------------------------------------------------------------------- day 2

def find_own_service(engine: EngineApi, owner: dict[str, str], name: str) -> dict[str, Any]:
    found = engine.find_services(owner, name)
    if not found:
        raise UserError(f"no service {name!r} of this node exists (install it first)")
    return found[0]


def scale_service(engine: EngineApi, owner: dict[str, str], name: str, replicas: Any,
                  settings: Convergence, logger: logging.Logger) -> str:
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise UserError(f"inputs.replicas: expected a non-negative integer, got {replicas!r}")
    service = find_own_service(engine, owner, name)
    spec = service["Spec"]
    if "Replicated" not in spec.get("Mode", {}):
        raise UserError(f"inputs.replicas: service {name} runs in global mode and cannot be scaled")
    new = {**spec, "Mode": {"Replicated": {"Replicas": replicas}}}
    return change_service(engine, service, new, owner, settings, logger,
                          f"scaling to {replicas} replica(s)", expect_update=False)


def updated_spec(spec: dict[str, Any], image: Any, env: dict[str, str] | None,
                 ports: list[PortSpec] | None) -> dict[str, Any]:
    """A copy of the service spec with a new image, env entries merged, ports replaced."""
    new = {**spec, "TaskTemplate": {**spec["TaskTemplate"]}}
    container = new["TaskTemplate"]["ContainerSpec"] = {**spec["TaskTemplate"]["ContainerSpec"]}
    if image is not None:
        if not isinstance(image, str) or not image:
            raise UserError(f"inputs.image: expected an image name, got {image!r}")
        container["Image"] = image
    if env:
        current = dict(item.split("=", 1) for item in container.get("Env") or [])
        current.update(env)
        container["Env"] = [f"{k}={v}" for k, v in sorted(current.items())]
    if ports is not None:
        new["EndpointSpec"] = {**(spec.get("EndpointSpec") or {}),
                               "Ports": [p.api() for p in ports]}
    return new


def update_service(engine: EngineApi, owner: dict[str, str], name: str, image: Any,
                   env: dict[str, str] | None, ports: Any, settings: Convergence,
                   logger: logging.Logger) -> str:
    """Roll the service to a new image/env/ports and wait; returns the service id."""
    port_specs = parse_ports(ports, "inputs.ports") if ports is not None else None
    service = find_own_service(engine, owner, name)
    spec = updated_spec(service["Spec"], image, env, port_specs)
    return change_service(engine, service, spec, owner, settings, logger, "updating")


# ----------------------------------------------------------------------------- facts

def task_facts(task: dict[str, Any], nodes: dict[str, str]) -> dict[str, Any]:
    status = task.get("Status") or {}
    return {
        "id": task["ID"], "slot": task.get("Slot"), "state": status.get("State"),
        "desired_state": task.get("DesiredState"), "error": status.get("Err"),
        "node_id": task.get("NodeID"),
        "node": nodes.get(task.get("NodeID", ""), task.get("NodeID")),
        "container_id": (status.get("ContainerStatus") or {}).get("ContainerID"),
        "addresses": [a for net in task.get("NetworksAttachments") or []
                      for a in net.get("Addresses") or []],
        "ports": unique_ports((status.get("PortStatus") or {}).get("Ports") or []),
    }


def unique_ports(ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """API port entries as plain facts, duplicates (one per address family) dropped."""
    found: list[dict[str, Any]] = []
    for port in ports:
        fact = {"target": port.get("TargetPort"), "published": port.get("PublishedPort"),
                "protocol": port.get("Protocol"), "mode": port.get("PublishMode")}
        if fact not in found:
            found.append(fact)
    return found


def service_facts(engine: EngineApi, service_id: str) -> dict[str, Any]:
    """What runtime properties show: id, name, published ports, running tasks and their nodes."""
    service = engine.inspect_service(service_id)
    nodes = engine.node_names()
    tasks = [task_facts(t, nodes) for t in engine.service_tasks(service_id)
             if t.get("DesiredState") == "running"]
    ports = unique_ports((service.get("Endpoint") or {}).get("Ports")
                         or (service["Spec"].get("EndpointSpec") or {}).get("Ports") or [])
    return {"id": service["ID"], "name": service["Spec"]["Name"], "published_ports": ports,
            "tasks": sorted(tasks, key=lambda t: (t["slot"] or 0, t["id"]))}
