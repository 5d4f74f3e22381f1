"""Cloudify's standard operations on a Swarm service: check_status, check_drift, heal and the
in-place update. Plain Python over the Engine adapter: no ctx here (tasks.py reads ctx and
builds the desired spec from the current node properties).

- status: the service exists and is converged on its current spec (convergence.service_status);
- drift: desired spec vs live spec (drift.spec_drift, secret values masked);
- heal: a missing service is created again, a broken one force-updated, a healthy one untouched;
- update: the service is updated in place with its update_config and waited on; a failure
  puts the previous spec back. Nothing here removes a service that existed before the call.
"""
from __future__ import annotations

import logging
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.waiting import Verdict
from cloudify_swarm import services
from cloudify_swarm.convergence import service_status
from cloudify_swarm.drift import masked_drift, spec_drift
from cloudify_swarm.engine_api import EngineApi
from cloudify_swarm.spec.microservice import Convergence, Microservice


def find_service(engine: EngineApi, owner: dict[str, str], name: str) -> dict[str, Any] | None:
    found = engine.find_services(owner, name)
    return found[0] if found else None


def status_of(engine: EngineApi, owner: dict[str, str], name: str) -> Verdict:
    service = find_service(engine, owner, name)
    if service is None:
        return Verdict.failed(f"service {name} does not exist")
    verdict = service_status(service, engine.service_tasks(service["ID"]))
    return verdict if verdict.is_done else Verdict.failed(f"service {name}: {verdict.message}")


def check_status(engine: EngineApi, owner: dict[str, str], name: str) -> str:
    """The status message when healthy; UserError saying what is wrong otherwise."""
    verdict = status_of(engine, owner, name)
    if not verdict.is_done:
        raise UserError(verdict.message)
    return f"service {name}: {verdict.message}"


def drift_of(engine: EngineApi, owner: dict[str, str], spec: dict[str, Any],
             network_ids: dict[str, str] | None = None) -> dict[str, str]:
    service = find_service(engine, owner, spec["Name"])
    if service is None:
        return {spec["Name"]: "service missing"}
    return spec_drift(spec, service["Spec"], network_ids)


def heal_service(engine: EngineApi, spec: dict[str, Any], owner: dict[str, str],
                 settings: Convergence, logger: logging.Logger) -> tuple[str, str]:
    """(service id, what was done)."""
    name = spec["Name"]
    service = find_service(engine, owner, name)
    if service is None:
        logger.info("service %s is missing: creating it again", name)
        return services.deploy_service(engine, spec, owner, settings, logger), "created again"
    if status_of(engine, owner, name).is_done:
        logger.info("service %s is healthy: left as it is", name)
        return str(service["ID"]), "healthy, untouched"
    live = service["Spec"]
    template = live["TaskTemplate"]
    force = int(template.get("ForceUpdate", 0)) + 1
    forced = {**live, "TaskTemplate": {**template, "ForceUpdate": force}}
    return services.change_service(engine, service, forced, owner, settings, logger,
                                   "force-updating the unhealthy service"), "force-updated"


def update_in_place(engine: EngineApi, spec: dict[str, Any], owner: dict[str, str],
                    settings: Convergence, logger: logging.Logger,
                    network_ids: dict[str, str] | None = None) -> str:
    """Update the service to `spec` with its update_config and wait (never remove + create).
    A missing service is created. Returns the service id."""
    service = find_service(engine, owner, spec["Name"])
    if service is None:
        logger.info("service %s is missing: creating it", spec["Name"])
        return services.deploy_service(engine, spec, owner, settings, logger)
    drift = spec_drift(spec, service["Spec"], network_ids)
    if not drift:
        logger.info("service %s already runs the desired spec", spec["Name"])
        return str(service["ID"])
    logger.info("service %s differs in %s", spec["Name"], ", ".join(sorted(drift)))
    return services.change_service(engine, service, spec, owner, settings, logger,
                                   "updating in place")


# ----------------------------------------------------------------- a Microservice's own objects

def object_refs(service: Microservice) -> list[tuple[str, str, bool]]:
    """(kind, name, create) of every network, secret and config the settings name."""
    return ([("network", n.name, n.create) for n in service.networks]
            + [("secret", r.name, r.create) for r in service.secrets]
            + [("config", r.name, r.create) for r in service.configs])


def objects_drift(engine: EngineApi, service: Microservice) -> dict[str, str]:
    found = {}
    for kind, name, create in object_refs(service):
        if not engine.find_objects(kind, name=name):
            found[f"{kind}s.{name}"] = ("missing" if create
                                        else "missing (create: false: it must exist)")
    return found


def check_objects(engine: EngineApi, service: Microservice) -> str:
    missing = objects_drift(engine, service)
    if missing:
        raise UserError("; ".join(f"{field} {what}" for field, what in missing.items()))
    return f"{len(object_refs(service))} network(s)/secret(s)/config(s) present"


def config_drift(recorded: Microservice, current: Microservice) -> dict[str, str]:
    """Settings the properties changed since they were applied (secret contents never shown:
    the recorded settings do not hold them, so a changed secret's data is not seen here; label
    values neither: each label is named as missing, unexpected or different)."""
    old, new = recorded.to_dict(), current.to_dict()
    found = masked_drift("properties.labels", new["labels"], old.get("labels") or {})
    for key in sorted(set(new) - {"labels"}):
        if old.get(key) != new[key]:
            found[f"properties.{key}"] = (
                "changed" if key in ("secrets", "configs")
                else f"applied {old.get(key)!r}, properties now {new[key]!r}")
    return found
