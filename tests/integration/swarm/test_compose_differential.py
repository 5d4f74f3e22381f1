"""Our compose support against the real `docker stack deploy`, over a corpus of real compose
files nobody here wrote (scripts/compose-corpus: the tests/ folder of docker-compose 1.29.2's
source distribution on PyPI, downloaded once into the cache, never committed here).

For every file: `docker stack deploy --resolve-image never --detach` on the real local Swarm
and our parse + create (no wait: images need not exist, only the specs are compared). A file
docker refuses, we must refuse with a UserError. A file docker accepts, we must accept, and every
service spec must be the same field by field (image, command/args, env, mounts, ports,
mode/replicas, restart, resources, placement, healthcheck, networks, labels, and everything else
the engine stores), with stack names, object ids and our ownership labels taken out. The only
differences allowed are DELIBERATE (listed in docs/guides/compose-stacks.md). Both stacks are
removed after each file.
"""
from __future__ import annotations

import logging
import os
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudify_shared.errors import PluginError, UserError
from cloudify_shared.ownership import ownership_labels
from cloudify_swarm import stacks
from cloudify_swarm.compose.engine_spec import NAMESPACE
from cloudify_swarm.compose.files import ComposeFiles
from cloudify_swarm.compose.interpolation import dotenv_variables
from cloudify_swarm.compose.stack import parse_compose_file
from cloudify_swarm.docker_engine import Engine
from tests.helpers.clusters import docker_client, wait_gone
from tests.helpers.paths import ROOT

pytestmark = pytest.mark.usefixtures("swarm")
LOG = logging.getLogger(__name__)
# the bar: at least this many real files, every one docker accepts also accepted by us
MIN_FILES = 30
KEYS_FILE = Path(__file__).parent / "compose_keys" / "docker-compose.yml"
# our own files (issue 27), one per class of difference found in stack files in the wild
PARITY_FILES = sorted((Path(__file__).parent / "compose_parity").glob("*.yml"))


def corpus_folder() -> Path:
    """The corpus (fetched once by scripts/compose-corpus); under CI a missing one fails."""
    result = subprocess.run(["bash", str(ROOT / "scripts" / "compose-corpus")],
                            capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        reason = f"scripts/compose-corpus failed: {result.stderr.strip()[-500:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return Path(result.stdout.strip().splitlines()[-1])


def docker_deploy(path: Path, stack: str) -> subprocess.CompletedProcess[str]:
    # docker stack deploy reads no .env; ours does (docker compose's rule): give docker the
    # same variables through its environment, so both interpolate alike
    env = {k: v for k,
           v in os.environ.items() if k in ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG")}
    env.update(dotenv_variables(ComposeFiles.local(str(path)).dotenv_text()))
    return subprocess.run(["docker", "stack", "deploy", "--resolve-image", "never", "--detach=true",
                           "-c", path.name, stack], cwd=path.parent, env=env,
                          capture_output=True, text=True, timeout=120)


def our_deploy(engine: Engine, path: Path, stack: str, owner: dict[str, str]) -> tuple[str | None,
                                                                                       bool]:
    """(None, True) when we deploy it, else (our error, whether it is a UserError: the clear
    refusal the issue asks for, naming the file and the field)."""
    try:
        parsed = parse_compose_file(str(path), "compose", stack, {}, LOG)
        stacks.check_external(engine, parsed, owner)
        stacks.check_external_exist(engine, parsed)
        list(stacks.apply_stack(engine, parsed, stack, owner, LOG))  # no wait, as docker's --detach
    except UserError as error:
        return str(error), True
    except PluginError as error:  # an engine error where docker had none is a difference too
        return f"{type(error).__name__}: {error}", False
    return None, True


def deploy_when_ports_free(engine: Engine, path: Path, stack: str,
                           owner: dict[str, str]) -> tuple[str | None, bool]:
    """our_deploy, again (with backoff, 15 s at most) while the Swarm still holds a published
    port of docker's stack, just removed: the allocator frees ports after the removal returns."""
    pause, deadline = 0.5, time.monotonic() + 15
    while True:
        error, clear = our_deploy(engine, path, stack, owner)
        if (error is None or "is already in use by service" not in error
            or time.monotonic() > deadline):
            return error, clear
        stacks.remove_stack(engine, owner, LOG)
        time.sleep(pause)
        pause *= 2


def live_specs(stack: str) -> dict[str, dict[str, Any]]:
    client = docker_client()
    try:
        networks = {n["Id"]: n["Name"] for n in client.api.networks()}
        found = client.api.services(filters={"label": f"{NAMESPACE}={stack}"})
        return {s["Spec"]["Name"][len(stack) + 1:]: normalize(s["Spec"], stack, networks)
                for s in found}
    finally:
        client.close()


OURS = set(ownership_labels("x", "y"))


def sort_file_references(container: dict[str, Any]) -> None:
    """Secrets and configs in one order: docker sorts them by the object's name only, after a Go
    map walk, so two targets of one secret come in either order from run to run."""
    for kind in ("Secrets", "Configs"):
        if container.get(kind):
            container[kind] = sorted(container[kind], key=lambda r: (
                r.get(kind[:-1] + "Name", ""), (r.get("File") or {}).get("Name", "")))


def normalize(spec: dict[str, Any], stack: str, networks: dict[str, str]) -> dict[str, Any]:
    """The spec with the stack's name as STACK, object ids out, our ownership labels out."""
    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()
                    if k not in OURS and k not in ("SecretID", "ConfigID")}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, str):
            return value.replace(f"{stack}_", "STACK_").replace(f"={stack}", "=STACK") \
                if not value == stack else "STACK"
        return value
    spec = scrub(spec)
    task = spec.get("TaskTemplate", {})
    for network in task.get("Networks") or []:
        network["Target"] = scrub(networks.get(network["Target"], network["Target"]))
    task["Networks"] = sorted(task.get("Networks") or [], key=lambda n: n["Target"])
    sort_file_references(task.get("ContainerSpec") or {})
    for mount in (task.get("ContainerSpec") or {}).get("Mounts") or []:
        options = mount.get("VolumeOptions")
        # DELIBERATE: an anonymous volume carries our ownership labels (taken out above; they
        # let uninstall and the leak check find it), where docker gives it no VolumeOptions
        if options is not None and not mount.get("Source") and options.get("Labels") == {}:
            options.pop("Labels")
            if not options:
                mount.pop("VolumeOptions")
    return spec


