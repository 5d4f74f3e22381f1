"""Class 4 of issue 24 for a Microservice's networks, secrets and configs: one used by name
(`create: false`) or found to adopt that belongs to another deployment or tenant is refused,
naming it and its owner, before anything is made; an operator's (no suite labels) or this
deployment's is used; removal checks the labels of each object before removing it."""
from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from cloudify_shared.errors import UserError
from cloudify_shared.ownership import ownership_labels
from cloudify_swarm import objects, services
from cloudify_swarm.spec.microservice import parse_microservice

LOG = logging.getLogger("test")
OURS = ownership_labels("shop", "app_1", "tenant-a")
SAME_DEPLOYMENT = ownership_labels("shop", "db_2", "tenant-a")
OTHER_DEPLOYMENT = ownership_labels("bank", "app_9", "tenant-a")
OTHER_TENANT = ownership_labels("shop", "app_1", "tenant-b")


class ObjectEngine:
    """Networks, secrets and configs by name; label filters honoured unless `ignore_filters`."""

    def __init__(self, objects: dict[tuple[str, str], dict[str, str]],
                 ignore_filters: bool = False) -> None:
        self.objects = dict(objects)
        self.ignore_filters = ignore_filters
        self.made: list[tuple[str, str]] = []
        self.removed: list[tuple[str, str]] = []

    def _attrs(self, kind: str, name: str) -> dict[str, Any]:
        labels = self.objects[(kind, name)]
        if kind == "network":
            return {"Id": f"{kind}-{name}", "Name": name, "Labels": labels}
        return {"ID": f"{kind}-{name}", "Spec": {"Name": name, "Labels": labels}}

    def find_objects(self, kind: str, labels: dict[str, str] | None = None,
                     name: str | None = None) -> list[dict[str, Any]]:
        return [self._attrs(k, n) for (k, n), have in self.objects.items()
                if k == kind and (name is None or n == name)
                and (self.ignore_filters
                     or all(have.get(a) == b for a, b in (labels or {}).items()))]

    def create_object(self, kind: str, name: str, labels: dict[str, str], **options: Any) -> str:
        self.objects[(kind, name)] = labels
        self.made.append((kind, name))
        return f"{kind}-{name}"

    def remove_object(self, kind: str, object_id: str) -> None:
        name = object_id.split("-", 1)[1]
        del self.objects[(kind, name)]
        self.removed.append((kind, name))


def settings(**properties: Any) -> Any:
    return parse_microservice(properties)


def no_files(path: str, field: str) -> str:
    raise AssertionError(path)


@pytest.mark.parametrize(("owner_labels", "who"), [
    (OTHER_DEPLOYMENT, "deployment bank (tenant tenant-a)"),
    (OTHER_TENANT, "deployment shop (tenant tenant-b)")])
@pytest.mark.parametrize("kind", ["network", "secret", "config"])
def test_an_object_of_another_deployment_or_tenant_used_by_name_is_refused_before_anything_is_made(
        kind: str, owner_labels: dict[str, str], who: str) -> None:
    engine = ObjectEngine({(kind, "shared"): owner_labels})
    properties: dict[str, Any] = {"networks": [{"name": "mine", "create": True}]}
    properties[f"{kind}s"] = [*properties.get(f"{kind}s", []), "shared"]
    service = settings(**properties)
    with pytest.raises(UserError, match=rf"^{kind} 'shared' belongs to {re.escape(who)}, not to "
                                        r"this deployment"):
        objects.ensure_objects(engine, service, OURS, LOG, no_files)
    assert engine.made == []  # the network it would create first was not made


@pytest.mark.parametrize("labels", [{}, {"team": "ops"}, SAME_DEPLOYMENT])
def test_an_operators_or_this_deployments_object_is_used_by_name(labels: dict[str, str]) -> None:
    engine = ObjectEngine({("network", "shared"): labels, ("secret", "token"): labels})
    ids = objects.ensure_objects(engine, settings(networks=["shared"], secrets=["token"]), OURS,
                                 LOG, no_files)
    assert (ids["Network"] == {"shared": "network-shared"} and ids["Secret"]
            == {"token": "secret-token"})
    assert engine.made == []


def test_an_object_to_create_that_another_deployment_owns_names_the_owner() -> None:
    engine = ObjectEngine({("config", "conf"): OTHER_DEPLOYMENT})
    with pytest.raises(UserError, match=r"config 'conf' belongs to deployment bank"):
        objects.ensure_objects(engine, settings(configs=[{"name": "conf", "data": "x"}]), OURS, LOG,
                               no_files)


def test_ensure_object_refuses_a_foreign_external_too() -> None:
    """The one-object path (compose externals use it) refuses the same way."""
    engine = ObjectEngine({("network", "ext"): OTHER_TENANT})
    with pytest.raises(UserError,
                       match=r"network 'ext' belongs to deployment shop \(tenant tenant-b\)"):
        objects.ensure_object(engine, "network", "ext", False, OURS, {}, LOG)


def test_removal_removes_only_what_carries_our_labels_even_if_the_filter_answers_more() -> None:
    engine = ObjectEngine({("network", "mine"): OURS, ("network", "theirs"): OTHER_DEPLOYMENT,
                           ("secret", "ops"): {}, ("secret", "tok"): OURS}, ignore_filters=True)
    removed = objects.remove_objects(engine, OURS, LOG)
    assert sorted(removed) == ["network/mine", "secret/tok"]
    assert set(engine.objects) == {("network", "theirs"), ("secret", "ops")}


class ServiceEngine:
    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.removed: list[str] = []

    def find_services(self, labels: dict[str, str],
                      name: str | None = None) -> list[dict[str, Any]]:
        return [] if self.removed else [{"ID": "s1",
                                         "Spec": {"Name": "web", "Labels": self.labels}}]

    def remove_service(self, service_id: str) -> None:
        self.removed.append(service_id)

    def containers(self, labels: dict[str, str]) -> list[dict[str, Any]]:
        return []


def test_a_service_not_carrying_our_labels_is_never_removed() -> None:
    engine = ServiceEngine(OTHER_DEPLOYMENT)  # a listing whose filter answered too much
    assert services.remove_services(engine, OURS, LOG, wait=False) == []  # type: ignore[arg-type]
    assert engine.removed == []
    ours = ServiceEngine(OURS)
    assert services.remove_services(ours, OURS, LOG, timeout=1) == ["web"]  # type: ignore[arg-type]
    assert ours.removed == ["s1"]


def test_a_service_of_another_deployment_is_not_adopted_and_its_owner_is_named() -> None:
    class Existing(ServiceEngine):
        def service_by_name(self, name: str) -> dict[str, Any]:
            return {"ID": "s1", "Spec": {"Name": name, "Labels": OTHER_TENANT}}

    with pytest.raises(UserError,
                       match=r"a service named 'web' already exists and is not this node's "
                                        r"\(it belongs to deployment shop \(tenant tenant-b\)\)"):
        services.apply_service(Existing(OURS), {"Name": "web"}, OURS, LOG)  # type: ignore[arg-type]


def test_an_object_created_by_one_entry_is_used_by_name_by_the_next() -> None:
    engine = ObjectEngine({})
    ids = objects.ensure_objects(engine, settings(networks=[{"name": "n", "create": True}, "n"]),
                                  OURS, LOG, no_files)
    assert ids["Network"] == {"n": "network-n"} and engine.made == [("network", "n")]
