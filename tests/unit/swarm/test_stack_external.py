"""Compose `external` networks, volumes, secrets and configs are used by name (issue 24, class 4):
one carrying another deployment's or tenant's ownership labels is refused before anything is
made, naming the file, the key path, the object and its owner; one an operator made (no labels
of ours) or one of this deployment is used."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudify_shared.errors import UserError
from cloudify_shared.ownership import ownership_labels
from cloudify_swarm.compose.stack import parse_compose_file
from cloudify_swarm.spec.microservice import Convergence
from cloudify_swarm.stacks import check_external, deploy_stack

OURS = ownership_labels("dep-a", "stack_1", "tenant-a")
LOG = logging.getLogger(__name__)


class Engine:
    """Answers lookups from `objects` (kind -> attrs list); any call that makes something fails."""

    def __init__(self, objects: dict[str, list[dict[str, Any]]]) -> None:
        self.objects = objects
        self.looked_up: list[tuple[str, str | None]] = []

    def find_objects(self, kind: str, labels: dict[str, str] | None = None,
                     name: str | None = None) -> list[dict[str, Any]]:
        self.looked_up.append((kind, name))
        return [o for o in self.objects.get(kind, []) if name is None or o["Name"] == name]

    def find_services(self, labels: dict[str, str],
                      name: str | None = None) -> list[dict[str, Any]]:
        return []

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} called: something would be made")


def compose(tmp_path: Path, **top: Any) -> str:
    path = tmp_path / "stack.yml"
    path.write_text(yaml.safe_dump({"version": "3.8",
                                    "services": {"web": {"image": "i", "networks": ["front"]}},
                                    "networks": {"front": {"external": True, "name": "shared-net"}},
                                    **top}))
    return str(path)


@pytest.mark.parametrize(("owner", "who"), [
    (ownership_labels("dep-b", "web_1", "tenant-a"), "deployment dep-b (tenant tenant-a)"),
    (ownership_labels("dep-a", "web_1", "tenant-b"), "deployment dep-a (tenant tenant-b)"),
])
def test_an_external_object_of_another_deployment_or_tenant_is_refused_before_anything_is_made(
        tmp_path: Path, owner: dict[str, str], who: str) -> None:
    engine = Engine({"network": [{"Name": "shared-net", "Labels": owner}]})
    with pytest.raises(UserError) as error:
        deploy_stack(engine, compose(tmp_path), "st", OURS, Convergence(),
                     LOG)  # type: ignore[arg-type]
    assert str(error.value) == (
        "properties.compose_file (stack.yml).networks.front: the external network 'shared-net' "
        "belongs "
        f"to {who}, not to this deployment: a stack uses by name only its own deployment's objects "
        "or "
        "those no deployment owns (made by an operator)")


def test_a_name_from_a_compose_variable_is_named_by_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "stack.yml"
    path.write_text(yaml.safe_dump({"version": "3.8",
                                    "services": {"web": {"image": "i", "networks": ["front"]}},
                                    "networks": {"front": {"external": True, "name": "${NET}"}}}))
    stack = parse_compose_file(str(path), "f", "st", {"NET": "shared-net"})
    engine = Engine({"network": [{"Name": "shared-net",
                                  "Labels": ownership_labels("dep-b", "x_1")}]})
    with pytest.raises(UserError,
                       match=r"f \(stack.yml\).networks.front: the external network '\$\{NET\}' "
                                        "belongs to deployment dep-b,"):
        check_external(engine, stack, OURS)  # type: ignore[arg-type]


def test_every_kind_of_external_object_is_looked_up(tmp_path: Path) -> None:
    other = ownership_labels("dep-b", "x_1", "tenant-a")
    for kind, section in (("volume", "volumes"), ("secret", "secrets"), ("config", "configs")):
        stack = parse_compose_file(compose(tmp_path, **{section: {"thing": {"external": True}}}),
                                   "f", "st")
        attrs = {"Name": "thing", "Labels": other} if kind == "volume" else {
            "Name": "thing", "Spec": {"Name": "thing", "Labels": other}}
        with pytest.raises(UserError,
                           match=f"f \\(stack.yml\\).{section}.thing: the external {kind} 'thing' "
                                            "belongs to deployment dep-b"):
            check_external(Engine({kind: [attrs]}), stack, OURS)  # type: ignore[arg-type]


def test_an_operators_object_or_our_own_is_used(tmp_path: Path) -> None:
    stack = parse_compose_file(compose(tmp_path), "f", "st")
    for labels in ({}, {"team": "ops"}, OURS, ownership_labels("dep-a", "other_node_2", "tenant-a"),
                   # labelled before tenants
                   {k: v for k, v in OURS.items() if k != "cloudify.co/tenant"}):
        engine = Engine({"network": [{"Name": "shared-net", "Labels": labels}]})
        check_external(engine, stack, OURS)  # type: ignore[arg-type]
        assert engine.looked_up == [("network", "shared-net")]
    check_external(Engine({}), stack,
                   OURS)  # type: ignore[arg-type]  # missing: ensure_object says so
