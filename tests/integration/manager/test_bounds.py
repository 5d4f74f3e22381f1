"""Bounds before work, on the real manager (issue 24, class 3): a hostile tenant's blueprints (an
alias bomb as a manifest and as a compose file, a port range of the whole port space, a timeout
of years) are refused fast with the bound and its setting named, while a normal install beside
them finishes in its usual time: the worker that runs every tenant's operations stays
responsive. The figures are printed (-s); the only time bound asserted is a generous one that a
worker busy expanding a bomb would miss by minutes."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from examples.manager import CfyFailed, ManagerAccess, ManagerCfy
from tests.helpers import clusters
from tests.helpers.paths import LOCAL_API, TEST_BLUEPRINTS

pytestmark = pytest.mark.usefixtures("swarm", "kube")

ATTACKS = TEST_BLUEPRINTS / "attack-bounds"
K8S_CONFIG = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
RUN = uuid.uuid4().hex[:6]


def config_map(name: str) -> list[dict[str, object]]:
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
             "data": {"a": "b"}}]


# (name, blueprint, inputs, what the refusal must say)
CASES = [
    ("manifest-bomb", ATTACKS / "k8s.yaml",
     {"api": LOCAL_API, "config_files": [{"file": "resources/alias-bomb.yaml"}]},
     ("too many YAML nodes", "CLOUDIFY_VNF_MAX_YAML_NODES", "resources/alias-bomb.yaml")),
    ("timeout-years", ATTACKS / "k8s.yaml",
     {"api": LOCAL_API, "config": config_map(f"bounds-t-{RUN}"), "timeout": 10 ** 9},
     ("properties.timeout", "too long", "CLOUDIFY_VNF_MAX_TIMEOUT")),
    ("compose-bomb", ATTACKS / "stack.yaml",
     {"compose_file": "resources/compose-bomb.yaml", "stack_name": f"bomb{RUN}"},
     ("too many YAML nodes", "CLOUDIFY_VNF_MAX_YAML_NODES")),
    ("all-ports", ATTACKS / "stack.yaml",
     {"compose_file": "resources/all-ports.yaml", "stack_name": f"ports{RUN}"},
     ("1-65535",)),
]


@pytest.fixture
def deployments(on_manager: ManagerCfy) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for deployment in made:
        on_manager.uninstall(deployment)


def prepared(cli: ManagerCfy, blueprint: Path, deployment: str, inputs: dict[str, object]) -> str:
    """The blueprint uploaded and the deployment created, ready for its install (done before
    the installs run side by side: the manager runs two workflows at a time, and a deployment's
    creation is one)."""
    cli.upload_blueprint(blueprint, deployment)
    cli.create_deployment(deployment, deployment, inputs)
    return deployment


def refused_install_events(cli: ManagerCfy, deployment: str) -> str:
    """The events of an install that must fail."""
    with pytest.raises(CfyFailed):
        cli.execute("install", deployment)
    install = [e for e in cli.executions(deployment) if e.workflow_id == "install"][-1]
    assert install.status == "failed"
    return cli.events(install.id)


def timed(func: Callable[[], object]) -> float:
    start = time.monotonic()
    func()
    return time.monotonic() - start


def test_hostile_blueprints_are_refused_fast_beside_a_normal_install(
        on_manager: ManagerCfy, manager_access: ManagerAccess, deployments: list[str],
        tmp_path: Path) -> None:
    normal = {"api": LOCAL_API, "config": config_map(f"bounds-n-{RUN}"), "timeout": 60}
    alone = f"bounds-alone-{RUN}"
    deployments.append(prepared(on_manager, K8S_CONFIG, alone, normal))
    usual = timed(lambda: on_manager.execute("install", alone))
    on_manager.uninstall(alone)

    beside = f"bounds-beside-{RUN}"
    deployments.append(prepared(on_manager, K8S_CONFIG, beside, normal))
    attacks = {name: (prepared(on_manager, blueprint, f"bounds-{name}-{RUN}", inputs), says)
               for name, blueprint, inputs, says in CASES}
    deployments.extend(deployment for deployment, _ in attacks.values())
    result: dict[str, object] = {}
    other = ManagerCfy(tmp_path / "cfy-normal", manager_access)
    worker = threading.Thread(target=_recording, args=(result, lambda: timed(
        lambda: other.execute("install", beside))))
    worker.start()
    refused: dict[str, float] = {}
    for name, (deployment, says) in attacks.items():
        start = time.monotonic()
        events = refused_install_events(on_manager, deployment)
        refused[name] = time.monotonic() - start
        for text in says:
            assert text in events, f"{name}: {text!r} not in:\n{events[-3000:]}"
        assert clusters.leftovers(deployment) == [], name
    worker.join(timeout=600)
    assert "error" not in result, result.get("error")
    seconds = float(result["seconds"])  # type: ignore[arg-type]
    print(f"\nnormal install alone {usual:.1f} s, beside the attacks {seconds:.1f} s; "
          + ", ".join(f"{name} refused after {t:.1f} s" for name, t in refused.items()))
    # a worker busy with a bomb would hold the normal install for minutes, not seconds
    assert seconds < 3 * usual + 60, (seconds, usual)
    assert all(t < 120 for t in refused.values()), refused


def _recording(result: dict[str, object], func: Callable[[], float]) -> None:
    """Run `func` in a thread: its figure, or the error the test's own thread reports."""
    try:
        result["seconds"] = func()
    except Exception as error:
        result["error"] = error
