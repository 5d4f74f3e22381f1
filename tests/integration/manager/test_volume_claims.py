"""A StatefulSet's PersistentVolumeClaims with the real manager's mgmtworker running our wagon:
two instances each make their own labelled claim; the scale workflow removing one instance
removes exactly its claim (the other instance's stays bound); uninstall removes the rest."""
from __future__ import annotations

import uuid

import pytest

from cloudify_shared.ownership import NODE_INSTANCE, label_value
from examples.manager import ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import LOCAL_API, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "k8s-volume-claims" / "blueprint.yaml"
pytestmark = pytest.mark.usefixtures("kube")


def started(cli: ManagerCfy, deployment_id: str) -> list[str]:
    return sorted(i.id for i in cli.access.client().node_instances.list(
        deployment_id=deployment_id, node_id="app") if i.state == "started")


def claim_owners(namespace: str) -> dict[str, str]:
    """claim name -> the node instance label it carries."""
    return {name: (c["metadata"].get("labels") or {}).get(NODE_INSTANCE, "")
            for name, c in clusters.claims(namespace).items()}


def test_scale_in_and_uninstall_remove_each_instances_claims(on_manager: ManagerCfy,
                                                             manager_deployment: str) -> None:
    dep, namespace = manager_deployment, f"vcm-{uuid.uuid4().hex[:8]}"
    with clusters.static_storage(namespace, volumes=2) as storage_class:
        on_manager.install(BLUEPRINT, dep, {"api": LOCAL_API, "namespace": namespace,
                                            "storage_class": storage_class, "instances": 2,
                                            "timeout": 180})
        instances = started(on_manager, dep)
        owners = claim_owners(namespace)
        assert sorted(owners.values()) == sorted(label_value(i) for i in instances), owners
        assert all(c["status"]["phase"] == "Bound" for c in clusters.claims(namespace).values())
        assert all(f"PersistentVolumeClaim/{namespace}/{name}" in clusters.leftovers(dep)
                   for name in owners)

        on_manager.execute("scale", dep, {"scalable_entity_name": "app", "delta": -1})
        (kept,) = started(on_manager, dep)
        left = claim_owners(namespace)  # removed before the scale workflow ended
        assert list(left.values()) == [label_value(kept)], left
        assert clusters.claims(namespace)[next(iter(left))]["status"]["phase"] == "Bound"
        scale = [e for e in on_manager.executions(dep) if e.workflow_id == "scale"][-1]
        assert "(made from a volumeClaimTemplate)" in on_manager.events(scale.id)

        on_manager.uninstall(dep)
        assert clusters.claims(namespace) == {}
        assert clusters.leftovers(dep) == []