def differences(ours: Any, theirs: Any, path: str = "") -> list[str]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return [d for key in sorted(set(ours) | set(theirs), key=str)
                for d in differences(ours.get(key), theirs.get(key), f"{path}.{key}")]
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [d for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
                for d in differences(a, b, f"{path}[{i}]")]
    if ours != theirs and not (ours in (None, {}, []) and theirs in (None, {}, [])):
        return [f"{path}: ours {ours!r}, docker's {theirs!r}"]
    return []


def stack_left(stack: str) -> list[str]:
    client = docker_client()
    try:
        filters = {"label": f"{NAMESPACE}={stack}"}
        return [f"service/{s['Spec']['Name']}" for s in client.api.services(filters=filters)] + \
            [f"network/{n['Name']}" for n in client.api.networks(filters=filters)]
    finally:
        client.close()


def remove_docker_stack(stack: str) -> None:
    subprocess.run(["docker", "stack", "rm", stack], capture_output=True, text=True, timeout=120)

    def left() -> list[str]:
        found = stack_left(stack)
        if found and all(item.startswith("network/") for item in found):
            # docker stack rm tries a network once: one whose containers had not gone yet stays
            for item in found:
                subprocess.run(["docker", "network", "rm", item.split("/", 1)[1]],
                               capture_output=True, text=True, timeout=60, check=False)
        return found
    wait_gone(left, timeout=120)


def external_networks(path: Path) -> list[str]:
    """The external networks a file names (the test makes them, so both deploys find them)."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return []
    networks = (data.get("networks") if isinstance(data, dict) else None) or {}
    if not isinstance(networks, dict) or not str(data.get("version", "3")).startswith("3"):
        return []
    found = []
    for key, value in networks.items():
        external = (value or {}).get("external") if isinstance(value, dict) else None
        if external:
            named = external.get("name") if isinstance(external, dict) else None
            found.append(str(value.get("name") or named or key))
    return found


def compare_file(engine: Engine, path: Path, deployment: str) -> tuple[bool, bool, list[str],
                                                                       str | None]:
    """(docker accepts, we accept, problems, our error). One stack at a time: both publish the
    same ports."""
    tag = uuid.uuid4().hex[:6]
    theirs, ours = f"dk{tag}", f"us{tag}"
    owner = ownership_labels(deployment, f"stack_{tag}")
    client = docker_client()
    made = [client.networks.create(name, driver="overlay",
                                   labels=ownership_labels(deployment, "external"))
            for name in external_networks(path)
            if not client.networks.list(names=[name])]
    try:
        try:
            docker = docker_deploy(path, theirs)
            docker_specs = live_specs(theirs)
        finally:
            remove_docker_stack(theirs)
        try:
            our_error, clear = deploy_when_ports_free(engine, path, ours, owner)
            specs = live_specs(ours)
        finally:
            stacks.remove_stack(engine, owner, LOG)
    finally:
        for network in made:
            network.remove()
        client.close()
    if docker.returncode != 0:
        if our_error is None:
            return False, True, [f"docker refuses it ({docker.stderr.strip()[-300:]}), we accept "
                                 "it"], None
        if not clear or f"({path.name})" not in our_error:
            return False, False, [f"docker refuses it, we fail with no clear error (a UserError "
                                  f"naming the file): {our_error}"], our_error
        return False, False, [], our_error
    if our_error is not None:
        return True, False, [f"docker accepts it, we refuse it: {our_error}"], our_error
    if set(specs) != set(docker_specs):
        return True, True, [f"services: ours {sorted(specs)}, docker's "
                            f"{sorted(docker_specs)}"], None
    return True, True, [f"{name}{d}" for name in sorted(specs)
                        for d in differences(specs[name], docker_specs[name])], None


def test_real_compose_files_deploy_as_docker_stack_deploy_does(no_leftovers: str) -> None:
    folder = corpus_folder()
    files = [folder / line for line in (folder / "files.txt").read_text().split()]
    assert len(files) >= MIN_FILES
    engine = Engine(docker_client())
    results: dict[str, tuple[bool, bool, list[str]]] = {}
    try:
        for path in files:
            results[str(path.relative_to(folder))] = compare_file(engine, path, no_leftovers)[:3]
    finally:
        engine.close()
    docker_ok = [f for f, (d, _, _) in results.items() if d]
    ours_ok = [f for f, (_, o, _) in results.items() if o]
    identical = [f for f, (d, o, p) in results.items() if d and o and not p]
    print(f"\ncompose corpus: {len(files)} files; docker accepts {len(docker_ok)}, "
          f"we accept {len(ours_ok)}, identical specs {len(identical)}")
    for name in docker_ok:
        print(f"  accepted by docker: {name}{'' if name in identical else ' (DIFFERENT)'}")
    # the record: one line per file (docker accepts, we accept, identical), beside the corpus
    (folder / "results.txt").write_text("".join(
        f"{'yes' if d else 'no '} {'yes' if o else 'no '} {'yes' if f in identical else 'no '} "
        f"{f}\n"
        for f, (d, o, _) in results.items()))
    problems = [f"{name}: {p}" for name, (_, _, found) in results.items() for p in found]
    assert not problems, "\n".join(problems)
    assert docker_ok, "docker accepted none of the corpus: the comparison compared nothing"


def test_every_compose_key_deploys_as_docker_stack_deploy_does(no_leftovers: str) -> None:
    """Our own file (compose_keys/): each key the corpus leaves out, in each form docker takes."""
    engine = Engine(docker_client())
    try:
        docker_ok, ours_ok, problems, _ = compare_file(engine, KEYS_FILE, no_leftovers)
    finally:
        engine.close()
    assert docker_ok, "docker refused compose_keys/docker-compose.yml: the file itself is wrong"
    assert ours_ok and not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PARITY_FILES, ids=lambda p: p.stem)
def test_parity_files_deploy_as_docker_stack_deploy_does(path: Path, no_leftovers: str) -> None:
    """compose_parity/: each file accepted by docker deploys identically; each refused by docker
    (its `# refused at: KEY` line says) is refused by us with a UserError naming the file
    (compare_file checks) and that key path."""
    engine = Engine(docker_client())
    try:
        docker_ok, ours_ok, problems, our_error = compare_file(engine, path, no_leftovers)
    finally:
        engine.close()
    assert not problems, "\n".join(problems)
    expected = re.search(r"^# refused at: (\S+)$", path.read_text(), re.M)
    assert docker_ok is (expected is None), (f"docker {'accepts' if docker_ok else 'refuses'} "
                                             f"{path.name}")
    if expected:
        assert f"({path.name}).{expected.group(1)}: " in (our_error or ""), our_error
